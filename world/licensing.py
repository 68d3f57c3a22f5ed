"""Licence rules for chip sales to China as data (``data/licensing.toml``): product, fee, caps.

The lever ``us.china_chip_sales`` says how much of China's orders US licensing approves; this file
says what China may order (the licensable product and its H100e rating), at what price, what share
of approved orders Beijing lets its buyers place, and the volume cap of the rule in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from chipwar.world.calendar import parse_month
from chipwar.world.validation import read_toml


@dataclass(frozen=True)
class Product:
    name: str
    h100e: float  # H100e per chip, by dense 16-bit compute
    price_markup: float  # China's price per H100e over the list price per H100e


@dataclass(frozen=True)
class LicenceRule:
    month: int  # months since 2024-01 from which the rule applies
    product: Product
    fee: float
    volume_cap: float  # China's volume at most this multiple of US sales of the product (0: none)
    cn_uptake: float
    label: str


@cache
def licence_rules() -> tuple[LicenceRule, ...]:
    """The shipped rules in date order, checked (shares in [0, 1], ratings and markups > 0)."""
    raw = read_toml(str(files("chipwar.world") / "data" / "licensing.toml"), "licensing.toml")
    products = {
        name: Product(name, float(row["h100e"]), float(row["price_markup"]))
        for name, row in raw["products"].items()
    }
    start = parse_month("2024-01")
    rules = []
    for row in raw["rule"]:
        rule = LicenceRule(
            parse_month(row["date"]) - start,
            products[row["product"]],
            float(row["fee"]),
            float(row["volume_cap"]),
            float(row["cn_uptake"]),
            row["label"],
        )
        if not (0 <= rule.fee < 1 and 0 <= rule.cn_uptake <= 1 and rule.volume_cap >= 0):
            raise ValueError(f"licensing.toml rule {row['date']}: fee, uptake or cap out of range")
        if rule.product.h100e <= 0 or rule.product.price_markup <= 0:
            raise ValueError(f"licensing.toml product {rule.product.name}: rating and markup > 0")
        rules.append(rule)
    rules.sort(key=lambda r: r.month)
    if not rules or rules[0].month > 0:
        raise ValueError("licensing.toml: the first rule must apply from 2024-01")
    return tuple(rules)


def rule_at(months: int) -> LicenceRule:
    """The rule in force in month ``months`` (months since 2024-01)."""
    current = licence_rules()[0]
    for rule in licence_rules():
        if rule.month <= months:
            current = rule
    return current
