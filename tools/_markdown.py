"""A Markdown table from a DataFrame without optional dependencies (pandas needs `tabulate`)."""

from __future__ import annotations

import pandas as pd


def markdown(frame: pd.DataFrame, digits: int = 2) -> str:
    """Pipe table; floats rounded to ``digits`` places."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.{digits}f}"
        return str(value)

    lines = ["| " + " | ".join(str(c) for c in frame.columns) + " |"]
    lines.append("|" + "---|" * len(frame.columns))
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines)
