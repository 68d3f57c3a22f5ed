"""`chipwar dashboard`: serve the browser page (Solara, Mesa's visualization stack).

Why a module of its own: the command checks its input (one line and exit status 2 for a bad
port, host, scale or session), opens the session once and keeps it live in this process, issues
or reads the join links, and then hands over to Solara's server (uvicorn and starlette). The
page's assets are served from the installed ``solara-assets`` package: the server is set up so
that neither it nor the browser ever fetches anything from the internet (no CDN, no telemetry).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import socket
import sys
import warnings
from pathlib import Path

from chipwar.world.errors import InputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP = "chipwar.runs.dashboard.app:Page"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--session", type=Path, default=None, help="a wargame session file (.json) to run"
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1: this machine)"
    )
    parser.add_argument(
        "--port", default=str(DEFAULT_PORT), help=f"port (default {DEFAULT_PORT}; 0: any free)"
    )
    parser.add_argument("--scale", default=None, help="micro-adopters of the explore view's models")
    parser.add_argument(
        "--new-links", action="store_true", help="issue new join links (old ones stop working)"
    )
    parser.add_argument(
        "--no-files", action="store_true", help="do not write reports and briefs after a turn"
    )


def check_port(text: str) -> int:
    try:
        port = int(str(text).strip())
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise InputError("--port", "port", text, "a whole number in 0..65535 (0: any free port)")
    return port


def check_scale(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        scale = int(str(text).strip())
    except ValueError:
        scale = 0
    if scale < 1:
        raise InputError("--scale", "scale", text, "a whole number of micro-adopters >= 1")
    return scale


def check_host(host: str) -> str:
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        raise InputError(
            "--host", "host", host, "an address of this machine (127.0.0.1, 0.0.0.0, a name)"
        ) from None
    return host


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_port(host: str, port: int) -> int:
    """The port to serve on: ``port`` if it is free, or any free one for 0."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as err:
            raise InputError(
                "--port",
                "port",
                port,
                f"a free port on {host} ({err.strerror}; --port 0 picks a free one)",
            ) from None
        return int(sock.getsockname()[1])


def base_url(host: str, port: int) -> str:
    shown = socket.gethostname() if host in ("0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def run(args: argparse.Namespace) -> int:
    port = check_port(args.port)
    host = check_host(args.host)
    scale = check_scale(args.scale)
    port = bind_port(host, port)
    url = base_url(host, port)
    _environment(host, port)  # before anything imports Solara: its settings read these once
    from chipwar.world import lazy_imports

    lazy_imports.stop_deferring()  # a threaded server: plain imports, paid once at start-up
    from chipwar.runs.dashboard.state import DashboardConfig, SessionHub, configure

    hub = None
    if args.session is not None:
        from chipwar.runs.wargame.access import access_path, ensure_access
        from chipwar.runs.wargame.session import Session

        session = Session.open(args.session, keep_checkpoint=True)
        for warning in session.warnings:
            print(f"warning: {warning}")
        tokens, written = ensure_access(
            args.session, session.record.name, session.roles, renew=args.new_links
        )
        hub = SessionHub(session, tokens, write_files=not args.no_files)
        print(f"session {session.record.name}: turn {session.turn} of {session.total_turns}")
        print(
            f"join links ({'written to' if written else 'from'} {access_path(args.session)}; "
            "hand each team only its own):"
        )
        for who, link in tokens.links(url).items():
            if who == "facilitator" or who in session.roles:
                seat = session.record.roles.get(who)
                kind = f" ({seat.player})" if seat else ""
                print(f"  {who + kind:<30} {link}")
    else:
        print(f"explore view: {url}")
    if not is_loopback(host):
        print(
            f"warning: serving on {host}: other machines can reach the page (plain HTTP; "
            "anyone with a join link can use it)",
            file=sys.stderr,
        )
    configure(DashboardConfig(session=args.session, scale=scale, hub=hub))
    print(f"serving on {url} (Ctrl-C stops)", flush=True)
    serve(host, port)
    return 0


def _environment(host: str, port: int) -> None:
    os.environ["SOLARA_APP"] = APP
    os.environ.setdefault("SOLARA_MODE", "production")
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "false"
    os.environ["SOLARA_ASSETS_PROXY"] = "true"  # assets from this server, never a CDN
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "false")
    os.environ.setdefault("SOLARA_SESSION_SECRET_KEY", secrets.token_urlsafe(32))
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)


def serve(host: str, port: int) -> None:
    """Run Solara's server in this process, with every outside fetch switched off."""
    _environment(host, port)
    import solara.server.settings as settings
    import solara.settings
    import uvicorn
    from solara.server import cdn_helper

    solara.settings.assets.proxy = True
    settings.telemetry.mixpanel_enable = False
    settings.theme.title = "chipwar"

    def no_download(url: str) -> bytes:
        raise OSError(f"chipwar dashboard fetches nothing from the internet (asked for {url})")

    cdn_helper.fetch_from_cdn = no_download
    # Plain HTTP on a local address is the intended set-up: Solara's cookie advice is noise here.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    config = uvicorn.Config(
        "solara.server.starlette:app", host=host, port=port, log_level="warning", access_log=False
    )
    uvicorn.Server(config).run()
