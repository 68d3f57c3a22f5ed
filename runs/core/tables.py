"""Plain-text and markdown tables of headline metrics, for the terminal and for reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from chipwar.runs.core.run_folder import BAND_QUANTILES, summary_dates
from chipwar.runs.core.textdoc import md_frame

TABLE_METRICS = {
    "compute_gap": ("compute gap (US/CN)", "{:.1f}x"),
    "lead_months": ("US lead (months)", "{:.1f}"),
    "smuggled_h100e_cum": ("smuggled since 2024 (H100e)", "{:,.0f}"),
    "seized_h100e_cum": ("seized since 2024 (H100e)", "{:,.0f}"),
    "offshore_h100e": ("rented offshore (H100e)", "{:,.0f}"),
    "distill_gain": ("distillation gain (log10)", "{:.3f}"),
    "countries_cn_majority": ("countries, CN-majority adopters", "{:.0f}"),
    "countries_official_cn": ("countries, official CN stack", "{:.0f}"),
    "pop_cn_stack": ("people under official CN stack", "{:,.0f}"),
}


def summary_frame(runs: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows: metric at date (2028-12, 2030-12, or the last month); columns: scenario."""
    rows: dict[str, dict[str, str]] = {}
    last = max(series["date"].iloc[-1] for series in runs.values())
    dates = summary_dates(last)
    for date in dates:
        for metric, (label, fmt) in TABLE_METRICS.items():
            row = rows.setdefault(f"{label} @ {date}", {})
            for name, series in runs.items():
                hit = series[series["date"] == date]
                row[name] = fmt.format(hit.iloc[0][metric]) if not hit.empty else "-"
    frame = pd.DataFrame.from_dict(rows, orient="index")
    return frame[(frame != "-").any(axis=1)]


def summary_table(runs: Mapping[str, pd.DataFrame]) -> str:
    return summary_frame(runs).to_string()


def summary_markdown(runs: Mapping[str, pd.DataFrame]) -> str:
    return metric_markdown(summary_frame(runs))


def metric_markdown(frame: pd.DataFrame) -> str:
    """A table of formatted metrics (rows ``label @ date``, one column per scenario)."""
    return md_frame(frame, index="metric", right=True)


def bands_frame(bands: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Rows: metric at date (summary.json's ``"bands"`` dates); columns: (scenario, p10 / p50 /
    p90), formatted. ``bands``: scenario name -> its summary.json ``"bands"`` object."""
    rows: dict[str, dict[tuple[str, str], str]] = {}
    for name, by_date in bands.items():
        for date, metrics in by_date.items():
            for metric, (label, fmt) in TABLE_METRICS.items():
                band = metrics.get(metric)
                if band is None:
                    continue
                row = rows.setdefault(f"{label} @ {date}", {})
                for quantile in BAND_QUANTILES:
                    value = band.get(quantile)
                    row[(name, quantile)] = "-" if value is None else fmt.format(value)
    frame = pd.DataFrame.from_dict(rows, orient="index")
    if not frame.empty:
        frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame.fillna("-")


def bands_table(bands: Mapping[str, Mapping[str, Any]]) -> str:
    """The bands for the terminal: one column group per scenario."""
    return bands_frame(bands).to_string()


def bands_markdown(bands: Mapping[str, Mapping[str, Any]]) -> str:
    """The bands as a markdown table (columns ``scenario p10`` and so on)."""
    frame = bands_frame(bands)
    frame.columns = [f"{name} {quantile}" for name, quantile in frame.columns]
    return metric_markdown(frame)
