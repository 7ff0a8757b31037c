"""The lab's life cycle on a lab of its own, brought up fresh for each test: a node killed
the moment the lab is up boots again, `down` leaves nothing behind, and `down; up` back to
back works. (The shared selftest lab stays up for the other lab tests.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.prerequisites import require
from lab import control, faults, netns
from lab.backends.uml import pids_of_lab
from lab.control import Lab
from lab.selftest import INVENTORY, service_answers
from lab.state import lab_dir

pytestmark = [pytest.mark.lab, pytest.mark.disruptive]

INSTANCE = "lvslab-lifecycle"
# A node boots to ssh in 11-15 s here (three at once: 13-15 s). A node whose first-boot
# files were torn by the kill never comes back (its sshd fails; up gives up at 300 s), so
# 60 s separates the two outcomes with a 4x margin for a loaded host.
REBOOT_BOUND_S = 60.0


@pytest.fixture
def fresh_lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    require(request.config, request.config.getoption("--lab") == "uml", "drives UML directly")
    control.down(INSTANCE)
    lab = control.up(INVENTORY, name=INSTANCE, backend="uml")
    yield lab
    control.down(INSTANCE)


def leftovers(lab: Lab) -> list[str]:
    """What of the lab is still there: processes, namespace, run dir, taps in the root
    namespace."""
    found = [f"pid {p}" for p in pids_of_lab(lab.state.run_dir)]
    if netns.exists(INSTANCE):
        found.append(f"namespace {INSTANCE}")
    if lab_dir(INSTANCE).exists():
        found.append(str(lab_dir(INSTANCE)))
    links = Path("/sys/class/net")
    taps = [d["service_tap"] for d in lab.state.node_data.values()]
    taps += [d["mgmt_tap"] for d in lab.state.node_data.values()]
    found += [f"tap {tap} in the root namespace" for tap in taps if (links / tap).exists()]
    return found


def test_a_node_killed_the_moment_the_lab_is_up_boots_again(fresh_lab: Lab) -> None:
    node = "node2"
    host_key = "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub"
    fingerprint = fresh_lab.ssh(node, host_key).stdout.split()[1]
    kill = faults.NodeKill(fresh_lab)
    kill.apply(node)  # well inside the ~30 s a first boot's writes could sit in page cache
    started = time.monotonic()
    assert kill.heal(node)["booted"] is True
    took = time.monotonic() - started
    assert took < REBOOT_BOUND_S, f"{node} took {took:.0f}s to boot again"
    assert fresh_lab.ssh(node, host_key).stdout.split()[1] == fingerprint, "host key changed"
    assert fresh_lab.ssh(node, "systemctl is-system-running --wait").stdout.strip() == "running"
    assert service_answers(fresh_lab, node)


def test_down_leaves_nothing_behind_when_it_returns(fresh_lab: Lab) -> None:
    removed = control.down(INSTANCE)
    assert removed
    # No waiting here: down returns only once everything is gone.
    assert leftovers(fresh_lab) == []
    assert control.down(INSTANCE) == []  # down on nothing is fine


def test_down_then_up_back_to_back(fresh_lab: Lab) -> None:
    control.down(INSTANCE)
    again = control.up(INVENTORY, name=INSTANCE, backend="uml")
    assert all(again.reachable(n.name) for n in again.nodes)
    assert all(service_answers(again, n.name) for n in again.nodes)
