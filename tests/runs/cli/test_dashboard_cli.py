"""`chipwar dashboard`: bad input is one line and exit status 2, before any server starts."""

from __future__ import annotations

import socket

import pytest

from chipwar.runs.cli import dashboard as dashboard_cli
from chipwar.runs.cli.main import main


@pytest.fixture(autouse=True)
def no_server(monkeypatch):
    """A test that got as far as serving would hang: fail it instead."""

    def refuse(host, port):
        raise AssertionError(f"the server would have started on {host}:{port}")

    monkeypatch.setattr(dashboard_cli, "serve", refuse)
    monkeypatch.setattr(dashboard_cli, "_environment", lambda host, port: None)


def _refused(capsys, *argv: str) -> str:
    assert main(["dashboard", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("chipwar dashboard: error: ")
    return err


@pytest.mark.parametrize("port", ["abc", "70000", "-1", "1.5"])
def test_a_bad_port_is_named_with_what_is_allowed(capsys, port):
    err = _refused(capsys, "--port", port)
    assert "--port" in err and repr(port) in err and "0..65535" in err


def test_a_port_in_use_is_refused(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        err = _refused(capsys, "--port", str(port))
    assert f"port = {port}" in err and "free port" in err


def test_a_bad_scale_or_host_is_refused(capsys):
    assert "--scale" in _refused(capsys, "--scale", "0", "--port", "0")
    err = _refused(capsys, "--host", "no-such-host.invalid", "--port", "0")
    assert "--host" in err and "no-such-host.invalid" in err


def test_a_missing_session_file_is_refused(capsys, tmp_path):
    missing = tmp_path / "nope.json"
    err = _refused(capsys, "--session", str(missing), "--port", "0")
    assert str(missing) in err and "existing session file" in err
    assert not (tmp_path / "nope.access.json").exists()


def test_helpers():
    assert dashboard_cli.is_loopback("127.0.0.1") and dashboard_cli.is_loopback("localhost")
    assert not dashboard_cli.is_loopback("0.0.0.0")
    assert dashboard_cli.base_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert dashboard_cli.bind_port("127.0.0.1", 0) > 0
