"""The availability prober against responders on loopback: what it records for answers,
refusals and silence, that attempts keep their schedule while earlier ones hang, and that
it stops by itself."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from probes.prober import error_class, node_from_answer


def run_prober(port: int, *args: str) -> list[dict]:
    argv = [sys.executable, "-m", "probes.prober", "127.0.0.1", str(port), *args]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True).stdout
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0] == {"ready": True}
    return lines[1:]


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    yield sock
    sock.close()


def serve(sock: socket.socket, answer: bytes | None) -> list[socket.socket]:
    """Answer every connection with `answer`, or hold it silently when None (the held
    connections are returned, filled in as they come)."""
    held: list[socket.socket] = []

    def loop() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            if answer is None:
                held.append(conn)
                continue
            conn.recv(1024)
            conn.sendall(answer)
            conn.close()

    threading.Thread(target=loop, daemon=True).start()
    return held


def test_answered_attempts_carry_the_answering_node(listener: socket.socket) -> None:
    serve(listener, b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nnode2\n")
    records = run_prober(listener.getsockname()[1], "--period", "0.02", "--seconds", "0.2")
    assert len(records) == 11  # t = 0, 0.02 ... 0.2
    assert all(r["ok"] and r["node"] == "node2" for r in records)
    assert len({r["cport"] for r in records}) == 11, "each attempt its own connection"
    assert sorted(r["seq"] for r in records) == list(range(11))


def test_attempts_keep_their_schedule_while_earlier_ones_hang(listener: socket.socket) -> None:
    serve(listener, None)
    records = run_prober(
        listener.getsockname()[1], "--period", "0.02", "--timeout", "0.2", "--seconds", "0.3"
    )
    # A prober that waited for each attempt would have made 2 in 0.3 s, not 16.
    assert len(records) == 16
    assert {(r["ok"], r["error"]) for r in records} == {(False, "timeout")}


def test_an_unanswered_attempt_still_names_its_source_port(listener: socket.socket) -> None:
    # The server side sees each connection's source port: the record must carry the same,
    # as IPVS's connection table will list it.
    held = serve(listener, None)
    records = run_prober(listener.getsockname()[1], "--timeout", "0.2", "--max-attempts", "3")
    assert [r["error"] for r in records] == ["timeout"] * 3
    assert sorted(r["cport"] for r in records) == sorted(c.getpeername()[1] for c in held)


def test_a_closed_port_is_refused() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    records = run_prober(port, "--period", "0.05", "--max-attempts", "3")
    assert [(r["ok"], r["error"]) for r in records] == [(False, "refused")] * 3


def test_an_answer_that_is_not_the_responders_is_a_failure(listener: socket.socket) -> None:
    serve(listener, b"HTTP/1.0 503 Service Unavailable\r\n\r\n")
    records = run_prober(listener.getsockname()[1], "--max-attempts", "2")
    assert [r["error"] for r in records] == ["bad-answer"] * 2


@pytest.mark.parametrize(
    "args", [["--seconds", "0"], ["--seconds", "99999"], ["--period", "0"], ["--timeout", "0"]]
)
def test_unbounded_or_nonsense_settings_are_refused(args: list[str]) -> None:
    argv = [sys.executable, "-m", "probes.prober", "127.0.0.1", "80", *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "must be" in proc.stderr


def test_error_classes_and_answers() -> None:
    assert error_class(TimeoutError()) == "timeout"
    assert error_class(ConnectionResetError()) == "reset"
    assert error_class(RuntimeError()) == "RuntimeError"
    with pytest.raises(ValueError, match="empty answer"):
        node_from_answer(b"HTTP/1.0 200 OK\r\n\r\n\n")


class LoopbackSide:
    """The client side, on loopback."""

    client_ifname = "lo"

    def client_popen(self, argv: list[str]) -> subprocess.Popen[bytes]:
        pipe = subprocess.PIPE
        return subprocess.Popen(argv, stdin=pipe, stdout=pipe, stderr=pipe)


def test_the_wrapper_drains_records_past_a_pipes_capacity(listener: socket.socket) -> None:
    # 1001 records of ~70 bytes: more than a 64 KB pipe holds. Undrained, the prober would
    # block on its stdout after ~900 and stop probing mid-scenario.
    from probes.client_side import AvailabilityProber

    serve(listener, b"HTTP/1.0 200 OK\r\n\r\nnode1\n")
    port = listener.getsockname()[1]
    prober = AvailabilityProber(LoopbackSide(), "127.0.0.1", port, period=0.005, max_seconds=5)
    with prober:
        prober.process.proc.wait(timeout=30)  # it stops by itself after 5 s
        records = prober.stop()
    assert len(records) == 1001
    assert sorted(r["seq"] for r in records) == list(range(1001))
