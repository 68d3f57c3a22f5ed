"""Server-side state of the dashboard: its configuration and the live wargame session.

Why one live object: a 6-month turn must advance in the page in well under two seconds, so the
server keeps one :class:`~chipwar.runs.wargame.session.Session` in memory (with its undo checkpoint)
rather than replaying the log on every request. Every page (the facilitator's and each team's,
each in its own browser) goes through the :class:`SessionHub`, which

- serialises all work on the session with one lock (Solara serves each browser in its own
  thread);
- checks the grant of the caller's token on every call, so a team's page can read only its
  own brief and move only for its own role, whatever the browser sends;
- picks up changes other processes made to the session file (``chipwar wargame move`` from a
  terminal) through :meth:`Session.sync`, and writes its own changes through the same
  ``submit``/``advance``/``undo`` API and file lock as the command line;
- keeps a version number that pages poll to know when to redraw.
"""

from __future__ import annotations

import hashlib
import html
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chipwar.runs.core import faults
from chipwar.runs.core.textdoc import Document, Image
from chipwar.runs.wargame.access import AccessTokens, Grant
from chipwar.world.errors import InputError

if TYPE_CHECKING:
    from chipwar.runs.wargame.briefs import Brief
    from chipwar.runs.wargame.session import Move, Session
    from chipwar.runs.wargame.turn_report import TurnReport

EXPLORE_MONTHS = 6  # months per "step" in the explore view (one wargame turn)
WAIT_FOR_PAGE = 3.0  # seconds the turn's files wait for a page to show the report's text


@dataclass
class DashboardConfig:
    """What ``chipwar dashboard`` was started with."""

    session: Path | None = None
    scale: int | None = None  # micro-adopters of the explore view's models
    write_files: bool = True  # write reports and briefs after an advance, as the CLI does
    hub: SessionHub | None = field(default=None, repr=False)


_config = DashboardConfig()


def configure(config: DashboardConfig) -> None:
    """Set the dashboard's configuration (the command line does this before serving)."""
    global _config
    _config = config


def config() -> DashboardConfig:
    return _config


@dataclass
class TurnView:
    """A played turn's report for the page: its text at once, its charts when drawn.

    Drawing the three charts takes most of a turn's time in the page, so the text goes out
    first and the charts follow (drawn once per turn, shared by every page, and reused for the
    files written after the turn).
    """

    turn: int
    key: str  # changes whenever the report would (another turn, other moves, revealed)
    report: TurnReport = field(repr=False)
    text_html: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    shown: threading.Event = field(default_factory=threading.Event, repr=False)

    def charts(self) -> dict[str, bytes]:
        """PNG bytes of the report's charts (drawn on first call; safe from any thread)."""
        with self.lock:
            return self.report.png()

    def full_html(self) -> str:
        return report_body(self.report.document.to_html(self.charts()))


class SessionHub:
    """The live session behind every page; every method takes the caller's grant."""

    def __init__(self, session: Session, tokens: AccessTokens, write_files: bool = True) -> None:
        self.session = session
        self.tokens = tokens
        self.write_files = write_files
        self.lock = threading.RLock()
        self.version = 0
        self._stat = self._file_stat()
        self._reports: dict[str, TurnView] = {}
        self._writer: threading.Thread | None = None
        self.last_error: str | None = None

    @classmethod
    def open(cls, path: Path, tokens: AccessTokens, write_files: bool = True) -> SessionHub:
        from chipwar.runs.wargame.session import Session

        return cls(Session.open(path, keep_checkpoint=True), tokens, write_files)

    # --- who is asking
    def grant(self, token: str | None) -> Grant | None:
        """The grant of a token for this session (a role it no longer has grants nothing)."""
        found = self.tokens.grant(token)
        if found is not None and not found.facilitator and found.role not in self.session.roles:
            return None
        return found

    @staticmethod
    def _require(grant: Grant | None, role: str | None = None, facilitator: bool = False) -> None:
        if grant is None:
            raise InputError("page", "token", "(invalid)", "a join link issued for this session")
        if facilitator and not grant.facilitator:
            raise InputError(
                "page", "link", grant.role, "the facilitator's link (teams cannot do this)"
            )
        if role is not None and not grant.may_act_as(role):
            raise InputError(
                "page",
                "role",
                role,
                f"{grant.role} only: a team's link sees and moves only for its own role",
            )

    # --- keeping up with the file
    def _file_stat(self) -> tuple[int, int, int] | None:
        path = self.session.path
        if path is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def refresh(self) -> int:
        """Pick up changes another process made to the file; returns the current version."""
        with self.lock:
            stat = self._file_stat()
            if stat != self._stat:
                try:
                    changed = self.session.sync()
                    self.last_error = None
                except InputError as err:  # e.g. the file was replaced by a bad one
                    changed, self.last_error = False, str(err)
                self._stat = self._file_stat()
                if changed:
                    self.version += 1
            return self.version

    def _changed(self) -> None:
        self._stat = self._file_stat()
        self.version += 1

    # --- reading
    def status(self) -> dict[str, Any]:
        with self.lock:
            return self.session.status()

    def brief(self, grant: Grant | None, role: str) -> Brief:
        self._require(grant, role)
        with self.lock:
            return self.session.brief(role)

    def pending(self, grant: Grant | None, role: str) -> Move | None:
        self._require(grant, role)
        with self.lock:
            return self.session.record.pending.get(role)

    def role(self, role: str) -> Any:
        return self.session.roles[role]

    def _turn_view(self, turn: int | None = None) -> TurnView | None:
        with self.lock:
            session = self.session
            if session.turns_played == 0:
                return None
            turn = session.turns_played if turn is None else turn
            played = session.record.turns[turn - 1]
            key = hashlib.sha256(
                f"{turn}:{session.finished}:{played.model_dump_json()}".encode()
            ).hexdigest()[:16]
            view = self._reports.get(key)
            if view is None:
                report = session.report(turn)
                view = TurnView(turn, key, report, report_body(_without_images(report)))
                self._reports = {key: view}  # only the latest turn is kept
            return view

    def report_view(self, grant: Grant | None, turn: int | None = None) -> TurnView | None:
        """The last played turn's report (facilitator only); None before the first turn."""
        self._require(grant, facilitator=True)
        return self._turn_view(turn)

    def report_charts(self, grant: Grant | None, key: str) -> str | None:
        """The report with its charts (drawn outside the session's lock); None if it is gone."""
        self._require(grant, facilitator=True)
        view = next((v for v in self._reports.values() if v.key == key), None)
        if view is None:
            return None
        view.shown.set()
        return view.full_html()

    def latest_shares(self) -> tuple[str, Any, Any]:
        """Date, adopter shares (countries x none/US/CN) and official stacks of the last month."""
        with self.lock:
            last = self.session.month_records[-1]
            return last.date, last.shares.copy(), last.official.copy()

    # --- changing
    def submit(
        self,
        grant: Grant | None,
        role: str,
        settings: dict[str, float],
        actions: list[str],
        note: str = "",
    ) -> Move:
        self._require(grant, role)
        with self.lock:
            move = self.session.submit(role, settings, actions, note, source=f"page {role}")
            self._changed()
            return move

    def withdraw(self, grant: Grant | None, role: str) -> None:
        self._require(grant, role)
        with self.lock:
            self.session.withdraw(role)
            self._changed()

    def advance(self, grant: Grant | None, force: bool = False) -> int:
        """Adjudicate the open turn; returns its number. Files are written in the background."""
        self._require(grant, facilitator=True)
        with self.lock:
            trace = self.session.advance(force=force)
            self._changed()
        self._write_later(trace.number)  # charts for the page at once, then the files
        return trace.number

    def undo(self, grant: Grant | None) -> int:
        """Take back the last played turn; returns its number."""
        self._require(grant, facilitator=True)
        with self.lock:
            removed = self.session.undo()
            self._changed()
            return removed.number

    def _write_later(self, turn: int) -> None:
        """Draw the turn's charts now, then write what ``wargame advance`` writes.

        The report (with the charts the page shows) goes to ``NAME.d/turn-KK/`` and each role's
        next brief to ``NAME.d/briefs/<role>/``.
        """
        view = self._turn_view(turn)

        def write() -> None:
            if view is None:
                return
            # Let a page show the report's text first (drawing holds the GIL for a while); the
            # page asks for the charts right after, and then they are drawn once for both.
            view.shown.wait(WAIT_FOR_PAGE)
            view.charts()  # drawn here, outside the session lock; the files reuse them
            if not self.write_files or self.session.path is None:
                return
            faults.reached("before-turn-files")  # tests hold the writer here (core/faults.py)
            with self.lock:  # an undo waits, then removes these files as the CLI's does
                if self.session.turns_played != turn:
                    return  # undone meanwhile
                try:
                    self.session.write_outputs(turn, report=view.report)
                except (InputError, OSError) as err:
                    self.last_error = f"could not write the turn's files: {err}"

        self._writer = threading.Thread(target=write, name=f"turn-{turn}-files", daemon=True)
        self._writer.start()

    def wait_for_files(self, timeout: float = 30.0) -> bool:
        """Wait for the last advance's files; False if they are still being written."""
        if self._writer is not None:
            self._writer.join(timeout)
        return self._writer is None or not self._writer.is_alive()


def _without_images(report: TurnReport) -> str:
    """The report page without its charts (they follow when drawn)."""
    blocks = [b for b in report.document.blocks if not isinstance(b, Image)]
    return Document(report.document.title, blocks).to_html()


def report_body(page: str) -> str:
    """The inside of a report page's <body> (the report's own HTML, escaped by textdoc)."""
    start = page.find("<body>")
    end = page.rfind("</body>")
    if start < 0 or end < 0:
        return f"<pre>{html.escape(page)}</pre>"
    return page[start + len("<body>") : end]


def markdown_html(text: str) -> str:
    """Markdown (a brief) to HTML; the text is escaped first, so nothing in it runs as HTML."""
    import markdown

    out = markdown.markdown(html.escape(text, quote=False), extensions=["tables"])
    # Code spans escape the escaped text again; undo that second layer (entities stay entities).
    for entity in ("lt", "gt", "amp"):
        out = out.replace(f"&amp;{entity};", f"&{entity};")
    return out
