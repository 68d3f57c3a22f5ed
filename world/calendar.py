"""Months as the model's clock: one step is one calendar month, written "YYYY-MM"."""

from __future__ import annotations

import re
from functools import cache

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> int:
    """Turn "YYYY-MM" into a month number (year * 12 + month - 1); ValueError if malformed."""
    match = _MONTH.match(str(text).strip())
    if not match:
        raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not 1900 <= year <= 2200:
        raise ValueError(f"expected a month as YYYY-MM with month 01-12, got {text!r}")
    return year * 12 + month - 1


@cache  # called for every reporter row; a pure function of the month number
def format_month(number: int) -> str:
    """Inverse of :func:`parse_month`."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def months_between(start: str, end: str) -> int:
    """Number of monthly steps from ``start`` to ``end`` inclusive."""
    return parse_month(end) - parse_month(start) + 1
