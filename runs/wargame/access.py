"""Access to a wargame session from the browser page: one unguessable token per seat.

Why a sidecar file: the session file is a plain, checksummed log that teams may be handed after
the game; the tokens are secrets that must never travel with it. They live beside it, in
``NAME.access.json`` (written atomically, mode 0600): one token per role of the session and a
separate one for the facilitator. A join link is the page's address with ``?token=...``.

A token grants exactly one thing: the facilitator's token the room's view (who has moved,
advance, undo, the report) and every team's view; a role's token that role's brief and moves
for that role only. Tokens are compared with :func:`secrets.compare_digest`; a missing or wrong
token grants nothing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from chipwar.runs.core.atomic import write_text_atomic
from chipwar.world.errors import InputError

FORMAT = "chipwar-wargame-access"
TOKEN_BYTES = 32  # secrets.token_urlsafe(32): 256 bits, 43 characters
FACILITATOR = "facilitator"


def access_path(session: Path) -> Path:
    """``game.json`` -> ``game.access.json`` (beside the session, never inside it)."""
    session = Path(session)
    return session.with_name(f"{session.stem}.access.json")


@dataclass(frozen=True)
class Grant:
    """What a token allows: the facilitator's view, or one role's team view."""

    kind: str  # "facilitator" or "team"
    role: str | None = None

    @property
    def facilitator(self) -> bool:
        return self.kind == FACILITATOR

    def may_act_as(self, role: str) -> bool:
        """A team acts only for its own role; the facilitator may open any team's view."""
        return self.facilitator or self.role == role


@dataclass
class AccessTokens:
    """The facilitator's token and one token per role."""

    session: str
    facilitator: str
    roles: dict[str, str] = field(default_factory=dict)

    @classmethod
    def issue(cls, session: str, roles: Iterable[str]) -> AccessTokens:
        return cls(session, _token(), {role: _token() for role in roles})

    def grant(self, token: str | None) -> Grant | None:
        """The grant of a token, or None. Every stored token is compared (constant time each)."""
        if not token or not isinstance(token, str):
            return None
        given = token.encode()
        found: Grant | None = None
        if secrets.compare_digest(given, self.facilitator.encode()):
            found = Grant(FACILITATOR)
        for role, value in self.roles.items():
            if secrets.compare_digest(given, value.encode()):
                found = Grant("team", role)
        return found

    def links(self, base_url: str) -> dict[str, str]:
        """Join links: ``facilitator`` first, then one per role."""
        base = base_url.rstrip("/") + "/"
        out = {FACILITATOR: f"{base}?token={quote(self.facilitator)}"}
        out.update({role: f"{base}?token={quote(tok)}" for role, tok in self.roles.items()})
        return out

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "session": self.session,
            "facilitator": self.facilitator,
            "roles": self.roles,
        }
        return json.dumps(data, indent=1) + "\n"


def _token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def write_access(path: Path, tokens: AccessTokens) -> None:
    """Atomically (see runs/core/atomic.py), readable by the owner only."""
    write_text_atomic(path, tokens.to_json(), mode=0o600)


def read_access(path: Path) -> AccessTokens:
    """Read a sidecar file; InputError (one line) if it is not one chipwar wrote."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(
            str(path), "access", str(path), f"a readable file ({err.strerror})"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(str(path), "access", "not JSON", f"a {FORMAT} file") from None
    ok = (
        isinstance(data, dict)
        and data.get("format") == FORMAT
        and isinstance(data.get("facilitator"), str)
        and len(data["facilitator"]) >= 32
        and isinstance(data.get("roles"), dict)
        and all(isinstance(v, str) and len(v) >= 32 for v in data["roles"].values())
    )
    if not ok:
        raise InputError(
            str(path),
            "access",
            str(path.name),
            f"a {FORMAT} file written by chipwar (delete it to issue new links)",
        )
    return AccessTokens(str(data.get("session", "")), data["facilitator"], dict(data["roles"]))


def ensure_access(
    session_path: Path, name: str, roles: Iterable[str], renew: bool = False
) -> tuple[AccessTokens, bool]:
    """The session's tokens, issuing them (or tokens for roles added since) if needed.

    Returns the tokens and whether the file was written. ``renew`` replaces every token, which
    revokes all links handed out before.
    """
    path = access_path(session_path)
    roles = list(roles)
    if renew or not path.exists():
        tokens = AccessTokens.issue(name, roles)
        write_access(path, tokens)
        return tokens, True
    tokens = read_access(path)
    missing = [r for r in roles if r not in tokens.roles]
    if missing:
        tokens.roles.update({r: _token() for r in missing})
        write_access(path, tokens)
    return tokens, bool(missing)
