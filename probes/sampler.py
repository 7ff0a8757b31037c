"""Connection sampler: opens N connections to VIP:port, one after another, and records for
each the time, the result and the node that answered (the responder replies with its
hostname). Runs inside the lab's namespace (`ip netns exec NS python -m probes.sampler`)
and prints one JSON record per line.

Methods: `http` (requests, a fresh connection each time) and `tcp` (raw socket that sends
nothing and reads the name, as `nc` does)."""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

Record = dict[str, Any]


def sample_http(vip: str, port: int, timeout: float) -> str:
    import requests  # imported here: the tcp method must work without it

    response = requests.get(
        f"http://{vip}:{port}/", timeout=timeout, headers={"Connection": "close"}
    )
    response.raise_for_status()
    return response.text.strip()


def sample_tcp(vip: str, port: int, timeout: float) -> str:
    with socket.create_connection((vip, port), timeout=timeout) as sock:
        chunks = []
        while chunk := sock.recv(256):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace").strip()


METHODS = {"http": sample_http, "tcp": sample_tcp}


def sample(
    vip: str, port: int, count: int, method: str, timeout: float, interval: float
) -> Iterator[Record]:
    probe = METHODS[method]
    for attempt in range(count):
        started = time.time()
        record: Record = {"t": round(started, 3), "attempt": attempt, "method": method}
        try:
            record.update(ok=True, node=probe(vip, port, timeout) or None)
        except Exception as exc:  # every failure is data for the checks
            record.update(ok=False, node=None, error=f"{type(exc).__name__}: {exc}")
        record["ms"] = round((time.time() - started) * 1000, 1)
        yield record
        if interval:
            time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("vip")
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, default=30)
    p.add_argument("--method", choices=sorted(METHODS), default="http")
    p.add_argument("--timeout", type=float, default=3.0)
    p.add_argument("--interval", type=float, default=0.0)
    args = p.parse_args(argv)
    if not 0 < args.count <= 10000:
        p.error("--count must be 1..10000 (probes are bounded)")
    for record in sample(args.vip, args.port, args.count, args.method, args.timeout, args.interval):
        print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
