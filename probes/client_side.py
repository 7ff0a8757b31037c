"""Starting the probes on the client side of the lab's service network and collecting what
they record. The probes themselves (probes.sampler, probes.arp, probes.holder) run as
separate processes inside the lab's namespace; these wrappers start them, talk to them over
their pipes and hand their records back, never judging them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from probes.lines import read_line_from

Record = dict[str, Any]
START_TIMEOUT = 30.0  # s; importing scapy in the namespace takes a few seconds


class ClientSide(Protocol):
    """What the probes need of a lab (lab.control.Lab provides it)."""

    client_ifname: str

    def client(
        self, command: Sequence[str], *, timeout: float = ..., check: bool = ...
    ) -> subprocess.CompletedProcess[str]: ...

    def client_popen(self, command: Sequence[str]) -> subprocess.Popen[bytes]: ...


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def json_lines(text: str) -> list[Record]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class ProbeProcess:
    """A probe process that prints {"ready": true} and then one JSON record per line."""

    def __init__(self, side: ClientSide, argv: list[str], what: str) -> None:
        self.what = what
        self.proc = side.client_popen(argv)
        self.buffer = bytearray()
        self.drainer: threading.Thread | None = None
        first = self.read(START_TIMEOUT)
        if first != {"ready": True}:
            self.stop()
            raise RuntimeError(f"{what} did not start: {first}")

    def drain(self) -> None:
        """From now on, read the probe's output in the background until it exits. A
        streaming probe (prober, sniffer) writes a record per attempt or frame: left in the
        pipe, 64 KB of them would block the probe mid-scenario."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()

        def read_all() -> None:
            while chunk := os.read(fd, 65536):
                self.buffer += chunk

        self.drainer = threading.Thread(target=read_all, daemon=True)
        self.drainer.start()

    def read(self, timeout: float) -> Record:
        assert self.proc.stdout is not None
        try:
            return json.loads(read_line_from(self.proc.stdout.fileno(), self.buffer, timeout))
        except (TimeoutError, ConnectionError) as exc:
            raise RuntimeError(f"{self.what}: {exc}; stderr: {self.stderr_tail()}") from exc

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def stderr_tail(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return "(still running)"
        return self.proc.stderr.read().decode(errors="replace")[-500:]

    def stop(self, signum: int | None = signal.SIGTERM, timeout: float = 10) -> list[Record]:
        """Stop the probe (with a signal, or with None by closing its stdin) and return the
        records it had not handed over yet."""
        if signum is None and self.proc.stdin is not None:
            self.proc.stdin.close()
            self.proc.stdin = None  # so communicate() leaves it alone
        elif signum is not None and self.proc.poll() is None:
            self.proc.send_signal(signum)
        drainer = self.drainer
        if drainer is not None:
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            drainer.join(timeout=10)
            out = b""
        else:
            try:
                out, _ = self.proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                out, _ = self.proc.communicate()
        rest = bytes(self.buffer) + out
        self.buffer.clear()
        return json_lines(rest.decode(errors="replace"))


class ArpSniffer:
    """Records every ARP frame the client side sees, from start() to stop()."""

    def __init__(self, side: ClientSide, max_seconds: float = 300, ask: str | None = None) -> None:
        self.side = side
        self.max_seconds = max_seconds
        self.ask = ask  # also ask who-has this IP every second (probes.arp: an ARP probe)
        self.process: ProbeProcess | None = None

    def start(self) -> ArpSniffer:
        argv = python_module(
            "probes.arp", "sniff", self.side.client_ifname, "--seconds", str(self.max_seconds)
        )
        if self.ask is not None:
            argv += ["--ask", self.ask]
        self.process = ProbeProcess(self.side, argv, "ARP sniffer")
        self.process.drain()
        return self

    def stop(self) -> list[Record]:
        if self.process is None:
            return []
        records, self.process = self.process.stop(signal.SIGINT), None
        return records

    def __enter__(self) -> ArpSniffer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class AvailabilityProber:
    """A fresh connection to vip:port every `period` s (probes.prober), from start() to
    stop(), bounded by max_seconds whatever happens to the test that started it."""

    def __init__(
        self,
        side: ClientSide,
        vip: str,
        port: int,
        *,
        period: float = 0.05,
        timeout: float = 0.25,
        max_seconds: float = 300,
    ) -> None:
        self.side = side
        self.argv = python_module(
            "probes.prober", vip, str(port), "--period", str(period),
            "--timeout", str(timeout), "--seconds", str(max_seconds),
        )  # fmt: skip
        self.process: ProbeProcess | None = None

    def start(self) -> AvailabilityProber:
        self.process = ProbeProcess(self.side, self.argv, "availability prober")
        self.process.drain()
        return self

    def stop(self) -> list[Record]:
        """Every attempt made, in the order they finished."""
        if self.process is None:
            return []
        records, self.process = self.process.stop(signal.SIGINT, timeout=30), None
        return records

    def __enter__(self) -> AvailabilityProber:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def arp_query(side: ClientSide, ip: str, timeout: float = 2.0) -> list[Record]:
    """Every answer to one broadcast who-has ip."""
    argv = python_module("probes.arp", "query", ip, side.client_ifname, "--timeout", str(timeout))
    return json_lines(side.client(argv, timeout=timeout + 60).stdout)


def sample(
    side: ClientSide, vip: str, port: int, count: int, method: str = "http", timeout: float = 3
) -> list[Record]:
    """count connections to vip:port one after another, each with its answering node."""
    argv = python_module(
        "probes.sampler", vip, str(port), "--count", str(count), "--method", method,
        "--timeout", str(timeout),
    )  # fmt: skip
    return json_lines(side.client(argv, timeout=count * (timeout + 2) + 30).stdout)


class HeldSessions:
    """Long-lived sessions through the VIP (probes.holder), opened one at a time."""

    def __init__(
        self,
        side: ClientSide,
        vip: str,
        port: int,
        *,
        transport: str = "tcp",
        ssh_key: Path | None = None,
        timeout: float = 15,
        max_seconds: float = 600,
    ) -> None:
        argv = python_module(
            "probes.holder", vip, str(port), "--transport", transport,
            "--timeout", str(timeout), "--max-seconds", str(max_seconds),
        )  # fmt: skip
        if ssh_key is not None:
            argv += ["--ssh-key", str(ssh_key)]
        self.timeout = timeout
        self.process = ProbeProcess(side, argv, f"{transport} session holder")
        self.held: dict[int, str] = {}

    def open(self) -> Record:
        self.process.send("open")
        record = self.process.read(self.timeout + 10)
        if record.get("ok"):
            self.held[record["id"]] = record["node"]
        return record

    def ping(self) -> list[Record]:
        self.process.send("ping")
        return [self.process.read(self.timeout + 10) for _ in self.held]

    def close(self, session_id: int) -> Record:
        self.process.send(f"close {session_id}")
        self.held.pop(session_id, None)
        return self.process.read(self.timeout + 10)

    def stop(self) -> None:
        # EOF on its stdin: the holder closes every session and exits.
        self.process.stop(None, timeout=30)
        self.held.clear()

    def __enter__(self) -> HeldSessions:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
