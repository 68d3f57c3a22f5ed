"""`chipwar wargame ...`: a thin command-line layer over the wargame Session API.

Why thin: the browser page drives the same Session API, so every rule (who may move, what is a
valid move, when a turn may advance) lives in the session, not here. This module only parses
arguments, prints, and writes the turn's files. Heavy imports happen inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chipwar.world.errors import InputError

if TYPE_CHECKING:
    from chipwar.runs.wargame.session import Session

SUBCOMMANDS = {
    "new": "create a session file and the first briefs",
    "status": "show the turn, the seats and who has moved",
    "move": "record a role's move for the open turn",
    "advance": "adjudicate the open turn; write the report and the next briefs",
    "undo": "remove the last played turn",
    "fork": "branch a session at a played turn into a new file",
    "brief": "print one role's brief (fog of war)",
    "report": "print (and write) a played turn's report",
    "outlook": "fan chart of the futures from here if every role kept its levers",
    "export": "write the session so far as a run directory",
}


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _roles(text: str) -> list[str]:
    return [r.strip() for r in text.split(",") if r.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="wargame_command", required=True, parser_class=type(parser))
    p = {
        name: sub.add_parser(name, help=text, description=text)
        for name, text in SUBCOMMANDS.items()
    }
    for name, command in p.items():
        command.add_argument("session", type=Path, help="session file (.json)")
        if name == "fork":
            command.add_argument("new_session", type=Path, help="the new session file (.json)")

    new = p["new"]
    new.add_argument("--scenario", required=True, help="preset name or scenario .toml file")
    new.add_argument("--seed", type=_count, default=0)
    new.add_argument("--turn-months", type=_count, default=6, help="months per turn (1-24)")
    new.add_argument(
        "--human",
        type=_roles,
        action="extend",
        default=[],
        metavar="ROLE[,ROLE]",
        help="roles human teams play (us, china, us-labs, cn-labs, allies, bloc-<region>)",
    )
    new.add_argument("--bots", default="pragmatist", help="personality of the bots")
    new.add_argument(
        "--doctrine",
        action="append",
        default=[],
        metavar="ROLE=PERSONALITY",
        help="personality of one bot (hawk, pragmatist, dove)",
    )
    new.add_argument("--blocs", type=_roles, action="extend", default=[], metavar="REGION[,..]")
    new.add_argument("--scale", type=_count, default=None, help="micro-adopters")
    new.add_argument("--start", default=None, metavar="YYYY-MM", help="first month of turn 1")
    new.add_argument("--until", default=None, metavar="YYYY-MM", help="last month of the game")
    new.add_argument("--force", action="store_true", help="replace an existing session file")

    p["status"].add_argument("--json", action="store_true")

    move = p["move"]
    move.add_argument("--role", required=True, help="the role moving (us, china, ...)")
    move.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one of the role's levers (enforcement=0.8, us.kyc=0.5, hub.MYS=0.6) or intel",
    )
    move.add_argument(
        "--action",
        dest="actions",
        action="append",
        default=[],
        metavar="ACTION",
        help="a discrete action, e.g. raid:MYS (see the role's brief for its actions)",
    )
    move.add_argument("--file", type=Path, default=None, help="a moves .toml file")
    move.add_argument("--note", default="", help="a note kept in the log")

    advance = p["advance"]
    advance.add_argument("--force", action="store_true", help="carry over missing human moves")
    advance.add_argument("--turns", type=_count, default=1, help="turns to play (bots only)")
    advance.add_argument(
        "--no-files", action="store_true", help="skip reports and briefs (`report` writes them)"
    )

    fork = p["fork"]
    fork.add_argument("--at-turn", type=_count, required=True, help="turns to keep")
    fork.add_argument("--human", type=_roles, action="extend", default=None)
    fork.add_argument("--force", action="store_true", help="replace an existing file")

    brief = p["brief"]
    brief.add_argument("--role", required=True, help="whose brief (only that role's is shown)")
    brief.add_argument("--turn", type=_count, default=None, help="default: the open turn")
    brief.add_argument("--json", action="store_true")

    report = p["report"]
    report.add_argument("--turn", type=_count, default=None)
    report.add_argument("--reveal", action="store_true", help="show covert settings too")
    report.add_argument("--out", type=Path, default=None, help="folder for the files")

    outlook = p["outlook"]
    outlook.add_argument("--seeds", type=_count, default=None, help="futures (default 10)")
    outlook.add_argument(
        "--ensemble",
        type=_count,
        default=None,
        metavar="N",
        help="N futures under calibrated members, each with its own seed (instead of --seeds)",
    )
    outlook.add_argument(
        "--ensemble-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="the calibrated ensemble (default world/data/ensemble.parquet)",
    )
    outlook.add_argument(
        "--workers", type=_count, default=None, help="processes for --ensemble (default: cores)"
    )
    outlook.add_argument("--out", type=Path, default=None, help="folder for the files")

    p["export"].add_argument("--out", type=Path, required=True, help="run directory to write")


def run(args: argparse.Namespace) -> int:
    return HANDLERS[args.wargame_command](args)


def _open(args: argparse.Namespace) -> Session:
    from chipwar.runs.wargame.session import Session

    session = Session.open(args.session, keep_checkpoint=False)  # one process: undo replays
    for warning in session.warnings:
        print(f"warning: {warning}")
    if session.outputs_behind():  # an advance was killed after saving the turn, before its files
        from chipwar.runs.wargame.session import outputs_dir

        files = session.write_outputs()
        print(
            f"note: {outputs_dir(session.path)}/ was behind the session (an interrupted "
            f"advance?); rewrote turn {session.turns_played}'s report and the next briefs "
            f"({len(files)} files)",
            file=sys.stderr,
        )
    return session


def _new(args: argparse.Namespace) -> int:
    from chipwar.runs.wargame.session import Session

    doctrines = {}
    for text in args.doctrine:
        role, sep, name = text.partition("=")
        if not sep:
            raise InputError("--doctrine", "doctrine", text, "ROLE=PERSONALITY, e.g. china=hawk")
        doctrines[role.strip()] = name.strip()
    _preflight(args.session, 1)
    started = time.perf_counter()
    session = Session.new(
        args.session,
        args.scenario,
        seed=args.seed,
        turn_months=args.turn_months,
        humans=args.human,
        personality=args.bots,
        personalities=doctrines,
        blocs=args.blocs,
        scale=args.scale,
        start=args.start,
        until=args.until,
        overwrite=args.force,
        keep_checkpoint=False,
    )
    session.write_outputs(0)
    from chipwar.runs.wargame.access import access_path, ensure_access

    ensure_access(args.session, session.record.name, session.roles, renew=True)
    _print_status(session)
    print(
        f"\nwrote {args.session} and the first briefs in {session.path.with_suffix('.d')}/briefs/ "
        f"({time.perf_counter() - started:.1f} s)"
    )
    print(
        f"join links for the browser page: {access_path(args.session)} (one token per role and "
        f"the facilitator's); `chipwar dashboard --session {args.session}` prints them"
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    session = _open(args)
    if args.json:
        print(json.dumps(session.status(), indent=1))
    else:
        _print_status(session)
    return 0


def _print_status(session: Session) -> None:
    st = session.status()
    print(
        f"session {st['name']}: scenario {st['scenario']}, seed {st['seed']}, "
        f"{st['turn_months']}-month turns, {st['start']}..{st['end']}"
    )
    if st["finished"]:
        print(f"finished: {st['turns_played']} turns played")
    else:
        turn = st["open_turn"]
        print(
            f"turn {turn['number']} of {st['turns_total']} open: {turn['from']}..{turn['to']} "
            f"({st['turns_played']} played)"
        )
    for seat in st["roles"]:
        who = "human" if seat["player"] == "human" else f"bot ({seat['personality']})"
        state = "moved" if seat["moved"] else ("waiting" if seat["player"] == "human" else "-")
        print(f"  {seat['role']:<22} {who:<18} {state}")
    h = st["headline"]
    if h.get("compute_gap") is not None:
        print(
            f"as of {st['date']}: compute gap {h['compute_gap']:.2f}x, US lead "
            f"{h['lead_months']:.1f} months, {h['countries_official_cn']} countries on an "
            "official Chinese stack"
        )


def _move(args: argparse.Namespace) -> int:
    from chipwar.world.scenario import parse_assignment

    settings: dict[str, object] = {}
    actions: list[str] = []
    note = args.note
    source = f"{args.session} move --role {args.role}"  # names the session file
    if args.file is not None:
        data = read_moves_file(args.file)
        if data.role is not None and data.role != args.role:
            raise InputError(
                str(args.file), "role", data.role, f"{args.role} (a role cannot move for another)"
            )
        settings.update(data.set)
        actions += data.actions
        note = note or data.note
        source = str(args.file)
    for text in args.assignments:
        key, value = parse_assignment(text, "--set")
        settings[key] = value
    actions += args.actions
    session = _open(args)
    move = session.submit(args.role, settings, actions, note, source=source)
    shown = ", ".join([f"{k}={v:g}" for k, v in move.set.items()] + move.actions) or "no change"
    print(f"{args.role}: move recorded for turn {session.turn} ({shown})")
    waiting = session.waiting_for()
    print("waiting for: " + (", ".join(waiting) if waiting else "nobody; ready to advance"))
    return 0


def read_moves_file(path: Path) -> Any:
    """A moves file: ``role``, ``set = {lever = value}``, ``actions = [...]``, ``note``."""
    from pydantic import BaseModel, ConfigDict, Field, ValidationError

    from chipwar.world.validation import input_error_from, read_toml

    class MovesFile(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)  # "0.8" or true is not a number
        role: str | None = None
        set: dict[str, float] = Field(default_factory=dict)
        actions: list[str] = Field(default_factory=list)
        note: str = ""

    try:
        return MovesFile.model_validate(read_toml(path))
    except ValidationError as err:
        raise input_error_from(err, str(path)) from None


def _advance(args: argparse.Namespace) -> int:
    if args.turns < 1:
        raise InputError("--turns", "turns", args.turns, "a whole number >= 1")
    _preflight(args.session, 0 if args.no_files else min(args.turns, 24))  # turns left: unknown
    session = _open(args)
    for _ in range(args.turns):
        if session.finished and args.turns > 1:
            break
        started = time.perf_counter()
        trace = session.advance(force=args.force)
        played = time.perf_counter() - started
        if args.no_files:
            files = []
            session.mark_outputs(trace.number, files=False)
        else:
            files = session.write_outputs(trace.number)
        written = time.perf_counter() - started - played
        e = session.month_records[trace.last].metrics
        first, last, _ = session.period(trace.number)
        print(
            f"turn {trace.number} played ({first}..{last}) in {played:.2f} s: compute gap "
            f"{e['compute_gap']:.2f}x, US lead {e['lead_months']:.1f} months, "
            f"{e['countries_official_cn']} countries on an official Chinese stack"
        )
        if files:
            print(
                f"  report: {files[0]}; briefs in {files[0].parent.parent / 'briefs'}/ "
                f"({written:.2f} s to write)"
            )
    if session.finished:
        print(f"the session has ended ({session.record.end})")
    return 0


def _preflight(session: Path, turns: int) -> None:
    """Before a model is built: the session's folder can be written and has room for the turns."""
    from chipwar.runs.core.preflight import TURN_BYTES, check_output_folder

    folder = session.parent if str(session.parent) else Path(".")
    if folder.is_dir():  # else Session.new refuses the path with its own message
        check_output_folder(folder, TURN_BYTES * max(turns, 1), str(session), "folder")


def _undo(args: argparse.Namespace) -> int:
    session = _open(args)
    removed = session.undo()
    session.mark_outputs(session.turns_played, files=True)  # that turn's files are still there
    print(f"undid turn {removed.number} (from {removed.start}); turn {session.turn} is open again")
    return 0


def _fork(args: argparse.Namespace) -> int:
    session = _open(args)
    forked = session.fork(args.new_session, args.at_turn, humans=args.human, overwrite=args.force)
    forked.write_outputs(args.at_turn)
    print(f"forked {args.session} at turn {args.at_turn} into {args.new_session}")
    _print_status(forked)
    return 0


def _brief(args: argparse.Namespace) -> int:
    session = _open(args)
    brief = session.brief(args.role, args.turn)
    if args.json:
        print(json.dumps(brief.to_dict(), indent=1, default=str))
    else:
        print(brief.to_markdown(), end="")
    return 0


def _report(args: argparse.Namespace) -> int:
    from chipwar.runs.wargame.session import outputs_dir

    session = _open(args)
    report = session.report(args.turn, reveal=args.reveal or None)
    folder = args.out or outputs_dir(session.path) / f"turn-{report.turn:02d}"
    report.write(folder)
    print(report.to_markdown(), end="")
    print(f"\nwrote {folder}/report.md, report.html and charts")
    return 0


def _outlook(args: argparse.Namespace) -> int:
    from chipwar.runs.wargame.session import outputs_dir

    if args.ensemble is not None and args.seeds is not None:
        raise InputError("--seeds", "seeds", args.seeds, "only without --ensemble N")
    if args.ensemble is None and (args.ensemble_file is not None or args.workers is not None):
        given = "--ensemble-file" if args.ensemble_file is not None else "--workers"
        raise InputError(given, given.lstrip("-"), "given", "only with --ensemble N")
    session = _open(args)
    started = time.perf_counter()
    if args.ensemble is not None:
        from chipwar.runs.core.ensemble_run import warm_worker
        from chipwar.runs.core.executors import open_executor
        from chipwar.world.ensemble import load_ensemble

        ensemble = load_ensemble(args.ensemble_file)
        with open_executor(args.workers, warm=warm_worker) as info:
            result = session.outlook(
                args.ensemble, progress=sys.stderr.isatty(), ensemble=ensemble, info=info
            )
    else:
        result = session.outlook(args.seeds or 10, progress=sys.stderr.isatty())
    folder = args.out or outputs_dir(session.path) / f"outlook-turn-{session.turns_played:02d}"
    result.write(folder)
    print(result.to_markdown(), end="")
    print(f"\nwrote {folder}/ in {time.perf_counter() - started:.1f} s")
    return 0


def _export(args: argparse.Namespace) -> int:
    from chipwar.runs.core.single_run import prepare_out_dir

    session = _open(args)
    out = session.export(prepare_out_dir(args.out))
    print(
        f"wrote run directory {out}/ ({len(session.month_records)} months); "
        f"`chipwar run --scenario {out}/scenario.toml --seed {session.record.seed} "
        f"--until {session.month_records[-1].date}` reproduces it"
    )
    return 0


HANDLERS = {
    "new": _new,
    "status": _status,
    "move": _move,
    "advance": _advance,
    "undo": _undo,
    "fork": _fork,
    "brief": _brief,
    "report": _report,
    "outlook": _outlook,
    "export": _export,
}
