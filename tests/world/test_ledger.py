"""The compute ledger conserves compute under any sequence of operations."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipwar.world.ledger import ComputeLedger, LedgerError

amounts = st.floats(0.0, 1e7, allow_nan=False)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("produce"), st.integers(0, 4), amounts),
        st.tuples(st.just("export"), st.integers(0, 4), st.integers(0, 4), amounts),
        st.tuples(st.just("divert"), st.integers(0, 4), amounts),
        st.tuples(st.just("deliver"), amounts),
        st.tuples(st.just("seize"), amounts, st.integers(0, 4)),
        st.tuples(st.just("earmark"), st.integers(0, 4), amounts),
        st.tuples(st.just("age"), st.floats(1.0, 100.0)),
    ),
    max_size=60,
)


@given(operations)
def test_any_sequence_of_operations_conserves_compute(ops):
    ledger = ComputeLedger(5, cn_index=1)
    for op in ops:
        match op:
            case ("produce", owner, amount):
                ledger.produce(owner, amount)
            case ("export", origin, destination, amount):
                ledger.export(origin, destination, amount)
            case ("divert", hub, amount):
                ledger.divert(hub, amount)
            case ("deliver", amount):
                ledger.deliver_smuggled(amount)
            case ("seize", amount, hub):
                ledger.seize(amount, hub)
            case ("earmark", host, amount):
                ledger.earmark_offshore(host, amount)
            case ("age", life):
                ledger.age(life)
        ledger.check()
        assert (ledger.held >= -1e-6).all()
        assert (ledger.offshore_for_cn <= ledger.held + 1e-6).all()


def test_flows_move_compute_between_states():
    ledger = ComputeLedger(3, cn_index=1)
    ledger.produce(0, 1000.0)
    assert ledger.export(0, 2, 400.0) == 400.0
    assert ledger.divert(2, 100.0) == 100.0
    ledger.deliver_smuggled(60.0)
    ledger.seize(40.0, 2)
    assert ledger.held.tolist() == [600.0, 60.0, 300.0]
    assert ledger.cn_by_source["smuggled"] == 60.0
    assert ledger.seized == 40.0 and ledger.in_transit == 0.0
    ledger.age(50.0)
    assert math.isclose(ledger.retired, 960.0 / 50.0)
    ledger.check()


def test_cannot_export_more_than_held_or_negative_amounts():
    ledger = ComputeLedger(2, cn_index=1)
    ledger.produce(0, 10.0)
    assert ledger.export(0, 1, 50.0) == 10.0
    with pytest.raises(LedgerError):
        ledger.produce(0, -1.0)
    with pytest.raises(LedgerError):
        ledger.export(0, 1, float("nan"))


def test_check_detects_created_compute():
    ledger = ComputeLedger(2, cn_index=1)
    ledger.produce(0, 10.0)
    ledger.held[0] += 1.0  # a bug elsewhere
    with pytest.raises(LedgerError, match="not conserved"):
        ledger.check()


def test_the_months_inflow_to_china_and_its_ageing_are_counted_as_they_happen():
    ledger = ComputeLedger(3, cn_index=1)
    ledger.produce(1, 500.0, "initial")
    ledger.begin_month()  # the initial stock is not part of the first month's inflow
    ledger.produce(0, 1000.0)
    ledger.produce(1, 80.0, "domestic")
    ledger.export(0, 1, 30.0)
    ledger.export(0, 2, 400.0)
    ledger.divert(2, 100.0)
    ledger.deliver_smuggled(60.0)
    ledger.seize(25.0, 2)
    ledger.age(10.0)
    expected = {"initial": 0.0, "domestic": 80.0, "licensed": 30.0, "smuggled": 60.0}
    assert ledger.cn_inflow == expected
    assert math.isclose(ledger.cn_retired_month, (500.0 + 80.0 + 30.0 + 60.0) / 10.0)
    assert ledger.seized_at.tolist() == [0.0, 0.0, 25.0] and ledger.seized_month == 25.0
    ledger.begin_month()
    assert sum(ledger.cn_inflow.values()) == 0.0 and ledger.cn_retired_month == 0.0
    assert ledger.seized_at.sum() == 0.0
