"""Turn pydantic validation failures and unreadable files into one-line InputErrors."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chipwar.world.errors import InputError

MAX_INPUT_BYTES = 2_000_000
_NO_SETTINGS = "a TOML file with at least one setting"


def input_error_from(err: ValidationError, source: str) -> InputError:
    """The first problem of a pydantic error, as an InputError naming the field."""
    first = err.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(top level)"
    kind = first["type"]
    if kind == "extra_forbidden":
        allowed = "unknown key; remove it or check its spelling"
    elif kind == "missing":
        allowed = "required, but missing"
    else:
        allowed = str(first["msg"])
        allowed = allowed.removeprefix("Value error, ")
    return InputError(source, field, first.get("input"), allowed)


def read_toml(path: str | Path, source: str | None = None) -> dict[str, Any]:
    """Read a user's TOML file, refusing binary junk, bad UTF-8, huge files and files without a
    single setting (empty, blank or only comments) with InputError."""
    path = Path(path)
    label = source or str(path)
    try:
        info = path.stat()
    except OSError as err:
        raise InputError(label, "file", str(path), f"a readable file ({err.strerror})") from err
    if not stat.S_ISREG(info.st_mode):  # a folder, a FIFO or /dev/zero would hang or fail late
        raise InputError(label, "file", str(path), "a regular file (not a folder or a device)")
    if info.st_size > MAX_INPUT_BYTES:
        raise InputError(label, "file", f"{info.st_size} bytes", f"at most {MAX_INPUT_BYTES} bytes")
    try:
        with path.open("rb") as handle:  # capped: the file may grow after the size check
            raw = handle.read(MAX_INPUT_BYTES + 1)
        if len(raw) > MAX_INPUT_BYTES:
            raise InputError(label, "file", "more bytes", f"at most {MAX_INPUT_BYTES} bytes")
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(label, "file", f"byte {err.start}", "UTF-8 text") from err
    except OSError as err:
        raise InputError(label, "file", str(path), f"a readable file ({err.strerror})") from err
    if not text.strip():  # an empty file would silently mean "all defaults"
        raise InputError(label, "file", "empty" if not text else "only whitespace", _NO_SETTINGS)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(label, "TOML syntax", str(err).split(" (")[0], "valid TOML") from err
    except RecursionError:
        raise InputError(
            label, "TOML syntax", "nesting", "arrays and tables nested less deeply"
        ) from None
    if not data:
        raise InputError(label, "file", "only comments", _NO_SETTINGS)
    return data
