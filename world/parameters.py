"""The model's free parameters, read from ``data/parameters.toml`` (value, range, unit, source).

The data file is the single list of parameters: code reads them as attributes
(``params.detection_base``), and a scenario may override any of them inside its documented range.
The values of the fitted parameters come from ``data/fitted.toml``, which ``chipwar calibrate``
rewrites whole; parameters.toml, with its comments and sources, is written by hand only.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from chipwar.world.errors import InputError


@dataclass(frozen=True)
class ParameterSpec:
    """One row of the parameter table."""

    name: str
    value: float
    min: float
    max: float
    unit: str
    source: str


@cache
def parameter_table() -> dict[str, ParameterSpec]:
    """The shipped parameter table, checked once (value inside its own range)."""
    data = files("chipwar.world") / "data"
    return build_parameter_table(
        tomllib.loads((data / "parameters.toml").read_text("utf-8")),
        tomllib.loads((data / "fitted.toml").read_text("utf-8"))["values"],
    )


def build_parameter_table(
    rows: Mapping[str, Mapping[str, Any]], fitted: Mapping[str, float]
) -> dict[str, ParameterSpec]:
    """parameters.toml's rows with the fitted values over their own (a fitted parameter needs no
    ``value`` row of its own); InputError for a value outside its range or missing."""
    unknown = sorted(set(fitted) - set(rows))
    if unknown:
        raise InputError("fitted.toml", unknown[0], fitted[unknown[0]], "a parameters.toml name")
    table = {}
    for name, row in rows.items():
        value = fitted.get(name, row.get("value"))
        if value is None:
            raise InputError("parameters.toml", name, None, "a value here or in fitted.toml")
        spec = ParameterSpec(
            name, float(value), float(row["min"]), float(row["max"]), row["unit"], row["source"]
        )
        if not spec.min <= spec.value <= spec.max:
            where = "fitted.toml" if name in fitted else "parameters.toml"
            raise InputError(where, name, spec.value, f"in [{spec.min}, {spec.max}]")
        table[name] = spec
    return table


class Parameters(Mapping[str, float]):
    """Immutable parameter values: the shipped defaults with validated overrides."""

    __slots__ = ("_values",)

    def __init__(self, overrides: Mapping[str, Any] | None = None, source: str = "params") -> None:
        table = parameter_table()
        values = {name: spec.value for name, spec in table.items()}
        for name, value in (overrides or {}).items():
            spec = table.get(name)
            if spec is None:
                raise InputError(
                    source, f"params.{name}", name, "a known parameter (see `chipwar scenarios -v`)"
                )
            allowed = f"a number in [{spec.min:g}, {spec.max:g}] ({spec.unit})"
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(source, f"params.{name}", value, allowed)
            number = float(value)
            if not math.isfinite(number) or not spec.min <= number <= spec.max:
                raise InputError(source, f"params.{name}", value, allowed)
            values[name] = number
        object.__setattr__(self, "_values", values)

    def __getattr__(self, name: str) -> float:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no model parameter named {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Parameters are immutable; pass overrides instead")

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def changed(self) -> dict[str, float]:
        """Only the values that differ from the shipped defaults."""
        table = parameter_table()
        return {k: v for k, v in self._values.items() if v != table[k].value}
