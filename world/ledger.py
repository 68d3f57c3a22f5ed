"""The compute ledger: every H100e produced is held, in transit, seized or retired.

Holdings are kept per country (index into the country table). China's holdings are also split by
where they came from, so that a turn's change can be explained, and the month's gross inflow to
China by source and what aged out of China's holdings are recorded as they happen (the one place
these flows are counted; readers get them through ``ChipWarModel.observe()``). Conservation
(produced = held + in transit + seized + retired) is checked by :meth:`ComputeLedger.check`.

Each holding also carries the power it draws (kW, all-in): chips enter at the kW per H100e of their
vintage and age out with it, so a holder's draw falls behind its H100e as hardware gets more
efficient. Chips moved in a month (exports, diversion, deliveries) are that month's chips and move
at this month's intensity (``begin_month``).
"""

from __future__ import annotations

import numpy as np

CN_SOURCES = ("initial", "domestic", "licensed", "smuggled")


class LedgerError(RuntimeError):
    """A bookkeeping invariant broke: a bug, never bad user input."""


class ComputeLedger:
    """Stocks and flows of AI compute, in H100-equivalents."""

    def __init__(self, n_countries: int, cn_index: int) -> None:
        self.held = np.zeros(n_countries)
        self.draw_kw = np.zeros(n_countries)  # power drawn by each holding, kW all-in
        self.kw_new = 1.0  # kW per H100e of this month's chips
        self.offshore_for_cn = np.zeros(n_countries)  # part of `held` built for Chinese clients
        self.cn_index = cn_index
        self.cn_by_source = dict.fromkeys(CN_SOURCES, 0.0)
        self.in_transit = 0.0
        self.produced = 0.0
        self.seized = 0.0
        self.retired = 0.0
        # Flows of the current month, reset by begin_month().
        self.legal_imports = np.zeros(n_countries)
        self.diverted = np.zeros(n_countries)
        self.seized_at = np.zeros(n_countries)  # seized this month, by the hub of the bust
        self.smuggled_month = 0.0
        self.seized_month = 0.0
        self.cn_inflow = dict.fromkeys(CN_SOURCES, 0.0)  # gross inflow to China, by source
        self.cn_retired_month = 0.0  # China's holdings aged out this month

    def begin_month(self, kw_new: float = 1.0) -> None:
        self.kw_new = _non_negative(kw_new, "kw_new")
        self.legal_imports[:] = 0.0
        self.diverted[:] = 0.0
        self.seized_at[:] = 0.0
        self.smuggled_month = 0.0
        self.seized_month = 0.0
        self.cn_inflow = dict.fromkeys(CN_SOURCES, 0.0)
        self.cn_retired_month = 0.0

    def produce(
        self, owner: int, amount: float, cn_source: str = "domestic", kw: float | None = None
    ) -> None:
        """New compute enters the world at its owner (an initial stock counts as produced).

        ``kw`` is its kW per H100e (this month's chips unless given).
        """
        amount = _non_negative(amount, "produce")
        self.produced += amount
        self.held[owner] += amount
        self.draw_kw[owner] += amount * (self.kw_new if kw is None else _non_negative(kw, "kw"))
        if owner == self.cn_index:
            self.cn_by_source[cn_source] += amount
            self.cn_inflow[cn_source] += amount

    def export(self, origin: int, destination: int, amount: float) -> float:
        """A licensed sale; returns the amount actually moved (never more than the origin holds)."""
        amount = self._take(origin, _non_negative(amount, "export"))
        self.held[destination] += amount
        self.draw_kw[destination] += amount * self.kw_new
        self.legal_imports[destination] += amount
        if destination == self.cn_index:
            self.cn_by_source["licensed"] += amount
            self.cn_inflow["licensed"] += amount
        return amount

    def earmark_offshore(self, host: int, amount: float) -> None:
        """Mark part of a host's holdings as data-centre capacity built for Chinese clients."""
        free = self.held[host] - self.offshore_for_cn[host]
        self.offshore_for_cn[host] += min(_non_negative(amount, "earmark"), free)

    def divert(self, hub: int, amount: float) -> float:
        """Chips leave a hub's holdings into smugglers' hands; returns the amount taken."""
        amount = self._take(hub, _non_negative(amount, "divert"))
        self.in_transit += amount
        self.diverted[hub] += amount
        return amount

    def _take(self, index: int, amount: float) -> float:
        """Remove up to ``amount`` of a holder's free (not earmarked) compute; return it."""
        free = max(self.held[index] - self.offshore_for_cn[index], 0.0)
        amount = min(amount, free)
        if index == self.cn_index and self.held[index] > 0.0:
            keep = 1.0 - amount / self.held[index]
            for source in self.cn_by_source:
                self.cn_by_source[source] *= keep
        self.held[index] -= amount
        self.draw_kw[index] = max(self.draw_kw[index] - amount * self.kw_new, 0.0)
        if self.held[index] <= 0.0:
            self.draw_kw[index] = 0.0
        return amount

    def deliver_smuggled(self, amount: float) -> None:
        amount = min(_non_negative(amount, "deliver"), self.in_transit)
        self.in_transit -= amount
        self.held[self.cn_index] += amount
        self.draw_kw[self.cn_index] += amount * self.kw_new
        self.cn_by_source["smuggled"] += amount
        self.cn_inflow["smuggled"] += amount
        self.smuggled_month += amount

    def seize(self, amount: float, hub: int) -> None:
        """Cargo in transit is seized in a bust at ``hub``."""
        amount = min(_non_negative(amount, "seize"), self.in_transit)
        self.in_transit -= amount
        self.seized += amount
        self.seized_month += amount
        self.seized_at[hub] += amount

    def age(self, life_months: float) -> None:
        """Retire 1/life of every holding this month (geometric ageing)."""
        rate = 1.0 / life_months
        self.retired += rate * float(self.held.sum())
        self.cn_retired_month += rate * float(self.held[self.cn_index])
        self.held *= 1.0 - rate
        self.draw_kw *= 1.0 - rate
        self.offshore_for_cn *= 1.0 - rate
        for source in self.cn_by_source:
            self.cn_by_source[source] *= 1.0 - rate

    def total_accounted(self) -> float:
        return float(self.held.sum()) + self.in_transit + self.seized + self.retired

    def check(self) -> None:
        """Raise LedgerError if compute was created or lost, or a stock went negative."""
        gap = abs(self.produced - self.total_accounted())
        if gap > 1e-9 * max(self.produced, 1.0):
            raise LedgerError(f"compute not conserved: off by {gap:.6g} H100e")
        if (self.held < -1e-6).any() or self.in_transit < -1e-6 or (self.draw_kw < 0).any():
            raise LedgerError("negative compute stock or power draw")
        cn_total = sum(self.cn_by_source.values())
        if abs(cn_total - self.held[self.cn_index]) > 1e-9 * max(cn_total, 1.0):
            raise LedgerError("China's holdings by source do not add up")


def _non_negative(amount: float, what: str) -> float:
    if not amount >= 0.0:  # also catches NaN
        raise LedgerError(f"{what}: amount must be >= 0, got {amount}")
    return float(amount)
