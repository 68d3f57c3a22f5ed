"""The doctrine tournament: payoff tables, their analysis, the report and its files."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from ensemble_helpers import write_ensemble

from chipwar.runs.cli.main import main
from chipwar.runs.experiments import payoffs
from chipwar.runs.experiments import tournament as t
from chipwar.world.ensemble import load_ensemble
from chipwar.world.errors import InputError
from chipwar.world.scenario import load_scenario, with_players

DOCTRINES = ("hawk", "pragmatist", "dove")


def synthetic_table(us: np.ndarray, china: np.ndarray, names=DOCTRINES, shuffle: int | None = None):
    """A payoffs table of given samples (draws, m, n), rows in tournament order or shuffled."""
    rows = []
    for i, j, d in itertools.product(range(us.shape[1]), range(us.shape[2]), range(us.shape[0])):
        rows.append(
            {
                "us_doctrine": names[i],
                "china_doctrine": names[j],
                "draw": d,
                "member": d % 3,
                "seed": 1000 + d,
                "lead_months": float(us[d, i, j]),
                "us_payoff": float(us[d, i, j]),
                "china_payoff": float(china[d, i, j]),
            }
        )
    table = pd.DataFrame(rows)
    if shuffle is not None:
        table = table.sample(frac=1.0, random_state=shuffle)
        first = table.drop_duplicates("us_doctrine")  # keep the doctrine order of first rows
        order = {n: k for k, n in enumerate(names)}
        table = table.sort_values(
            ["us_doctrine", "china_doctrine"], key=lambda c: c.map(order), kind="stable"
        )
        assert len(first) == us.shape[1]
    return table.reset_index(drop=True)


def info(members: int = 4, seed: int = 5) -> t.TournamentInfo:
    return t.TournamentInfo(
        "current-policy", "2028-12", seed, members, DOCTRINES, DOCTRINES, payoff=("a note",)
    )


def test_payoff_arrays_invert_the_table_in_any_row_order():
    rng = np.random.default_rng(0)
    us, china = rng.normal(size=(4, 3, 3)), rng.normal(size=(4, 3, 3))
    for table in (synthetic_table(us, china), synthetic_table(us, china, shuffle=1)):
        got_us, got_china, us_names, china_names = t.payoff_arrays(table)
        np.testing.assert_array_equal(got_us, us)
        np.testing.assert_array_equal(got_china, china)
        assert us_names == china_names == DOCTRINES


def test_incomplete_or_duplicated_tables_are_refused():
    table = synthetic_table(np.zeros((2, 3, 3)), np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="misses"):
        t.payoff_arrays(table.iloc[1:])
    with pytest.raises(ValueError, match="twice"):
        t.payoff_arrays(pd.concat([table, table.iloc[:1]]).reset_index(drop=True))


def test_report_of_a_prisoners_dilemma_names_its_equilibrium_and_shares(tmp_path):
    # US and China as prisoners: hawk defects, dove cooperates; pragmatist is dominated.
    pd_us = np.array([[1.0, 1.5, 5.0], [0.5, 0.5, 4.0], [0.0, 0.2, 3.0]])
    rng = np.random.default_rng(1)
    noise = rng.normal(scale=0.05, size=(6, 3, 3))
    table = synthetic_table(pd_us + noise, pd_us.T + noise.transpose(0, 2, 1))
    g = t.write_tournament(tmp_path, table, info(6), ["lead_months"])
    assert g.equilibria == [(0, 0)]
    text = (tmp_path / "report.md").read_text()
    assert "1 pure-strategy Nash equilibrium: **US hawk, China hawk**" in text
    assert "| hawk | hawk | yes | 0.00 | 100% | 100% |" in text
    assert "![payoff heatmaps](payoffs.png)" in text and "- a note" in text
    assert (tmp_path / "payoffs.png").read_bytes().startswith(b"\x89PNG")
    stored = pq.read_table(tmp_path / "payoffs.parquet")
    assert b"chipwar.tournament" in stored.schema.metadata
    pd.testing.assert_frame_equal(stored.to_pandas(), table)


def test_matching_pennies_has_no_pure_equilibrium_and_says_so(tmp_path):
    us = np.array([[1.0, -1.0], [-1.0, 1.0]])
    table = synthetic_table(np.stack([us] * 3), np.stack([-us] * 3), names=("heads", "tails"))
    names = ("heads", "tails")
    pennies = t.TournamentInfo("s", "2028-12", 0, 3, names, names, bootstrap=20)
    g = t.write_tournament(tmp_path, table, pennies, ["lead_months"])
    assert g.equilibria == []
    text = (tmp_path / "report.md").read_text()
    assert "no pure-strategy Nash equilibrium" in text and "regret 2.00" in text


def test_the_same_table_and_seed_write_the_same_bytes(tmp_path):
    rng = np.random.default_rng(2)
    table = synthetic_table(rng.normal(size=(5, 3, 3)), rng.normal(size=(5, 3, 3)))
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        t.write_tournament(tmp_path / folder, table, info(5), ["lead_months"])
    for name in (t.PAYOFFS, t.REPORT, t.CHART):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


# --- payoffs -------------------------------------------------------------------------------------
def _series(months: list[str]) -> pd.DataFrame:
    n = len(months)
    return pd.DataFrame(
        {
            "date": months,
            "lead_months": np.linspace(10, 12, n),
            "compute_gap": np.full(n, 8.0),
            "countries_official_us": np.full(n, 150),
            "countries_official_cn": np.full(n, 20),
            "licensed_h100e": np.full(n, 100_000.0),
            "smuggled_h100e": np.full(n, 50_000.0),
            "grey_premium": np.full(n, 0.5),
            "seized_h100e_cum": np.arange(n) * 1_000.0,
        }
    )


def test_components_count_costs_from_the_branch_and_outcomes_at_the_horizon():
    months = ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]
    series = _series(months)
    levers = pd.DataFrame({"date": months[2:], **{k: [0.6, 0.6, 0.6] for k in payoffs.COST_LEVERS}})
    c = payoffs.measure(series, levers, branch="2026-06", horizon="2026-07")
    assert c["lead_months"] == series["lead_months"].iloc[3] and c["log2_gap"] == 3.0
    assert (c["govs_us"], c["govs_cn"]) == (150.0, 20.0)
    assert c["sales_mh100e"] == pytest.approx(0.2)  # 2026-06 and 2026-07 only
    assert c["premium_mh100e"] == pytest.approx(0.05)  # 2 x 50,000 x 0.5
    assert c["seized_mh100e"] == pytest.approx(0.002)  # from 1,000 (2026-05) to 3,000
    assert c["enforcement_years"] == pytest.approx(1.2 / 12)
    us, _ = payoffs.payoffs(c, payoffs.Weights())
    w = payoffs.Weights()
    assert us == pytest.approx(
        c["lead_months"]
        + w.gap * 3
        + 0.25 * 150
        - w.enforcement * 0.1
        - w.promotion * 0.1
        + w.sales * 0.2
    )
    with pytest.raises(ValueError, match="horizon"):
        payoffs.measure(series, levers, branch="2026-06", horizon="2027-01")


def test_weights_file_replaces_some_weights(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text("lead = 2.0\nsales = 0\n")
    w = payoffs.load_weights(str(path))
    assert (w.lead, w.sales, w.gap) == (2.0, 0.0, payoffs.Weights().gap)
    assert "2 x lead_months" in w.describe()[0]


@pytest.mark.parametrize(
    "text, needle",
    [
        ("leed = 1.0\n", "leed"),
        ("lead = -1.0\n", ">= 0"),
        ('lead = "1"\n', "a number"),
        ("lead = true\n", "a number"),
        ("lead = nan\n", "finite"),
        ("", "empty"),
    ],
)
def test_bad_weights_are_one_line_errors(tmp_path, text, needle):
    path = tmp_path / "w.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=needle) as caught:
        payoffs.load_weights(str(path))
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


# --- the command line ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--members", "0"], "--members"),
        (["--members", "x"], "--members"),
        (["--seed", "-1"], "--seed"),
        (["--until", "2025-12"], "branch date 2026-06"),
        (["--until", "2031-01"], "2030-12"),
        (["--until", "soon"], "YYYY-MM"),
        (["--scale", "10"], "scale"),
        (["--weights", "{missing}"], "missing.toml"),
        (["--ensemble", "{missing}"], "missing.toml"),
        (["--workers", "2", "--dask", "tcp://127.0.0.1:1"], "only with --dask local"),
    ],
)
def test_bad_tournament_input_gives_one_line_and_status_2(tmp_path, capsys, argv, needle):
    missing = str(tmp_path / "missing.toml")
    out = tmp_path / "X"
    argv = ["tournament", "--scenario", "current-policy", "--out", str(out)] + [
        a.format(missing=missing) for a in argv
    ]
    with pytest.raises(SystemExit) as caught:
        raise SystemExit(main(argv))
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err, err
    assert not out.exists()


def test_unknown_scenario_is_refused(tmp_path, capsys):
    assert main(["tournament", "--scenario", "atlantis", "--out", str(tmp_path / "X")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "atlantis" in err


def test_sensitivity_section_reanalyses_the_same_runs_under_other_weights(tmp_path):
    rng = np.random.default_rng(3)
    table = synthetic_table(np.zeros((4, 3, 3)), np.zeros((4, 3, 3)))
    for name in payoffs.COMPONENT_NAMES:
        table[name] = rng.uniform(0.5, 5.0, len(table))
    table = t.reweighted(table, payoffs.Weights())
    row = table.iloc[0]
    assert (row["us_payoff"], row["china_payoff"]) == payoffs.payoffs(row, payoffs.Weights())
    others = [(label, t.reweighted(table, w)) for label, w in payoffs.variants(payoffs.Weights())]
    lead_only = dict(others)["lead only"]
    np.testing.assert_allclose(lead_only["us_payoff"], table["lead_months"])
    np.testing.assert_allclose(lead_only["china_payoff"], -table["lead_months"])
    g = t.write_tournament(tmp_path, table, info(4), payoffs.COMPONENT_NAMES, others[1:])
    text = (tmp_path / "report.md").read_text()
    section = text.split("## Sensitivity to the payoff weights")[1].split("## Payoff components")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + len(others)  # the header, then one row per weighting
    assert rows[1].startswith("| as defined |")
    for i, j in g.equilibria:
        assert f"{DOCTRINES[i]} / {DOCTRINES[j]} (" in rows[1]
    if not g.equilibria:
        assert rows[1].endswith("| none |")


# --- playing -------------------------------------------------------------------------------------
def test_strategies_are_the_personalities_and_the_scenarios_doctrines(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('name = "s"\n[doctrines.tough]\nlike = "hawk"\nstep = 0.25\n')
    assert t.doctrines_of(load_scenario(path)) == (*DOCTRINES, "tough")
    assert t.doctrines_of(load_scenario("current-policy")) == DOCTRINES


def test_draws_have_their_own_seeds_and_members(tmp_path):
    ensemble = load_ensemble(write_ensemble(tmp_path / "e.parquet", members=5))
    draws = t.plan_draws(ensemble.draw(4, seed=9), seed=9)
    assert [d.draw for d in draws] == [0, 1, 2, 3] and len({d.seed for d in draws}) == 4
    assert draws == t.plan_draws(ensemble.draw(4, seed=9), seed=9)


@pytest.mark.parametrize("history", [True, False])
def test_one_shared_history_gives_exactly_the_runs_of_each_pairing(tmp_path, history):
    """play_member runs a member's history once and seats each pairing on a copy of it: the
    components must be those of a fresh run per pairing (play), bit for bit."""
    ensemble = load_ensemble(write_ensemble(tmp_path / "e.parquet", members=3))
    member = ensemble.member(1)
    scenario = with_players(
        load_scenario("current-policy"),
        {"cn-labs": "hawk"},  # a role the scenario plays itself, in every pairing
        doctrines={"tough": {"like": "hawk", "step": 0.3}},
        turn_months=1,
    )
    scenario = scenario.model_copy(update={"scale": 1000, "history": history})
    us, china = ("hawk", "tough"), ("dove", "pragmatist")
    shared = t.play_member(scenario, us, china, member, seed=11, until="2026-07")
    fresh = [t.play(scenario, a, b, member, 11, "2026-07") for a in us for b in china]
    assert shared == fresh
    assert len({tuple(c.values()) for c in fresh}) == 4  # the doctrines did differ


@pytest.mark.slow
def test_a_small_tournament_gives_the_same_bytes_serial_and_on_a_pool(tmp_path, capsys):
    ensemble = write_ensemble(tmp_path / "e.parquet", members=6)
    argv = ["tournament", "--scenario", "current-policy", "--members", "2", "--seed", "4"]
    argv += ["--scale", "1000", "--until", "2026-07", "--ensemble-file", str(ensemble)]
    assert main([*argv, "--workers", "1", "--out", str(tmp_path / "a")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main([*argv, "--workers", "2", "--out", str(tmp_path / "b")]) == 0
    for name in (t.PAYOFFS, t.REPORT, t.CHART):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    table = pd.read_parquet(tmp_path / "a" / t.PAYOFFS)
    assert len(table) == 9 * 2 and set(table["draw"]) == {0, 1}
    assert table.groupby("draw")["seed"].nunique().eq(1).all()
    assert np.isfinite(table[["us_payoff", "china_payoff"]].to_numpy()).all()
    text = (tmp_path / "a" / t.REPORT).read_text()
    assert "## Payoff matrices" in text and "## Equilibria" in text
