"""What the suites do to a deployed cluster, as opposed to reading it: settle it after a
fault, wait until it idles, move the director, point the client's ARP entry at the
director, stop or start a node's test responder. Each stack brings its own move and its own
clean-up of failed actions (STACK_ACTIONS)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from lab import faults
from lab.cluster import keepalived, pacemaker
from lab.cluster.parse import neighbour_mac
from lab.cluster.reader import ClusterReader
from lab.shell import say
from lab.waiting import wait_for

SETTLE_DEADLINE = 240  # s; a killed UML node boots in ~15 s and rejoins in ~40 s
# IPVS counts a half-open connection (SYN_RECV, e.g. the director's own attempt to reach
# the VIP scheduled to another real: docs/caveats.md) as active for 60 s, and keeps a closed
# one's inactive entry for up to 120 s (FIN_WAIT, TIME_WAIT); 30 s margin for polling over
# ssh on a busy host.
IDLE_DEADLINE = 150
MOVE_DEADLINE = 120
RESPONDER_UNIT = "lvs-responder"

# stack -> (move the director to a node within a deadline, clear failed actions)
STACK_ACTIONS: dict[str, tuple[Callable[[Any, str, float], None], Callable[[Any], None]]] = {
    "pacemaker": (pacemaker.move_director, pacemaker.clear_failures),
    "keepalived": (keepalived.move_director, keepalived.clear_failures),
}


def settle(cluster: ClusterReader, deadline: float = SETTLE_DEADLINE) -> tuple[str, float]:
    """Heal every fault and wait until the cluster is settled (ClusterReader.settled());
    failed actions left by a fault are cleaned up once the nodes are back. Returns the
    director and the seconds it took."""
    started = time.monotonic()
    lab = cluster.lab
    faults.heal_all(lab)
    lab.wait_reachable([n.name for n in lab.nodes])
    STACK_ACTIONS[cluster.stack][1](cluster)
    say("waiting for the cluster to settle (all online, one director, every real weighted)")
    director, _ = wait_for(
        "the cluster settles", cluster.settled, deadline - (time.monotonic() - started), 1.0
    )
    point_client_at(cluster, director)
    return director, time.monotonic() - started


def wait_idle(cluster: ClusterReader, deadline: float = IDLE_DEADLINE) -> tuple[str, float]:
    """Wait for ClusterReader.idle(); returns the director and the seconds it took."""
    what = "the cluster idles (settled, no active IPVS entry, InActConn even)"
    return wait_for(what, cluster.idle, deadline, 2)


def move_director(cluster: ClusterReader, to: str, deadline: float = MOVE_DEADLINE) -> float:
    """Make `to` the director and wait until it directs with its balancer beside it.
    Returns the seconds it took."""
    cluster.lab.node(to)  # a LabError for a node the lab does not have
    started = time.monotonic()
    STACK_ACTIONS[cluster.stack][0](cluster, to, deadline)
    return time.monotonic() - started


def point_client_at(cluster: ClusterReader, director: str) -> None:
    """Make the client's next packet for the VIP go to the director: its ARP entry for the
    VIP is dropped when it names another node. On keepalived a master that yields after a
    split brain heals keeps the VIP on lo and its fwmark services, so it goes on balancing
    the clients whose entry still names it; the client re-resolves and only the master
    answers."""
    lab = cluster.lab
    vip = str(lab.topology.vip)
    held = neighbour_mac(lab.client(["ip", "-j", "neigh", "show", vip], check=False).stdout)
    if held is None or held == cluster.service_mac(director):
        return
    named = next((n.name for n in lab.nodes if cluster.service_mac(n.name) == held), held)
    say(f"the client's ARP entry for {vip} names {named}, not the director {director}: flushed")
    lab.client(["ip", "neigh", "flush", "to", vip], check=False)


def responder(cluster: ClusterReader, node: str, action: str) -> None:
    """Stop or start the test responder on node (a real server that stops serving)."""
    if action not in ("start", "stop"):
        raise ValueError(f"responder action {action!r}")
    cluster.lab.ssh(node, f"systemctl {action} {RESPONDER_UNIT}")
