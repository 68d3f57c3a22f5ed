"""ChipWarModel: the one place where the world's components and the agents are wired together."""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from chipwar.agents.buyer import FIXED_STACK, Buyer
from chipwar.agents.lab import Lab
from chipwar.agents.players import make_players
from chipwar.agents.smuggling import SmugglingNetwork, enter_networks
from chipwar.agents.state import State
from chipwar.world.adoption import AdoptionConfig, AdoptionField
from chipwar.world.alignment import BEIJING, WASHINGTON
from chipwar.world.appeal import StackAppeal
from chipwar.world.calendar import format_month, parse_month
from chipwar.world.capability import CapabilityRace
from chipwar.world.countries import REGIONS, CountryTable, load_countries
from chipwar.world.doctrines import Personality, resolve_player
from chipwar.world.errors import InputError
from chipwar.world.ledger import ComputeLedger
from chipwar.world.levers import parse_lever_key
from chipwar.world.market import ALLY_ISOS, ChipMarket
from chipwar.world.observation import Decision, Observation, observe
from chipwar.world.parameters import parameter_table
from chipwar.world.policy import PolicySchedule, ScheduledChange
from chipwar.world.power import KW_PER_GW
from chipwar.world.reporters import (
    COUNTRY_COLUMNS,
    MODEL_COLUMNS,
    country_reporters,
    model_reporters,
)
from chipwar.world.roles import ALL_ROLE_IDS
from chipwar.world.scenario import Scenario, load_scenario, with_overrides
from chipwar.world.shocks import ShockProcess, shock_table
from chipwar.world.stacks import STACK_CN, STACK_NONE, STACK_US

if TYPE_CHECKING:
    import pandas as pd

LAB_COUNT = 3
PRESENCE_SHARE = 0.02  # share of a country's adopters on a stack that counts as a presence
EARTH_RADIUS_KM = 6371.0


class ChipWarCollector(mesa.DataCollector):
    """Mesa's DataCollector, with the Buyers' rows (the per-country table) read for every
    country at once by world/reporters.py ``country_reporters`` instead of agent by agent.

    The records keep Mesa's shape (step, agent id, values), so ``get_agenttype_vars_dataframe``
    and ``mesa.batch_run`` see the same rows as before; collecting them agent by agent took a
    fifth of a run's time.
    """

    def _record_agenttype(self, model: mesa.Model, agent_type: type) -> Any:
        if agent_type is not Buyer:
            return super()._record_agenttype(model, agent_type)
        columns = [read(model) for read in self.agenttype_reporters[Buyer].values()]
        ids = [buyer.unique_id for buyer in model.buyers]  # type: ignore[attr-defined]
        values = [c.tolist() if isinstance(c, np.ndarray) else list(c) for c in columns]
        return zip([model.time] * len(ids), ids, *values, strict=True)


class ChipWarModel(mesa.Model):
    """The US-China contest over AI compute, one month per step.

    ``ChipWarModel(preset="porous", rng=7, scale=100_000, us_enforcement=0.8)``: a preset name,
    a scenario file path or a Scenario, then flat overrides of levers (``us_enforcement``),
    parameters (``detection_base``) and shocks (``shocks_rate_scale``, ``shocks_enabled``).
    Works with ``mesa.batch_run``.

    Lever overrides, like the scenario's own levers, take effect at the branch date; before it the
    real policy timeline drives the levers (use a scenario with ``history = false`` to apply them
    from the first month).

    Code outside ``world/`` and ``agents/`` uses only the names in :attr:`OUTSIDE_API`: it
    observes through :meth:`observe` (and the run tables), acts through :meth:`schedule_change`,
    and never reads the ledger, the market or an agent (tests/test_architecture.py checks this).
    """

    OUTSIDE_API = frozenset(
        {
            # observing
            "observe",
            "series_table",
            "country_table",
            "event_log",
            "lever_value",
            "date",
            "months",
            "start_month",
            "end_month",
            "running",
            "spec",
            "countries",
            # acting
            "step",
            "run_model",
            "schedule_change",
            "seat_players",
            "clone",
            "reseed",
        }
    )

    def __init__(
        self,
        preset: str | Path | Scenario = "current-policy",
        *,
        rng: Any = None,
        scale: int | None = None,
        until: str | None = None,
        **overrides: float,
    ) -> None:
        super().__init__(rng=rng)
        self.spec = resolve_scenario(preset, scale, overrides)
        self.params = self.spec.parameters()
        self.countries: CountryTable = load_countries()
        self.start_month = parse_month(self.spec.start)
        self.end_month = parse_month(until) if until else parse_month(self.spec.end)
        if not self.start_month <= self.end_month <= parse_month(self.spec.end):
            raise InputError(
                "--until", "until", until, f"a month in {self.spec.start}..{self.spec.end}"
            )
        self.months = 0  # months since the start; the month being simulated
        self.events: list[dict[str, Any]] = []
        self.month_events_start = 0  # index into events of the current month's first event
        self.month_decisions: list[Decision] = []  # governments' reviews in the current month
        self.schedule = PolicySchedule.for_scenario(self.spec)
        self.levers = self.spec.levers.model_copy(deep=True)

        self.ledger = ComputeLedger(len(self.countries), self.countries.index("CHN"))
        self.market = ChipMarket(self.countries, self.params, self.ledger)
        self.race = CapabilityRace(self.params, self.market.power)
        self.appeal = StackAppeal(self.countries, self.params)
        self.side_index = {"us": self.countries.index("USA"), "cn": self.countries.index("CHN")}
        self._apply_settings(self.schedule.initial, "initial levers")
        self.shocks = ShockProcess(
            self.spec.shocks,
            shock_table(),
            first_month=parse_month(self.spec.branch) - self.start_month,
            seed_sequence=self._seed_sequence(),
        )
        self._place_initial_stocks()
        self._create_agents()
        self.adoption = self._build_adoption_field()
        self.adoption_shares = self.adoption.shares()
        self.metrics: dict[str, Any] = {}
        self.datacollector = ChipWarCollector(
            model_reporters=model_reporters(), agenttype_reporters={Buyer: country_reporters()}
        )
        # Roles played by a doctrine (agents/players.py); their views are seeded by the run's
        # seed (Mesa's: the integer given, else one it drew), like a wargame session's briefs.
        self.player_seed = int(self._seed)
        self.players = make_players(self, self.spec, self.player_seed)

    # --- one month
    def step(self) -> None:
        """Players, policy, trade, diversion, labs, governments, adopters, then the books are
        closed."""
        self._begin_month()
        self.agents_by_type[State].do("step")
        self.market.produce_and_export(self.months)
        self._activate(SmugglingNetwork, shuffle=True)
        enter_networks(self)
        self.market.record_grey_supply(self.ledger.smuggled_month)
        self._activate_labs()
        self._choose_official_stacks()
        self._update_adoption()
        self._close_month()
        if self.players is not None:
            self.players.record(self)

    @property
    def date(self) -> str:
        return format_month(self.start_month + self.months)

    def _begin_month(self) -> None:
        self.month_events_start = len(self.events)
        self.month_decisions = []
        self.ledger.begin_month(self.market.power.kw_per_h100e(self.months))
        self.race.begin_month()
        if self.players is not None:
            self.players.play(self)  # a turn's moves join this month's scheduled changes
        for change in self.schedule.due(self.start_month + self.months):
            self._apply_settings(change.settings, change.label)
            self.record_event(
                "policy", change.label, origin=change.origin, settings=change.settings
            )
        self.shocks.begin_month(self)

    def _activate(self, agent_type: type[mesa.Agent], shuffle: bool = False) -> None:
        agents = self.agents_by_type.get(agent_type)
        if agents:
            agents.shuffle_do("step") if shuffle else agents.do("step")

    def _activate_labs(self) -> None:
        """US labs first (they set distillation detection), then Chinese labs copy and train."""
        labs = self.agents_by_type[Lab]
        labs.select(lambda lab: lab.side == "us").do("step")
        labs.select(lambda lab: lab.side == "cn").do("step")

    def _choose_official_stacks(self) -> None:
        lead = self.race.capability["us"] - self.race.capability["cn"]
        self.appeal.update(lead, self.levers, self.months)
        self.agents_by_type[Buyer].do("step")

    def _update_adoption(self) -> None:
        official = np.array([b.official for b in self.buyers], dtype=np.int8)
        self.adoption.step(self.appeal.adopter_utility, official, self.months)
        self.adoption_shares = self.adoption.shares()

    def _close_month(self) -> None:
        self.ledger.age(self.params.hardware_life_months)
        self.ledger.check()
        self.race.close_month()
        self._measure()
        self.datacollector.collect(self)
        self.months += 1
        if self.start_month + self.months > self.end_month:
            self.running = False

    # --- observing (for code outside world/ and agents/)
    def observe(self) -> Observation:
        """A read-only snapshot of the month just simulated (see world/observation.py)."""
        return observe(self)

    def series_table(self) -> pd.DataFrame:
        """The model-level series so far, one row per month (columns: world/reporters.py)."""
        frame = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        return frame[list(MODEL_COLUMNS)]

    def country_table(self) -> pd.DataFrame:
        """The per-country table so far, one row per country and month."""
        frame = self.datacollector.get_agenttype_vars_dataframe(Buyer).reset_index(drop=True)
        return frame[list(COUNTRY_COLUMNS)]

    def event_log(self) -> list[dict[str, Any]]:
        """Every event since the start, in order (copies)."""
        return copy.deepcopy(self.events)

    def lever_value(self, key: str) -> float:
        """A lever's (``us.kyc``) or hub regime's (``hub.MYS``) value as the coming month begins.

        That is the value in force now, updated by the changes already scheduled for the coming
        month (for example the end of an action taken last turn), in the order they will apply.
        """
        lever = parse_lever_key(key)
        if lever.is_hub:
            value = float(self.market.hub_base_enforcement[self.countries.index(lever.name)])
        else:
            value = self.levers.get(lever.text)
        coming = self.start_month + self.months
        for change in self.schedule.changes:
            if change.month == coming and key in change.settings:
                value = float(change.settings[key])
        return value

    def leading_labs(self) -> dict[str, Lab]:
        """The most capable lab of each side (the first of equals), for metrics and observation."""
        labs = list(self.agents_by_type.get(Lab, []))
        leaders = {}
        for side in ("us", "cn"):
            own = [lab for lab in labs if lab.side == side]
            if own:
                leaders[side] = max(own, key=lambda lab: lab.capability)
        return leaders

    # --- actions available to the outside (wargame moves, the dashboard, tests)
    def schedule_change(
        self, settings: dict[str, float], label: str, months_ahead: int = 0, origin: str = "move"
    ) -> None:
        """Queue lever changes for a coming month (0 = the next month simulated); ``origin`` is
        what the policy event says made them (a wargame ``move``, a ``player``)."""
        month = self.start_month + self.months + months_ahead
        self.schedule.add(ScheduledChange(month, settings, label, origin))

    def seat_players(
        self,
        players: Mapping[str, str | Personality],
        history: Sequence[Observation],
        turn_months: int,
        first_turn: int = 1,
        table: Sequence[str] | None = None,
        intel: Mapping[str, float] | None = None,
    ) -> None:
        """From the coming month on, ``players`` (role -> personality) play their roles inside
        the model, a turn every ``turn_months`` months, the first (numbered ``first_turn``) now.

        For a copy of a live wargame model whose bots should keep reacting (the outlook):
        ``history`` is the monthly snapshots so far (a session's records), ``table`` the roles
        at the table, ``intel`` their intelligence efforts; the views are seeded by the run's
        seed, as the session's briefs are, until ``reseed`` changes it. Replaces any players.
        """
        from chipwar.agents.players import PlayerTable

        for role in players:
            if role not in ALL_ROLE_IDS:
                raise InputError("seat_players", "role", role, "one of " + ", ".join(ALL_ROLE_IDS))
        doctrines = self.spec.doctrines
        chosen = {role: resolve_player(value, doctrines) for role, value in players.items()}
        if self.players is not None:
            for player in self.players.players:
                player.remove()
        self.players = PlayerTable(
            self,
            self.player_seed,
            chosen,
            turn_months,
            self.start_month + self.months,
            first_turn,
            history,
            table,
            intel,
        )

    def clone(self) -> ChipWarModel:
        """A deep in-memory copy (never written to disk); parameters are immutable and shared."""
        return copy.deepcopy(self, {id(self.params): self.params})

    def reseed(self, seed_sequence: np.random.SeedSequence) -> None:
        """Reseed the model's generators in place (agent sets keep their references to them).

        The adopters' counter-based stream is not reseeded: only the draws of busts, network
        entry, governments' reviews and shocks change.
        """
        generator = type(self.rng.bit_generator)(seed_sequence)
        self.rng.bit_generator.state = generator.state
        stdlib_seed, player_seed = (int(x) for x in seed_sequence.generate_state(2, np.uint64))
        self.random.setstate(random.Random(stdlib_seed).getstate())
        self.player_seed = player_seed >> 1  # the players' estimation errors change too
        if self.players is not None:
            self.players.seed = self.player_seed
        self.shocks.reseed(seed_sequence)

    def _seed_sequence(self) -> np.random.SeedSequence:
        """The run's seed sequence (that of ``model.rng``): the shocks' streams derive from it."""
        seed_sequence = self.rng.bit_generator.seed_seq
        if isinstance(seed_sequence, np.random.SeedSequence):
            return seed_sequence
        return np.random.SeedSequence(self._seed)  # a generator built without one

    # --- for agents
    def record_event(self, kind: str, text: str, **details: Any) -> None:
        self.events.append({"date": self.date, "kind": kind, "text": text, **details})

    def record_decision(self, decision: Decision) -> None:
        """A government's review of its stack, with the terms it weighed (agents/buyer.py)."""
        self.month_decisions.append(decision)

    def networks_per_hub(self) -> dict[int, int]:
        """Networks by the hub they operate from (a server-level network: its transit point)."""
        counts: dict[int, int] = {}
        for network in self.agents_by_type.get(SmugglingNetwork, []):
            where = network.hub if network.transit is None else network.transit
            counts[where] = counts.get(where, 0) + 1
        return counts

    @property
    def buyers(self) -> list[Buyer]:
        return self._buyers

    # --- set-up
    def _apply_settings(self, settings: dict[str, float], label: str) -> None:
        for key, value in settings.items():
            lever = parse_lever_key(key, source=label)
            if lever.is_hub:
                self.market.set_base_enforcement(self.countries.index(lever.name), value)
            else:
                self.levers.set(lever.text, value, source=label)

    def _place_initial_stocks(self) -> None:
        p, ledger = self.params, self.ledger
        us, cn = self.side_index["us"], self.side_index["cn"]
        kw = p.initial_kw_per_h100e
        ledger.produce(us, p.initial_stock_us, kw=kw)
        ledger.produce(cn, p.initial_stock_cn, "initial", kw=kw)
        gdp = self.countries.gdp_usd_m.astype(float).copy()
        gdp[[us, cn]] = 0.0
        for index in np.flatnonzero(gdp):
            ledger.produce(int(index), p.initial_stock_rest * gdp[index] / gdp.sum(), kw=kw)

    def _create_agents(self) -> None:
        p = self.params
        State(self, "us", "USA")
        State(self, "china", "CHN")
        for iso in ALLY_ISOS:
            State(self, "allies", iso)
        lead_share = {"us": p.frontier_lab_share, "cn": p.frontier_lab_share_cn}
        for side, label in (("us", "US"), ("cn", "Chinese")):
            for k in range(LAB_COUNT):
                share = lead_share[side] * p.lab_share_decay**k
                Lab(self, f"{label} lab {k + 1}", side, share)
        # Until the first month settles them (Buyer.step), governments that choose are hedged.
        self._buyers = [
            Buyer(self, i, FIXED_STACK.get(iso, STACK_NONE))
            for i, iso in enumerate(self.countries.iso)
        ]
        market = self.market
        for hub in market.smuggling_hubs:
            SmugglingNetwork(self, int(hub), p.network_capacity_chips)
        for transit in market.transit_hubs:
            if len(market.front_hubs):
                front = int(market.front_hubs[0])
                SmugglingNetwork(
                    self, front, p.server_network_capacity_chips, "server", int(transit)
                )

    def _build_adoption_field(self) -> AdoptionField:
        p, c = self.params, self.countries
        size = np.power(c.population.astype(float), p.adopter_population_exponent) * np.power(
            c.gdp_usd_m.astype(float) * 1e6, 1.0 - p.adopter_population_exponent
        )
        sizes = np.maximum(
            np.rint(self.spec.scale * size / size.sum()), p.adopters_min_per_country
        ).astype(np.int64)
        config = AdoptionConfig(
            within_links=int(p.within_links),
            cross_links=int(p.cross_links),
            revision_rate=p.revision_rate,
            neighbour_weight=p.neighbour_weight,
            official_weight=p.official_weight,
            switching_cost=p.switching_cost,
            heterogeneity_sd=p.heterogeneity_sd,
        )
        return AdoptionField(sizes, self._link_weights(), self._initial_shares(), config, self.rng)

    def _link_weights(self) -> np.ndarray:
        """Gravity-style cross-border ties: partner GDP, decaying with distance, within region."""
        p, c = self.params, self.countries
        lon, lat = np.radians(c.lon.astype(float)), np.radians(c.lat.astype(float))
        dlat = lat[:, None] - lat[None, :]
        dlon = lon[:, None] - lon[None, :]
        a = (
            np.sin(dlat / 2) ** 2
            + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
        )
        distance = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
        same_region = c.region_index[:, None] == c.region_index[None, :]
        weights = c.gdp_usd_m.astype(float)[None, :] * np.exp(-distance / p.link_distance_km)
        weights *= np.where(same_region, p.link_same_region_boost, 1.0)
        np.fill_diagonal(weights, 0.0)
        return weights

    def _initial_shares(self) -> np.ndarray:
        p, c = self.params, self.countries
        # Chinese AI-surveillance presence in 2024: a reported Chinese supplier, or AI surveillance
        # in use (AIGS 2019) in a Belt and Road country (36 of the 63 AIGS countries were BRI).
        present = c.cn_surveillance_supplier | (c.ai_surveillance_2019 & c.bri_member)
        cn_fraction = np.where(present, p.initial_cn_supplier, p.initial_cn_base)
        cn_fraction[self.side_index["cn"]] = 1.0 - p.initial_cn_base
        cn_fraction[self.side_index["us"]] = 0.0
        shares = np.empty((len(c), 3))
        shares[:, STACK_NONE] = 1.0 - p.initial_adoption
        shares[:, STACK_CN] = p.initial_adoption * cn_fraction
        shares[:, STACK_US] = p.initial_adoption * (1.0 - cn_fraction)
        return shares

    # --- measurement
    def _measure(self) -> None:
        """Compute this month's model-level metrics once; reporters read them from here."""
        ledger, c, market = self.ledger, self.countries, self.market
        us, cn = self.side_index["us"], self.side_index["cn"]
        offshore = market.offshore_available()
        compute_us = float(ledger.held[us])
        compute_cn = float(ledger.held[cn]) * market.usable_share(self.months) + offshore
        previous = self.metrics
        counts = self.adoption.counts().astype(float)
        shares = self.adoption_shares
        networks = list(self.agents_by_type.get(SmugglingNetwork, []))
        official = np.array([b.official for b in self.buyers])
        # Foreign governments: China, Hong Kong and Macao are one side, not its clients.
        others = ~np.isin(c.iso, BEIJING)
        not_us = ~np.isin(c.iso, WASHINGTON)
        leader = self.leading_labs()["cn"]
        draw_gw = market.bloc_draw_kw() / KW_PER_GW
        blocs = market.power.index
        licensed = float(ledger.legal_imports[cn])
        metrics: dict[str, Any] = {
            "date": self.date,
            "compute_us_h100e": compute_us,
            "compute_cn_h100e": compute_cn,
            "compute_gap": compute_us / compute_cn if compute_cn > 0 else float("inf"),
            "compute_world_h100e": float(ledger.held.sum()),
            "power_us_gw": float(draw_gw[blocs["us"]]),
            "power_cn_gw": float(draw_gw[blocs["china"]]),
            "capability_us": self.race.capability["us"],
            "capability_cn": self.race.capability["cn"],
            "lead_months": self.race.lead_months(),
            "smuggled_h100e": ledger.smuggled_month,
            "smuggled_h100e_cum": previous.get("smuggled_h100e_cum", 0.0) + ledger.smuggled_month,
            "seized_h100e_cum": ledger.seized,
            "offshore_h100e": offshore,
            "distill_gain": leader.distill_bonus,
            "networks_active": len(networks),
            "networks_server": sum(n.route == "server" for n in networks),
            "largest_network_usd": max((n.capacity_usd for n in networks), default=0.0),
            "grey_premium": market.premium,
            "cn_unmet_h100e": market.unmet_h100e,
            "us_output_h100e": market.us_output_month,
            "cn_domestic_output_h100e": market.cn_domestic_month,
            "licensed_h100e": licensed,
            "licensed_h100e_cum": previous.get("licensed_h100e_cum", 0.0) + licensed,
            "cn_acquired_h100e": market.cn_domestic_month + licensed + ledger.smuggled_month,
            "frontier_run_flop_us": self.race.frontier_run_flop["us"],
            "largest_run_flop": max(self.race.frontier_run_flop.values()),
            "largest_cluster_gw": self.race.site_gw["us"],
            "countries_cn_presence": int(((shares[:, STACK_CN] >= PRESENCE_SHARE) & others).sum()),
            "countries_cn_majority": int(
                ((counts[:, STACK_CN] > counts[:, STACK_US]) & others).sum()
            ),
            "pop_cn_stack": int(c.population[(official == STACK_CN) & others].sum()),
            "countries_official_cn": int(((official == STACK_CN) & others).sum()),
            "countries_official_us": int(((official == STACK_US) & not_us).sum()),
        }
        for r, region in enumerate(REGIONS):
            in_region = counts[c.region_index == r].sum(axis=0)
            total = in_region.sum()
            metrics[f"cn_share_{region}"] = in_region[STACK_CN] / total if total else 0.0
            metrics[f"us_share_{region}"] = in_region[STACK_US] / total if total else 0.0
        self.metrics = metrics


def resolve_scenario(
    preset: str | Path | Scenario, scale: int | None, overrides: dict[str, Any]
) -> Scenario:
    """A Scenario from a preset name, file path or object, with flat keyword overrides applied."""
    scenario = preset if isinstance(preset, Scenario) else load_scenario(preset)
    assignments: dict[str, float] = {}
    table = parameter_table()
    for key, value in overrides.items():
        try:
            lever = parse_lever_key(key, source="ChipWarModel", hubs=False, spelling="kwarg")
        except InputError:
            lever = None
        if lever is not None:
            assignments[lever.text] = value
        elif key in table:
            assignments[f"params.{key}"] = value
        elif key.startswith("shocks_"):
            assignments[f"shocks.{key.removeprefix('shocks_')}"] = value
        else:
            raise InputError(
                "ChipWarModel",
                key,
                value,
                "a lever such as us_enforcement, a parameter name or shocks_rate_scale",
            )
    if scale is not None:
        assignments["scale"] = scale
    return with_overrides(scenario, assignments, source="ChipWarModel") if assignments else scenario
