"""A tiny document model rendered to markdown and to HTML, and the one markdown-table builder.

Why: a turn report is read in three places (a markdown file, a browser, the dashboard), and
writing it once as blocks keeps the two renderings identical in content without a markdown
library. Inline markup is limited to `code` and **bold**.

Every markdown table chipwar writes (reports, briefs, comparisons, analyses, calibration) comes
from :func:`md_table`, or :func:`md_frame` for a DataFrame.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

_INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*")


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Paragraph:
    text: str


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool] | None = None  # right-align these columns


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Image:
    src: str  # file name beside the document
    alt: str


Block = Heading | Paragraph | Table | Bullets | Image


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> Document:
        self.blocks.extend(blocks)
        return self

    def to_markdown(self) -> str:
        out = [f"# {self.title}"]
        for block in self.blocks:
            if isinstance(block, Heading):
                out.append(f"{'#' * block.level} {block.text}")
            elif isinstance(block, Paragraph):
                out.append(block.text)
            elif isinstance(block, Table):
                out.append(md_table(block.headers, block.rows, block.numeric).rstrip("\n"))
            elif isinstance(block, Bullets):
                out.append("\n".join(f"- {item}" for item in block.items))
            else:
                out.append(f"![{block.alt}]({block.src})")
        return "\n\n".join(out) + "\n"

    def to_html(self, images: Mapping[str, bytes] | None = None) -> str:
        """A standalone HTML page; ``images`` (name -> PNG bytes) are embedded if given."""
        body = [f"<h1>{_inline(self.title)}</h1>"]
        for block in self.blocks:
            if isinstance(block, Heading):
                body.append(f"<h{block.level}>{_inline(block.text)}</h{block.level}>")
            elif isinstance(block, Paragraph):
                body.append(f"<p>{_inline(block.text)}</p>")
            elif isinstance(block, Table):
                numeric = block.numeric or [False] * len(block.headers)
                head = "".join(f"<th>{_inline(h)}</th>" for h in block.headers)
                rows = "".join(
                    "<tr>"
                    + "".join(
                        f'<td class="num">{_inline(c)}</td>' if n else f"<td>{_inline(c)}</td>"
                        for c, n in zip(row, numeric, strict=False)
                    )
                    + "</tr>"
                    for row in block.rows
                )
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
            elif isinstance(block, Bullets):
                items = "".join(f"<li>{_inline(i)}</li>" for i in block.items)
                body.append(f"<ul>{items}</ul>")
            else:
                src = html.escape(block.src)
                if images and block.src in images:
                    src = "data:image/png;base64," + base64.b64encode(images[block.src]).decode()
                body.append(f'<figure><img src="{src}" alt="{html.escape(block.alt)}"></figure>')
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body)
            + "\n</body></html>\n"
        )


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "color:#222;line-height:1.45}table{border-collapse:collapse;margin:.5rem 0 1rem}"
    "th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}"
    "img{max-width:100%}code{background:#f4f4f4;padding:0 .2rem}"
)


def _inline(text: str) -> str:
    out, pos = [], 0
    for match in _INLINE.finditer(text):
        out.append(html.escape(text[pos : match.start()]))
        code, bold = match.groups()
        out.append(f"<code>{html.escape(code)}</code>" if code else f"<b>{html.escape(bold)}</b>")
        pos = match.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def md_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool] | None = None
) -> str:
    """A pipe table; cells have their pipes escaped."""
    numeric = list(numeric or [False] * len(headers))

    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |"]
    lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def md_frame(
    frame: pd.DataFrame,
    *,
    index: str | None = None,
    right: bool = False,
    cell: Callable[[Any], str] = str,
) -> str:
    """A DataFrame as a pipe table (:func:`md_table`).

    ``index``: the header of a first column holding the frame's index (no such column if None);
    ``right``: right-align the value columns; ``cell``: how a value is written.
    """
    headers = [str(c) for c in frame.columns]
    numeric = [right] * len(headers)
    rows = [[cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    if index is not None:
        headers, numeric = [index, *headers], [False, *numeric]
        rows = [[str(i), *row] for i, row in zip(frame.index, rows, strict=True)]
    return md_table(headers, rows, numeric)
