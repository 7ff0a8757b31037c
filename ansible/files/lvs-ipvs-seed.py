#!/usr/bin/python3
"""Seeds the new director's IPVS table before ldirectord starts (profile hardened; the
prestart command of ocf:lvs-ha-lab:ldirectord, ocf/ldirectord).

Why: ldirectord's start creates each virtual service empty, adds every real server and
quiesces it, then checks them one after another (a dead one costs checktimeout). Until the
first real is restored, the VIP's service has no destination and new connections fail
(measured: ~4 s of failures ~24 s after a director kill, "no destination available").
Seeded first with the reals that accept a connection right now, the service is never
empty: ldirectord then edits what exists, keeps the reals that are up, and with
readdquiescent=yes adds the missing ones directly at weight 0.

Reads /etc/ha.d/ldirectord.cf (virtual=, real=... gate, scheduler=, protocol=, checkport=,
checktimeout=), checks every real with one TCP connect each, all at once, and loads the
result with one `ipvsadm -R`. Prints what it loaded. Exit 0 even when no real answers (an
empty seed is today's behaviour, not a failure of the director)."""

from __future__ import annotations

import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

CONFIG = "/etc/ha.d/ldirectord.cf"
FORWARD = {"gate": "-g", "masq": "-m", "ipip": "-i"}


@dataclass
class Virtual:
    address: str  # ip:port
    scheduler: str = "wlc"
    protocol: str = "tcp"
    checkport: int | None = None
    reals: list[tuple[str, str, int]] = field(default_factory=list)  # (ip:port, method, weight)


def parse(text: str) -> tuple[list[Virtual], float]:
    """Virtual services and the global checktimeout from an ldirectord.cf."""
    virtuals: list[Virtual] = []
    timeout = 5.0
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        indented = raw[:1] in (" ", "\t")
        if key == "virtual" and not indented:
            virtuals.append(Virtual(value))
        elif key == "checktimeout" and not indented:
            timeout = float(value)
        elif indented and virtuals:
            v = virtuals[-1]
            if key == "real":
                words = value.split()
                method = words[1] if len(words) > 1 else "gate"
                weight = int(words[2]) if len(words) > 2 and words[2].isdigit() else 1
                v.reals.append((words[0], method, weight))
            elif key == "scheduler":
                v.scheduler = value
            elif key == "protocol":
                v.protocol = value
            elif key == "checkport":
                v.checkport = int(value)
    return virtuals, timeout


def answers(address: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def rules(virtuals: list[Virtual], alive: set[tuple[str, int]]) -> list[str]:
    """ipvsadm -R lines: every TCP virtual service, with the reals in `alive` (by ip and
    checked port) at their configured weight."""
    lines = []
    for v in virtuals:
        if v.protocol != "tcp":
            continue
        lines.append(f"-A -t {v.address} -s {v.scheduler}")
        for real, method, weight in v.reals:
            ip, _, port = real.rpartition(":")
            if (ip, v.checkport or int(port)) in alive:
                lines.append(f"-a -t {v.address} -r {real} {FORWARD.get(method, '-g')} -w {weight}")
    return lines


def main() -> int:
    try:
        virtuals, timeout = parse(Path(CONFIG).read_text())
    except OSError as exc:
        print(f"lvs-ipvs-seed: {exc}; nothing seeded", file=sys.stderr)
        return 0
    targets = sorted(
        {
            (real.rpartition(":")[0], v.checkport or int(real.rpartition(":")[2]))
            for v in virtuals
            for real, _, _ in v.reals
        }
    )
    with ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:
        up = list(pool.map(lambda t: answers(*t, min(timeout, 1.0)), targets))
    alive = {t for t, ok in zip(targets, up) if ok}  # one answer per target (pool.map)
    seed = rules(virtuals, alive)
    subprocess.run(["ipvsadm", "-C"], check=True)
    subprocess.run(["ipvsadm", "-R"], input="\n".join(seed) + "\n", text=True, check=True)
    print(f"lvs-ipvs-seed: {len(alive)} of {len(targets)} reals answer; loaded: {seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
