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


class OutputError(InputError, OSError):
    """An output file could not be written (a full disk, a read-only folder): exit status 2.

    Raised by the atomic writers, which leave the file as it was. Also an OSError, so code that
    handles failed writes as OSError keeps working.
    """

    def __init__(self, path: Any, err: OSError) -> None:
        reason = err.strerror or str(err) or type(err).__name__
        super().__init__(
            str(path),
            "write",
            reason,
            "a writable folder with free space (files written before are intact)",
        )
        self.errno = err.errno
        self.strerror = reason
        self.filename = str(path)

    def __str__(self) -> str:  # the one line, not OSError's "[Errno N] ..."
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:  # crosses process boundaries (sweep workers)
        return (type(self), (self.filename, OSError(self.errno, self.strerror)))
