"""What the lab's own tests (and its soak) share: the inventory and name of the lab they
bring up, and what they observe of a node, its service address seen from the client side."""

from __future__ import annotations

from lab.control import Lab
from lab.deploy import ANSIBLE_DIR

INVENTORY = ANSIBLE_DIR / "hosts"
INSTANCE = "lvslab-selftest"  # never the suites' lab: the self-tests cut and kill its nodes

PROBE_PORT = 22  # sshd listens on every address, so the service IP answers before any deploy
EFFECT_S = 20.0  # a fault's effect, seen from the client side: seconds on a loaded 2-core host


def service_answers(lab: Lab, node: str) -> bool:
    ip = str(lab.node(node).service_ip)
    proc = lab.client(["nc", "-z", "-w", "2", ip, str(PROBE_PORT)], check=False, timeout=10)
    return proc.returncode == 0
