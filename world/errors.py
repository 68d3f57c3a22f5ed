"""The one error type for bad user or data input, so the command line can print it on one line."""

from __future__ import annotations

from typing import Any


class InputError(Exception):
    """Bad input: names where it came from, the field, the value and what is allowed.

    The command line prints ``str(error)`` as a single line and exits with status 2.
    """

    def __init__(self, source: str, field: str, value: Any, allowed: str) -> None:
        self.source = source
        self.field = field
        self.value = value
        self.allowed = allowed
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{source}: {field} = {shown}: {allowed}")
