"""The lab responder's protocols and the session holder, over loopback: no lab needed."""

from __future__ import annotations

import argparse
import importlib.util
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import requests

from probes.holder import Holder

RESPONDER = Path(__file__).parents[2] / "ansible" / "files" / "lvs-responder.py"
NAME = socket.gethostname()


def load_responder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lvs_responder", RESPONDER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    responder = load_responder()
    server = responder.Server(("127.0.0.1", 0), responder.Responder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_gets_the_hostname(port: int) -> None:
    response = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
    assert response.status_code == 200 and response.text == NAME + "\n"


def test_a_silent_client_gets_the_bare_name_and_eof(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        data = b""
        while chunk := sock.recv(256):
            data += chunk
    assert data == NAME.encode() + b"\n"


def holder(port: int) -> Holder:
    args = argparse.Namespace(vip="127.0.0.1", port=port, transport="tcp", timeout=5.0)
    return Holder(args)


def test_held_sessions_stay_open_and_answer(port: int) -> None:
    sessions = holder(port)
    opened = [sessions.open() for _ in range(3)]
    assert [(r["id"], r["ok"], r["node"]) for r in opened] == [(i, True, NAME) for i in range(3)]
    pings = sessions.ping()
    assert [(p["id"], p["ok"], p["held_by"]) for p in pings] == [(i, True, NAME) for i in range(3)]
    before = time.time()
    (closed,) = sessions.handle("close 1")
    assert closed == {"t": closed["t"], "event": "close", "id": 1, "ok": True}
    assert before - 0.01 <= closed["t"] <= time.time() + 0.01, "dated when it closed"
    assert [p["id"] for p in sessions.ping()] == [0, 2]
    sessions.close_all()
    assert sessions.ping() == []


def test_a_failed_open_is_recorded_not_raised() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        free_port = unused.getsockname()[1]
    record = holder(free_port).open()
    assert record["ok"] is False and record["node"] is None
    assert "ConnectionRefusedError" in record["error"]


def test_unknown_commands_are_reported(port: int) -> None:
    (record,) = holder(port).handle("explode")
    assert record["event"] == "error" and "explode" in record["error"]
