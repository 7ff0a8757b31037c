"""What the lab tests of every backend observe: a node's service address from the client side,
and polling for an effect."""

from __future__ import annotations

import time
from collections.abc import Callable

from lab.control import Lab

PROBE_PORT = 22  # sshd listens on every address, so the service IP answers before any deploy


def service_answers(lab: Lab, node: str) -> bool:
    ip = str(lab.node(node).service_ip)
    proc = lab.client(["nc", "-z", "-w", "2", ip, str(PROBE_PORT)], check=False, timeout=10)
    return proc.returncode == 0


def wait_for(predicate: Callable[[], bool], deadline: float = 20.0, interval: float = 0.5) -> bool:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def seconds_until(predicate: Callable[[], bool], deadline: float, interval: float = 0.2) -> float:
    """How long until predicate holds (a figure for the report); inf if it never did."""
    started = time.monotonic()
    return time.monotonic() - started if wait_for(predicate, deadline, interval) else float("inf")
