"""Holder of long-lived sessions through the VIP: the article's load (SSH/RDP sessions that
stay open), which is why the scheduler is lc.

Two transports: `tcp` speaks the lab responder's HOLD protocol (the node answers with its
name, then answers every further line with its name again); `ssh` runs a real OpenSSH
session whose remote shell does the same. Commands come on stdin, one per line, and every
result goes to stdout as one JSON line:

    open        open one more session; record which node took it
    ping        send a line on every open session; record who answers (held sessions
                must keep working while new ones are scheduled)
    close ID    close one session
    (EOF)       close everything and exit; so does reaching --max-seconds

Run inside the lab's namespace: `ip netns exec NS python -m probes.holder VIP PORT`."""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Protocol

from probes.lines import read_line_from

Record = dict[str, Any]
REMOTE_ECHO = "hostname; while read -r _; do hostname; done"


class LineChannel(Protocol):
    def send_line(self) -> None: ...
    def read_line(self, timeout: float) -> str: ...
    def close(self) -> None: ...


class TcpSession:
    def __init__(self, vip: str, port: int, timeout: float) -> None:
        self.sock = socket.create_connection((vip, port), timeout=timeout)
        self.buffer = bytearray()
        self.sock.sendall(b"HOLD\n")

    def send_line(self) -> None:
        self.sock.sendall(b"\n")

    def read_line(self, timeout: float) -> str:
        return read_line_from(self.sock.fileno(), self.buffer, timeout)

    def close(self) -> None:
        self.sock.close()


class SshSession:
    def __init__(self, vip: str, port: int, timeout: float, key: str, user: str) -> None:
        argv = [
            "ssh", "-T", "-i", key, "-p", str(port),
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
            # Each node behind the VIP has its own host key: there is no one key to pin.
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", f"ConnectTimeout={int(timeout)}",
            f"{user}@{vip}", REMOTE_ECHO,
        ]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.buffer = bytearray()

    def send_line(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"\n")
        self.proc.stdin.flush()

    def read_line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        return read_line_from(self.proc.stdout.fileno(), self.buffer, timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Holder:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sessions: dict[int, LineChannel] = {}
        self.nodes: dict[int, str] = {}
        self.next_id = 0

    def connect(self) -> LineChannel:
        a = self.args
        if a.transport == "ssh":
            return SshSession(a.vip, a.port, a.timeout, a.ssh_key, a.ssh_user)
        return TcpSession(a.vip, a.port, a.timeout)

    def open(self) -> Record:
        session_id, self.next_id = self.next_id, self.next_id + 1
        record: Record = {"t": round(time.time(), 3), "event": "open", "id": session_id}
        session: LineChannel | None = None
        try:
            session = self.connect()
            node = session.read_line(self.args.timeout)
        except Exception as exc:  # a failed open is data, not a crash
            if session is not None:
                session.close()
            return {**record, "ok": False, "node": None, "error": f"{type(exc).__name__}: {exc}"}
        self.sessions[session_id] = session
        self.nodes[session_id] = node
        return {**record, "ok": True, "node": node}

    def ping(self) -> list[Record]:
        records = []
        for session_id, session in self.sessions.items():
            record: Record = {"t": round(time.time(), 3), "event": "ping", "id": session_id}
            try:
                session.send_line()
                node = session.read_line(self.args.timeout)
                record.update(ok=node == self.nodes[session_id], node=node)
            except Exception as exc:
                record.update(ok=False, node=None, error=f"{type(exc).__name__}: {exc}")
            record["held_by"] = self.nodes[session_id]
            records.append(record)
        return records

    def close(self, session_id: int) -> Record:
        session = self.sessions.pop(session_id, None)
        if session is not None:
            session.close()
        return {"t": round(time.time(), 3), "event": "close", "id": session_id,
                "ok": session is not None}  # fmt: skip

    def close_all(self) -> None:
        for session_id in list(self.sessions):
            self.close(session_id)

    def handle(self, command: str) -> list[Record]:
        words = command.split()
        if words == ["open"]:
            return [self.open()]
        if words == ["ping"]:
            return self.ping()
        if len(words) == 2 and words[0] == "close" and words[1].isdigit():
            return [self.close(int(words[1]))]
        return [{"t": round(time.time(), 3), "event": "error", "error": f"bad command {command!r}"}]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("vip")
    p.add_argument("port", type=int)
    p.add_argument("--transport", choices=("tcp", "ssh"), default="tcp")
    p.add_argument("--ssh-key", help="private key for the ssh transport")
    p.add_argument("--ssh-user", default="root")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--max-seconds", type=float, default=600.0)
    args = p.parse_args(argv)
    if args.transport == "ssh" and not args.ssh_key:
        p.error("--transport ssh needs --ssh-key")
    if not 0 < args.max_seconds <= 3600:
        p.error("--max-seconds must be in (0, 3600] (probes are bounded)")
    holder = Holder(args)
    # Stopped by a signal: still close every session (ssh children included) on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    deadline = time.monotonic() + args.max_seconds
    stdin = sys.stdin.fileno()
    pending = bytearray()
    print(json.dumps({"ready": True}), flush=True)
    try:
        while True:
            try:
                command = read_line_from(stdin, pending, deadline - time.monotonic())
            except (TimeoutError, ConnectionError):
                break  # out of time, or the harness closed our stdin
            for record in holder.handle(command):
                print(json.dumps(record), flush=True)
    finally:
        holder.close_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
