"""Availability prober: a fresh TCP connection to VIP:port every `period` seconds, whatever
the earlier attempts are doing, each with a short deadline, while a fault runs. Every
attempt is one record: its start time (ms), whether it was answered, the error class if
not, and the node that answered (the responder says its name). Runs inside the lab's
namespace (`ip netns exec NS python -m probes.prober ...`), prints {"ready": true}, then
one JSON record per finished attempt. Bounded: it stops by itself after --seconds or
--max-attempts, and on SIGINT/SIGTERM (attempts in flight are still reported).

Attempts overlap on purpose: during an outage each one waits out its timeout, and a
prober that waited for it would sample the outage at 1/timeout instead of 1/period."""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import signal
import socket
import sys
import time
from typing import Any

Record = dict[str, Any]
REQUEST = b"GET / HTTP/1.0\r\n\r\n"
MAX_ATTEMPTS = 100_000
MAX_SECONDS = 3600.0


def error_class(exc: BaseException) -> str:
    """A short, stable name for why an attempt failed.

    >>> error_class(ConnectionRefusedError())
    'refused'
    >>> error_class(OSError(errno.EHOSTUNREACH, "No route to host"))
    'unreachable'
    """
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError):
        return "reset"
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "unreachable"
    if isinstance(exc, ValueError):
        return "bad-answer"
    return type(exc).__name__


def node_from_answer(raw: bytes) -> str:
    """The responder's name from its HTTP answer (the body is the node's hostname).

    >>> node_from_answer(b"HTTP/1.0 200 OK\\r\\nContent-Length: 6\\r\\n\\r\\nnode2\\n")
    'node2'
    """
    head, sep, body = raw.partition(b"\r\n\r\n")
    name = body.decode(errors="replace").strip()
    if not sep or not head.startswith(b"HTTP/") or b" 200 " not in head.split(b"\r\n")[0]:
        raise ValueError(f"not a responder answer: {raw[:60]!r}")
    if not name:
        raise ValueError("empty answer")
    return name


async def attempt(vip: str, port: int, timeout: float, seq: int) -> Record:
    started = time.time()
    record: Record = {"t": round(started, 3), "seq": seq}
    writer = None
    # The socket is bound before it connects, so that even an attempt that never got an
    # answer has its source port on record: IPVS's connection table names the real server
    # it scheduled that port to (checks.availability attributes failed attempts with it).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        sock.bind(("0.0.0.0", 0))
        record["cport"] = sock.getsockname()[1]
        async with asyncio.timeout(timeout):
            await asyncio.get_running_loop().sock_connect(sock, (vip, port))
            reader, writer = await asyncio.open_connection(sock=sock)
            writer.write(REQUEST)
            await writer.drain()
            raw = await reader.read()  # the responder closes after its answer
        record.update(ok=True, node=node_from_answer(raw))
    except Exception as exc:  # every failure is data for the checks
        record.update(ok=False, node=None, error=error_class(exc))
    finally:
        if writer is not None:
            writer.transport.abort()  # no lingering FIN handshakes to count in IPVS
        else:
            sock.close()
    record["ms"] = round((time.time() - started) * 1000, 1)
    return record


async def probe(
    vip: str, port: int, *, period: float, timeout: float, seconds: float, max_attempts: int
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    def emit(task: asyncio.Task[Record]) -> None:
        if not task.cancelled():
            print(json.dumps(task.result()), flush=True)

    print(json.dumps({"ready": True}), flush=True)
    began = loop.time()
    pending: set[asyncio.Task[Record]] = set()
    for seq in range(max_attempts):
        due = began + seq * period
        if seq * period > seconds + 1e-9 or stop.is_set():
            break
        if (delay := due - loop.time()) > 0:
            try:
                await asyncio.wait_for(stop.wait(), delay)
                break
            except TimeoutError:
                pass
        task = asyncio.create_task(attempt(vip, port, timeout, seq))
        task.add_done_callback(emit)
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.wait(pending)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("vip")
    p.add_argument("port", type=int)
    p.add_argument("--period", type=float, default=0.05, help="s between attempts")
    p.add_argument("--timeout", type=float, default=0.25, help="s an attempt may take")
    p.add_argument("--seconds", type=float, default=120.0, help="stop after this long")
    p.add_argument("--max-attempts", type=int, default=MAX_ATTEMPTS)
    args = p.parse_args(argv)
    if not 0.005 <= args.period <= 10:
        p.error("--period must be 0.005..10 s")
    if not 0 < args.timeout <= 10:
        p.error("--timeout must be in (0, 10] s")
    if not 0 < args.seconds <= MAX_SECONDS:
        p.error(f"--seconds must be in (0, {MAX_SECONDS:g}] (probes are bounded)")
    if not 0 < args.max_attempts <= MAX_ATTEMPTS:
        p.error(f"--max-attempts must be 1..{MAX_ATTEMPTS}")
    asyncio.run(
        probe(
            args.vip,
            args.port,
            period=args.period,
            timeout=args.timeout,
            seconds=args.seconds,
            max_attempts=args.max_attempts,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
