"""Wargame sessions: an event-sourced log of moves, replayed into a live model.

Why event sourcing: a session file holds only the scenario (fully resolved), the
seed and the ordered moves of every turn, so resume, undo and fork are all "replay the log", and
the same log gives the same outcome bit for bit. Bot moves are written into the log like human
moves, so a replay never re-runs a bot. The file is plain JSON with a schema version, validated
on load, written atomically, and sealed with a checksum: a corrupt or hand-edited file is refused
with one line, and the last good version is kept beside it (``NAME.json.good``).

The :class:`Session` class is the API that the command line (``chipwar wargame``) and the
browser page both drive: create, open, submit a move, advance, undo, fork, brief, report,
outlook, export. Each change is validated before anything is written, under a file lock, and
re-reads the file first if another process changed it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chipwar.runs.core.atomic import write_bytes_atomic as write_atomic
from chipwar.runs.wargame.roles import (
    ALL_ROLE_IDS,
    BLOC_PREFIX,
    CORE_ROLES,
    DEFAULT_INTEL,
    INTEL,
    Change,
    Role,
    build_roles,
    check_actions,
    check_role,
    normalise_settings,
    role_with_levers,
    turn_changes,
)
from chipwar.world.calendar import format_month, parse_month
from chipwar.world.countries import REGIONS
from chipwar.world.doctrines import DEFAULT_TURN_MONTHS
from chipwar.world.doctrines import PERSONALITIES as DOCTRINE_PERSONALITIES
from chipwar.world.errors import InputError
from chipwar.world.levers import lever_keys
from chipwar.world.model import ChipWarModel
from chipwar.world.observation import Observation
from chipwar.world.scenario import Month, Scenario, load_scenario, with_overrides
from chipwar.world.validation import input_error_from

if TYPE_CHECKING:
    from chipwar.runs.wargame.briefs import Brief
    from chipwar.runs.wargame.turn_report import TurnReport

FORMAT = "chipwar-wargame-session"
SCHEMA_VERSION = 1
MAX_SESSION_BYTES = 50_000_000
PERSONALITIES = tuple(DOCTRINE_PERSONALITIES)  # a seat's bot plays a built-in personality
Personality = Literal["hawk", "pragmatist", "dove"]
MAX_TURN_MONTHS = 24


# --- the file's schema
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Seat(_Strict):
    """Who plays a role: a human team, or a bot with a doctrine personality."""

    player: Literal["human", "bot"]
    personality: Personality = "pragmatist"


class Move(_Strict):
    """One role's move for one turn: lever settings (full keys) and discrete actions."""

    role: str
    set: dict[str, float] = Field(default_factory=dict)
    actions: list[str] = Field(default_factory=list)
    by: str = "human"  # "human" or "bot:<personality>"
    note: str = Field(default="", max_length=4000)


class Turn(_Strict):
    """An adjudicated turn: its moves in role order and a digest of its outcome."""

    number: int = Field(ge=1)
    start: Month
    months: int = Field(ge=1, le=MAX_TURN_MONTHS)
    moves: list[Move]
    carried: list[str] = Field(default_factory=list)  # human roles that did not move (--force)
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")


class SessionRecord(_Strict):
    """The whole session file: scenario, seed, seats, the log of turns and pending moves."""

    format: Literal["chipwar-wargame-session"] = FORMAT
    schema_version: int = SCHEMA_VERSION
    chipwar_version: str = ""
    name: str = Field(min_length=1, max_length=200)
    scenario: Scenario
    seed: int = Field(ge=0, lt=2**63)
    turn_months: int = Field(ge=1, le=MAX_TURN_MONTHS)
    start: Month
    end: Month
    roles: dict[str, Seat] = Field(min_length=1)
    turns: list[Turn] = Field(default_factory=list)
    pending: dict[str, Move] = Field(default_factory=dict)
    revision: int = Field(default=0, ge=0)
    checksum: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> SessionRecord:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {self.schema_version} is not supported by this chipwar "
                f"(it reads version {SCHEMA_VERSION})"
            )
        for role in self.roles:
            if role not in ALL_ROLE_IDS:
                raise ValueError(f"unknown role {role!r}; roles are {', '.join(ALL_ROLE_IDS)}")
        first, last = parse_month(self.start), parse_month(self.end)
        if not parse_month(self.scenario.start) < first <= last <= parse_month(self.scenario.end):
            raise ValueError(
                f"start {self.start} and end {self.end} must lie after the scenario's first month "
                f"and within {self.scenario.start}..{self.scenario.end}"
            )
        total = turn_count(first, last, self.turn_months)
        if len(self.turns) > total:
            raise ValueError(f"{len(self.turns)} turns recorded but the session has only {total}")
        for k, turn in enumerate(self.turns, start=1):
            start, months = turn_period(first, last, self.turn_months, k)
            if turn.number != k or parse_month(turn.start) != start or turn.months != months:
                raise ValueError(f"turn {k} does not follow the session's calendar")
            roles = [m.role for m in turn.moves]
            if len(set(roles)) != len(roles) or not set(roles) <= set(self.roles):
                bad = sorted({r for r in roles if roles.count(r) > 1 or r not in self.roles})
                raise ValueError(
                    f"turn {k}: moves must be by distinct roles of the session, "
                    f"not {', '.join(map(repr, bad))}"
                )
        for role, move in self.pending.items():
            if role not in self.roles or move.role != role:
                raise ValueError(f"pending move of {role!r} does not belong to a session role")
        if self.scenario.players:
            raise ValueError("the scenario has players: a session seats them as bots instead")
        return self

    def body(self) -> dict[str, Any]:
        """The record as plain JSON data without its checksum."""
        data = self.model_dump(mode="json")
        data.pop("checksum")
        return data


def turn_count(first: int, last: int, turn_months: int) -> int:
    return math.ceil((last - first + 1) / turn_months)


def turn_period(first: int, last: int, turn_months: int, number: int) -> tuple[int, int]:
    """(first month, length in months) of turn ``number`` (1-based); the last may be shorter."""
    start = first + (number - 1) * turn_months
    return start, min(turn_months, last - start + 1)


def checksum_of(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- storage: atomic writes, a lock, refusing corrupt or hand-edited files
def good_copy_path(path: Path) -> Path:
    return path.with_name(path.name + ".good")


def lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


OUTPUTS_STAMP = "outputs.json"  # in NAME.d/: the turn its files were last written for


def outputs_dir(path: Path) -> Path:
    """Folder for a session's reports and briefs: ``game.json`` -> ``game.d/``."""
    return path.with_suffix(".d")


@contextlib.contextmanager
def session_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on the session, so two commands never interleave their writes."""
    try:
        handle = open(lock_path(path), "a+")  # noqa: SIM115 -- held for the block
    except OSError as err:
        raise InputError(
            str(path), "session", str(path), f"a writable folder ({err.strerror})"
        ) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def record_bytes(record: SessionRecord) -> bytes:
    body = record.body()
    body["checksum"] = checksum_of(body)
    return (json.dumps(body, indent=1, allow_nan=False) + "\n").encode()


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete temporary files a killed writer left beside the session (``.game.json.*.tmp``).

    Only called with the session lock held: every writer writes under that lock, so any such file
    found then belongs to a process that died mid-write."""
    prefixes = (f".{path.name}.", f".{good_copy_path(path).name}.")
    removed = []
    for entry in path.parent.iterdir():
        if entry.name.startswith(prefixes) and entry.name.endswith(".tmp") and entry.is_file():
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def save_record(record: SessionRecord, path: Path) -> None:
    """Write the session and its ``.good`` twin (each atomically); sets ``record.checksum``.

    The caller holds the session lock."""
    remove_stale_temporaries(path)
    data = record_bytes(record)
    record.checksum = json.loads(data)["checksum"]
    write_atomic(path, data)
    write_atomic(good_copy_path(path), data)


def _refuse(path: Path, field: str, value: Any, allowed: str) -> InputError:
    good = good_copy_path(path)
    if good.is_file():
        allowed += f"; the last good version is kept at {good} (copy it back to continue)"
    return InputError(str(path), field, value, allowed)


def load_record(path: Path) -> SessionRecord:
    """Read, validate and check a session file; InputError (one line) if anything is off."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_SESSION_BYTES:
            raise _refuse(path, "file", f"{size} bytes", f"at most {MAX_SESSION_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(
            str(path), "session", str(path), f"a readable file ({err.strerror})"
        ) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise _refuse(path, "file", f"byte {err.start}", "UTF-8 JSON text") from None
    except json.JSONDecodeError as err:
        raise _refuse(path, "JSON", f"line {err.lineno} column {err.colno}", err.msg) from None
    except RecursionError:
        raise _refuse(path, "JSON", "nesting", "arrays and objects nested less deeply") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _refuse(path, "format", _short(data), f"a chipwar wargame session ({FORMAT})")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise _refuse(
            path,
            "schema_version",
            data.get("schema_version"),
            f"{SCHEMA_VERSION} (written by another version of chipwar)",
        )
    try:
        record = SessionRecord.model_validate(data, strict=True)
    except ValidationError as err:
        bad = input_error_from(err, str(path))
        raise _refuse(path, bad.field, bad.value, bad.allowed) from None
    expected = checksum_of(record.body())
    if record.checksum != expected:
        raise _refuse(
            path,
            "checksum",
            record.checksum[:12] or "(none)",
            "the checksum chipwar wrote; the file was changed outside chipwar (hand edits "
            "are refused: make changes with chipwar wargame commands)",
        )
    return record


def _short(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("format")
    return type(value).__name__


@dataclass
class TurnTrace:
    """Where a turn sits in the month records, and the lever changes its moves made.

    The month records are the model's own snapshots (world/observation.py), one per month.
    """

    number: int
    first: int  # index into Session.month_records of the turn's first month
    months: int
    moves: list[Move]
    changes: list[Change]
    carried: list[str]
    opening: dict[str, float]  # levers and hub regimes in force as the turn began

    @property
    def last(self) -> int:
        return self.first + self.months - 1


# --- the live session
class Session:
    """A wargame session: its record (the log) and the model state the log replays into.

    ``keep_checkpoint`` keeps an in-memory copy of the model from before the last turn so that
    undo needs no replay (the browser page wants this; a one-shot command does not).
    """

    def __init__(
        self,
        record: SessionRecord,
        path: Path | None = None,
        model: ChipWarModel | None = None,
        keep_checkpoint: bool = True,
    ) -> None:
        self.record = record
        self.path = Path(path) if path is not None else None
        self.keep_checkpoint = keep_checkpoint
        self.warnings: list[str] = []
        self._rebuild(model)

    # --- creating and opening
    @classmethod
    def new(
        cls,
        path: Path | None,
        scenario: str | Path | Scenario,
        *,
        seed: int = 0,
        turn_months: int = 6,
        humans: Sequence[str] = (),
        personality: str = "pragmatist",
        personalities: Mapping[str, str] | None = None,
        blocs: Sequence[str] = (),
        scale: int | None = None,
        start: str | None = None,
        until: str | None = None,
        overwrite: bool = False,
        keep_checkpoint: bool = True,
    ) -> Session:
        """Create a session (and its file, if ``path`` is given) and play the months before it.

        The session starts at the scenario's branch date (with the history phase) or one month
        after its start (without); ``humans`` are the roles human teams play, every other role
        is a bot with ``personality`` unless ``personalities`` names another.
        """
        source = "wargame new"
        if path is not None:
            path = _new_session_path(path, source, overwrite)
            if not path.parent.is_dir():
                raise InputError(source, "session", str(path), "a path in an existing folder")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise InputError(source, "seed", seed, "a whole number in [0, 2**63)")
        spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        if scale is not None:
            spec = with_overrides(spec, {"scale": scale}, source="--scale")
        spec, personalities = _players_as_bots(spec, humans, personalities or {})
        spec = spec.model_copy(update={"params": dict(spec.parameters())})
        if (
            isinstance(turn_months, bool)
            or not isinstance(turn_months, int)
            or not (1 <= turn_months <= MAX_TURN_MONTHS)
        ):
            raise InputError(
                source, "turn_months", turn_months, f"a whole number in 1..{MAX_TURN_MONTHS}"
            )
        first = _session_start(spec, start, source)
        last = _month_arg(until, "until", source) if until else parse_month(spec.end)
        if not first <= last <= parse_month(spec.end):
            raise InputError(
                source, "until", until, f"a month in {format_month(first)}..{spec.end}"
            )
        # Names first (every role id is known without a model), so a typo costs no model build.
        _check_seat_names(ALL_ROLE_IDS, humans, personality, personalities or {}, blocs)
        model = ChipWarModel(spec, rng=seed, until=format_month(last))
        roles = build_roles(model)
        seats = _seats(roles, humans, personality, personalities or {}, blocs, source)
        record = SessionRecord(
            chipwar_version=version("chipwar"),
            name=path.stem if path is not None else spec.name,
            scenario=spec,
            seed=seed,
            turn_months=turn_months,
            start=format_month(first),
            end=format_month(last),
            roles=seats,
        )
        session = cls(record, path, model=model, keep_checkpoint=keep_checkpoint)
        if path is not None:
            with session_lock(path):
                session._save()
        return session

    @classmethod
    def open(cls, path: Path, keep_checkpoint: bool = True) -> Session:
        """Load a session file and replay its log."""
        path = Path(path)
        if not path.is_file():
            raise InputError(str(path), "session", str(path), "an existing session file")
        with session_lock(path):
            record = load_record(path)
        return cls(record, path, keep_checkpoint=keep_checkpoint)

    def _rebuild(self, model: ChipWarModel | None = None) -> None:
        """Build the model from the scenario and seed, then replay every recorded turn."""
        r = self.record
        self.model = model or ChipWarModel(r.scenario, rng=r.seed, until=r.end)
        self.all_roles = build_roles(self.model)
        self.roles: dict[str, Role] = {}
        for role in r.roles:
            self.roles[role] = check_role(role, self.all_roles, f"{self._source} roles")
        self.month_records: list[Observation] = []
        self.traces: list[TurnTrace] = []
        self._checkpoint: ChipWarModel | None = None
        first = parse_month(r.start)
        while self.model.start_month + self.model.months < first:
            self._step_month()
        for turn in r.turns:
            digest = self._play(turn)
            if digest != turn.digest:
                self.warnings.append(
                    f"turn {turn.number} replays differently from when it was played "
                    f"(chipwar {r.chipwar_version or '?'} then, {version('chipwar')} now: the "
                    "model changed); the session continues from the replayed state"
                )

    @property
    def _source(self) -> str:
        return str(self.path) if self.path else f"session {self.record.name}"

    # --- calendar
    @property
    def first_month(self) -> int:
        return parse_month(self.record.start)

    @property
    def last_month(self) -> int:
        return parse_month(self.record.end)

    @property
    def total_turns(self) -> int:
        return turn_count(self.first_month, self.last_month, self.record.turn_months)

    @property
    def turns_played(self) -> int:
        return len(self.record.turns)

    @property
    def finished(self) -> bool:
        return self.turns_played >= self.total_turns

    @property
    def turn(self) -> int:
        """Number of the open turn (``total_turns + 1`` once the session has ended)."""
        return self.turns_played + 1

    def period(self, number: int | None = None) -> tuple[str, str, int]:
        """(first month, last month, months) of a turn (default: the open one)."""
        number = self.turn if number is None else number
        start, months = turn_period(
            self.first_month, self.last_month, self.record.turn_months, number
        )
        return format_month(start), format_month(start + months - 1), months

    def record_index(self, month: int) -> int:
        """Index into ``month_records`` of an absolute month number."""
        return month - self.model.start_month

    def seats(self) -> dict[str, Seat]:
        return dict(self.record.roles)

    def humans(self) -> list[str]:
        return [r for r, seat in self.record.roles.items() if seat.player == "human"]

    def intel(self, role: str, before_turn: int | None = None) -> float:
        """The intelligence effort a role last set in a turn before ``before_turn``."""
        before_turn = self.turn if before_turn is None else before_turn
        value = DEFAULT_INTEL
        for turn in self.record.turns[: before_turn - 1]:
            for move in turn.moves:
                if move.role == role and INTEL in move.set:
                    value = move.set[INTEL]
        return value

    # --- moves
    def check_move(
        self,
        role: str,
        settings: Mapping[str, object] | None = None,
        actions: Sequence[str] = (),
        note: str = "",
        by: str = "human",
        source: str | None = None,
    ) -> Move:
        """Validate a move for the open turn without recording it (InputError if invalid)."""
        source = source or f"move {role}"
        if self.finished:
            raise InputError(
                source,
                "turn",
                self.turn,
                f"a turn still to play: the session ended at {self.record.end} "
                "(undo, or fork an earlier turn, to play on)",
            )
        role_obj = check_role(role, self.roles, source)
        levers = normalise_settings(role_obj, settings or {}, self.all_roles, source)
        acts = check_actions(role_obj, actions, source)
        return Move(role=role, set=levers, actions=acts, by=by, note=note)

    def submit(
        self,
        role: str,
        settings: Mapping[str, object] | None = None,
        actions: Sequence[str] = (),
        note: str = "",
        source: str | None = None,
    ) -> Move:
        """Record a role's move for the open turn (it replaces that role's earlier move)."""
        with self._transaction():
            move = self.check_move(role, settings, actions, note, source=source)
            self.record.pending[role] = move
            self._save()
        return move

    def withdraw(self, role: str) -> None:
        """Take back a role's pending move."""
        with self._transaction():
            check_role(role, self.roles, f"withdraw {role}")
            self.record.pending.pop(role, None)
            self._save()

    def waiting_for(self) -> list[str]:
        """Human roles that have not moved in the open turn."""
        return [r for r in self.humans() if r not in self.record.pending]

    # --- turns
    def advance(self, force: bool = False) -> TurnTrace:
        """Adjudicate the open turn: bots move, every move is applied, the months are run.

        Refused while a human role has not moved, unless ``force`` (their levers carry over).
        """
        from chipwar.runs.wargame.doctrines import bot_move

        with self._transaction():
            source = "advance"
            if self.finished:
                raise InputError(
                    source,
                    "turn",
                    self.turn,
                    f"a turn still to play: the session ended at {self.record.end}",
                )
            missing = self.waiting_for()
            if missing and not force:
                raise InputError(
                    source,
                    "moves",
                    ", ".join(missing),
                    "a move from every human role first (or --force to carry their levers over)",
                )
            moves: list[Move] = []
            for role, seat in self.record.roles.items():
                if role in self.record.pending:
                    moves.append(self.record.pending[role])
                elif seat.player == "bot":
                    proposal = bot_move(self.brief(role), seat.personality)
                    moves.append(
                        self.check_move(
                            role,
                            proposal.settings,
                            proposal.actions,
                            proposal.note,
                            by=f"bot:{seat.personality}",
                            source=f"bot {role}",
                        )
                    )
            start, _end, months = self.period()
            turn = Turn(
                number=self.turn,
                start=start,
                months=months,
                moves=moves,
                carried=missing,
                digest="0" * 64,
            )
            self._checkpoint = self._clone_model() if self.keep_checkpoint else None
            turn.digest = self._play(turn)
            self.record.turns.append(turn)
            self.record.pending = {}
            self._save()
        return self.traces[-1]

    def undo(self) -> Turn:
        """Remove the last played turn (its moves are dropped, as are pending moves)."""
        with self._transaction():
            if not self.record.turns:
                raise InputError("undo", "turn", 0, "a played turn to undo (none played yet)")
            removed = self.record.turns.pop()
            self.record.pending = {}
            if self._checkpoint is not None:
                self._restore(self._checkpoint)
            else:
                self._rebuild()
            self._save()
        if self.path is not None:
            _remove_outputs(outputs_dir(self.path), removed.number)
        return removed

    def fork(
        self,
        path: Path | None,
        at_turn: int,
        humans: Sequence[str] | None = None,
        overwrite: bool = False,
    ) -> Session:
        """A new session with this one's first ``at_turn`` turns (and new seats if given)."""
        source = "fork"
        if not 0 <= at_turn <= self.turns_played:
            raise InputError(
                source, "at_turn", at_turn, f"a played turn number in 0..{self.turns_played}"
            )
        if path is not None:
            path = _new_session_path(path, source, overwrite)
            if self.path is not None and path.resolve() == self.path.resolve():
                raise InputError(source, "session", str(path), "a different file from the source")
        seats = dict(self.record.roles)
        if humans is not None:
            for role in humans:
                check_role(role, self.roles, "--human")
            seats = {
                r: Seat(player="human" if r in humans else "bot", personality=s.personality)
                for r, s in seats.items()
            }
        record = self.record.model_copy(
            deep=True,
            update={
                "name": path.stem if path is not None else f"{self.record.name}-fork",
                "turns": [t.model_copy(deep=True) for t in self.record.turns[:at_turn]],
                "pending": {},
                "revision": 0,
                "roles": seats,
            },
        )
        forked = Session(record, path)
        if path is not None:
            with session_lock(path):
                forked._save()
        return forked

    # --- views
    def brief(self, role: str, turn: int | None = None) -> Brief:
        """The brief of one role at the start of a turn (default: the open turn)."""
        from chipwar.runs.wargame.briefs import make_brief

        turn = self.turn if turn is None else turn
        if not 1 <= turn <= self.turn:
            raise InputError("brief", "turn", turn, f"a turn number in 1..{self.turn}")
        return make_brief(self, check_role(role, self.roles, "brief"), turn)

    def report(self, turn: int | None = None, reveal: bool | None = None) -> TurnReport:
        """The room's report of a played turn (default: the last one)."""
        from chipwar.runs.wargame.turn_report import make_report

        turn = self.turns_played if turn is None else turn
        if not 1 <= turn <= self.turns_played:
            allowed = (
                f"a played turn number in 1..{self.turns_played}"
                if self.turns_played
                else "a played turn (none played yet)"
            )
            raise InputError("report", "turn", turn, allowed)
        return make_report(self, self.traces[turn - 1], self.finished if reveal is None else reveal)

    def status(self) -> dict[str, Any]:
        """Plain data for a status screen: calendar, seats, who has moved."""
        start, end, _ = self.period() if not self.finished else (None, None, 0)
        last = self.month_records[-1].metrics if self.month_records else {}
        return {
            "name": self.record.name,
            "scenario": self.record.scenario.name,
            "seed": self.record.seed,
            "turn_months": self.record.turn_months,
            "start": self.record.start,
            "end": self.record.end,
            "turns_total": self.total_turns,
            "turns_played": self.turns_played,
            "finished": self.finished,
            "open_turn": None if self.finished else {"number": self.turn, "from": start, "to": end},
            "date": self.month_records[-1].date if self.month_records else None,
            "roles": [
                {
                    "role": role,
                    "title": self.roles[role].title,
                    "player": seat.player,
                    "personality": seat.personality if seat.player == "bot" else None,
                    "moved": role in self.record.pending,
                    "levers": list(self.roles[role].levers),
                }
                for role, seat in self.record.roles.items()
            ],
            "waiting_for": self.waiting_for(),
            "headline": {
                k: last.get(k)
                for k in ("compute_gap", "lead_months", "countries_official_cn", "pop_cn_stack")
            },
            "warnings": list(self.warnings),
        }

    # --- replay machinery
    def _play(self, turn: Turn) -> str:
        """Apply a turn's moves and run its months; returns the digest of its outcome."""
        source = f"{self._source} turn {turn.number}"
        moves = []
        for move in turn.moves:
            role = check_role(move.role, self.roles, source)
            normalise_settings(role, move.set, self.all_roles, f"{source} {move.role}")
            check_actions(role, move.actions, f"{source} {move.role}")
            moves.append((move.role, move.set, move.actions))
        opening = self._opening()
        changes = turn_changes(self.model, self.roles, moves, turn.number, turn.months)
        for change in changes:
            self.model.schedule_change(change.settings, change.label, months_ahead=change.offset)
        first = len(self.month_records)
        for _ in range(turn.months):
            self._step_month()
        self.traces.append(
            TurnTrace(
                turn.number, first, turn.months, list(turn.moves), changes, turn.carried, opening
            )
        )
        return outcome_digest(self.month_records[first:])

    def _opening(self) -> dict[str, float]:
        """Every lever and hub regime as the coming month will begin (scheduled changes in)."""
        keys = [*lever_keys(), *(f"hub.{h}" for h in self.month_records[-1].hubs)]
        return {key: self.model.lever_value(key) for key in keys}

    def opening_levers(self, turn: int) -> dict[str, float]:
        """Levers and hub regimes in force as a turn begins: the brief's "now" for levers.

        This includes changes already scheduled for the turn's first month (the scenario's
        branch, the end of an action taken in the previous turn).
        """
        if turn <= self.turns_played:
            return dict(self.traces[turn - 1].opening)
        if not self.finished:
            return self._opening()
        return self.month_records[-1].settings()

    def _step_month(self) -> None:
        self.model.step()
        self.month_records.append(self.model.observe())

    def _clone_model(self) -> ChipWarModel | None:
        """An in-memory copy of the model (to undo fast); None if the model cannot be copied."""
        try:
            return self.model.clone()
        except Exception:  # an optimisation only: undo falls back to a replay
            return None

    def _restore(self, checkpoint: ChipWarModel) -> None:
        """Back to the state before the last turn (the records and traces are cut to match)."""
        trace = self.traces.pop()
        del self.month_records[trace.first :]
        self.model = checkpoint
        self._checkpoint = None

    # --- persistence
    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """Hold the lock, catch up with changes other processes made, then run the change.

        If the change fails (bad input, a failed write), the record and the model go back to
        what the file holds, so memory and disk never disagree.
        """
        with contextlib.ExitStack() as stack:
            if self.path is not None:
                stack.enter_context(session_lock(self.path))
                self._catch_up()
            backup = self.record.model_copy(deep=True)
            try:
                yield
            except BaseException:
                self.record = backup
                if len(self.traces) != len(backup.turns):
                    self._rebuild()
                raise

    def _catch_up(self) -> None:
        assert self.path is not None
        if not self.path.is_file():
            raise InputError(str(self.path), "session", str(self.path), "an existing session file")
        on_disk = load_record(self.path)
        if on_disk.checksum == self.record.checksum:
            return
        same_log = [t.digest for t in on_disk.turns] == [t.digest for t in self.record.turns]
        self.record = on_disk
        if not same_log:
            self.warnings = []
            self._rebuild()

    def sync(self) -> bool:
        """Re-read the file if another process changed it; True if anything changed."""
        if self.path is None:
            return False
        before = self.record.checksum
        with session_lock(self.path):
            self._catch_up()
        return self.record.checksum != before

    def _save(self) -> None:
        if self.path is None:
            return
        self.record.revision += 1
        self.record.chipwar_version = version("chipwar")
        save_record(self.record, self.path)

    # --- outputs
    def outlook(
        self, seeds: int = 10, progress: bool = False, ensemble: Any = None, info: Any = None
    ) -> Any:
        """Fan chart of the futures from here with every lever held, over seeds or drawn
        ensemble members (see runs/wargame/outlook.py)."""
        from chipwar.runs.wargame.outlook import outlook

        return outlook(self, seeds, progress, ensemble=ensemble, info=info)

    def write_outputs(
        self,
        turn: int | None = None,
        folder: Path | None = None,
        report: TurnReport | None = None,
    ) -> list[Path]:
        """Write a played turn's report and the briefs it produced (one file per role).

        Files go to ``NAME.d/turn-KK/`` and ``NAME.d/briefs/<role>/turn-(K+1).md``; with
        ``turn=0``, only the briefs for the first turn. Hand each team its own folder. ``report``
        is that turn's report if the caller already made it (its charts are then not redrawn).
        """
        turn = self.turns_played if turn is None else turn
        if folder is None:
            if self.path is None:
                raise InputError("outputs", "folder", None, "a folder (the session has no file)")
            folder = outputs_dir(self.path)
        written: list[Path] = []
        if turn >= 1:
            written += (report or self.report(turn)).write(folder / f"turn-{turn:02d}")
        for role in self.roles:
            brief = self.brief(role, turn + 1)
            path = folder / "briefs" / role / f"turn-{turn + 1:02d}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, brief.to_markdown().encode())
            written.append(path)
        if self.path is not None and folder == outputs_dir(self.path):
            self.mark_outputs(turn, files=True)
        return written

    def _outputs_stamp(self, turn: int) -> dict[str, Any]:
        digest = self.record.turns[turn - 1].digest if turn >= 1 else "start"
        return {"turn": turn, "digest": digest}

    def mark_outputs(self, turn: int, files: bool) -> None:
        """Record, last, which turn ``NAME.d/`` was written for (or that its files were skipped),
        so that a command after an interrupted advance can see the folder is behind."""
        if self.path is None:
            return
        stamp = {**self._outputs_stamp(turn), "files": files}
        folder = outputs_dir(self.path)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / OUTPUTS_STAMP, (json.dumps(stamp) + "\n").encode())

    def outputs_behind(self) -> bool:
        """True if ``NAME.d/`` exists but was not written for the session's latest turn: a process
        was killed between saving a turn and writing its report and briefs."""
        if self.path is None or not outputs_dir(self.path).is_dir():
            return False
        try:
            stamp = json.loads((outputs_dir(self.path) / OUTPUTS_STAMP).read_text())
            return {k: stamp.get(k) for k in ("turn", "digest")} != self._outputs_stamp(
                self.turns_played
            )
        except (OSError, ValueError, AttributeError):
            return True

    def export(self, out: Path) -> Path:
        """Write the session so far as a run directory (for replays and comparisons)."""
        from chipwar.runs.core import run_folder

        return run_folder.write(self.run_result(), out)

    def run_result(self) -> Any:
        """The session so far as a :class:`~chipwar.runs.core.single_run.RunResult`.

        Its scenario carries every move as a dated event, so ``chipwar run`` of that scenario
        with the session's seed (and ``--until`` the last month played) gives the same series.
        """
        from chipwar.runs.core.single_run import collect_result

        wargame = {
            "session": self.record.name,
            "turns_played": self.turns_played,
            "turn_months": self.record.turn_months,
            "roles": {r: s.model_dump() for r, s in self.record.roles.items()},
        }
        return collect_result(
            self.model, self.as_scenario(), self.record.seed, self.record.name, {"wargame": wargame}
        )

    def as_scenario(self) -> Scenario:
        """The session's scenario with every applied move written in as a timed event."""
        from chipwar.world.scenario import TimedEvent

        spec = self.record.scenario
        events = list(spec.events)
        end = parse_month(spec.end)
        for trace in self.traces:
            month0 = self.model.start_month + trace.first
            for change in trace.changes:
                month = month0 + change.offset
                if month <= end:
                    events.append(
                        TimedEvent(
                            date=format_month(month), set=dict(change.settings), label=change.label
                        )
                    )
        return spec.model_copy(
            update={
                "name": f"wargame-{self.record.name}"[:80],
                "description": f"Wargame session {self.record.name}: {self.turns_played} turns "
                f"of {self.record.turn_months} months from {self.record.start}; moves as events.",
                "events": events,
            }
        )


def outcome_digest(records: Sequence[Observation]) -> str:
    """sha256 of the months' model-level outputs: equal digests mean the same outcome."""
    rows = [{k: _plain(v) for k, v in r.metrics.items()} for r in records]
    text = json.dumps(rows, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer | int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value).hex()
    return value


def _players_as_bots(
    spec: Scenario, humans: Sequence[str], personalities: Mapping[str, str]
) -> tuple[Scenario, dict[str, str]]:
    """A scenario's players sit at the table as bots with their personality (a role named by
    ``--human`` or ``--doctrine`` is seated as asked): the session plays them, turn by turn, with
    the same doctrine, so the model itself has no players. A doctrine described as data has no
    seat of its own (seats take hawk, pragmatist or dove): refused with one line."""
    if not spec.players:
        return spec, dict(personalities)
    seated = dict(personalities)
    for role, value in spec.players.items():
        if role in humans or role in personalities:
            continue
        if not isinstance(value, str) or value not in PERSONALITIES:
            shown = value if isinstance(value, str) else "an inline doctrine"
            raise InputError(
                f"scenario {spec.name}",
                f"players.{role}",
                shown,
                "a personality a wargame bot can play (" + ", ".join(PERSONALITIES) + "), or "
                f"seat the role with --human {role} or --doctrine {role}=NAME",
            )
        seated[role] = value
    bare = spec.model_copy(
        update={"players": {}, "doctrines": {}, "player_turn_months": DEFAULT_TURN_MONTHS}
    )
    return bare, seated


def _session_start(spec: Scenario, start: str | None, source: str) -> int:
    """First month of turn 1: the branch (history on) or the month after the scenario's start."""
    earliest = parse_month(spec.start) + 1
    if spec.history:
        earliest = max(earliest, parse_month(spec.branch))
    if start is None:
        return earliest
    month = _month_arg(start, "start", source)
    if not earliest <= month <= parse_month(spec.end):
        raise InputError(
            source,
            "start",
            start,
            f"a month in {format_month(earliest)}..{spec.end} (turns start at or after the "
            "branch, when the history phase ends, and after the first month)",
        )
    return month


def _month_arg(text: str, name: str, source: str) -> int:
    try:
        return parse_month(text)
    except ValueError:
        raise InputError(source, name, text, "a month as YYYY-MM") from None


def _check_seat_names(
    role_ids: Sequence[str],
    humans: Sequence[str],
    personality: str,
    personalities: Mapping[str, str],
    blocs: Sequence[str],
) -> None:
    """Refuse unknown roles, personalities and bloc regions (one line naming the option)."""
    for role in [*humans, *personalities]:
        if role not in role_ids:
            raise InputError(
                "--human" if role in humans else "--doctrine",
                "role",
                role,
                "a role id: " + ", ".join(role_ids),
            )
    for name in [personality, *personalities.values()]:
        if name not in PERSONALITIES:
            raise InputError(
                "--doctrine", "personality", name, "one of " + ", ".join(PERSONALITIES)
            )
    for region in blocs:
        role = region if region.startswith(BLOC_PREFIX) else BLOC_PREFIX + region
        if role not in role_ids:
            raise InputError("--blocs", "region", region, "one of " + ", ".join(REGIONS))


def _seats(
    roles: Mapping[str, Role],
    humans: Sequence[str],
    personality: str,
    personalities: Mapping[str, str],
    blocs: Sequence[str],
    source: str,
) -> dict[str, Seat]:
    """Seats in the fixed role order: the five core roles, blocs with levers, named blocs."""
    _check_seat_names(list(roles), humans, personality, personalities, blocs)
    wanted = set(CORE_ROLES) | set(role_with_levers(roles)) | set(humans) | set(personalities)
    for region in blocs:
        wanted.add(region if region.startswith(BLOC_PREFIX) else BLOC_PREFIX + region)
    return {
        role: Seat(
            player="human" if role in humans else "bot",
            personality=personalities.get(role, personality),  # type: ignore[arg-type]
        )
        for role in ALL_ROLE_IDS
        if role in wanted
    }


def _remove_outputs(folder: Path, turn: int) -> None:
    """Delete the derived files of an undone turn (its report and the briefs it produced)."""
    import shutil

    report = folder / f"turn-{turn:02d}"
    if report.is_dir():
        shutil.rmtree(report)
    briefs = folder / "briefs"
    if briefs.is_dir():
        for path in briefs.glob(f"*/turn-{turn + 1:02d}.*"):
            path.unlink()


def _new_session_path(path: str | Path, source: str, overwrite: bool) -> Path:
    """A path for a new session file: a .json name, and not an existing file unless forced."""
    path = Path(path)
    if path.suffix != ".json":
        raise InputError(source, "session", str(path), "a file name ending in .json")
    if path.exists() and not overwrite:
        raise InputError(
            source, "session", str(path), "a new file (it exists; --force replaces it)"
        )
    return path
