"""The VIP spreads connections over every node, as the article verifies it (curl and nc
from another machine; here, the client side of the service network)."""

from __future__ import annotations

import json
import sys
from collections import Counter

import pytest

from lab.control import Lab

pytestmark = pytest.mark.lab

CONNECTIONS = 30


def sample_http(cluster: Lab, count: int) -> list[dict]:
    """requests from the client side, through the probe module, in the lab's namespace."""
    topo = cluster.topology
    proc = cluster.client(
        [
            sys.executable,
            "-m",
            "probes.sampler",
            str(topo.vip),
            str(topo.port),
            "--count",
            str(count),
            "--method",
            "http",
        ],
        timeout=count * 5,
    )
    return [json.loads(line) for line in proc.stdout.splitlines()]


def sample_nc(cluster: Lab, count: int) -> list[str | None]:
    """The article's own check: a plain nc that reads the name the responder sends."""
    topo = cluster.topology
    answers = []
    for _ in range(count):
        proc = cluster.client(
            ["nc", "-w", "3", str(topo.vip), str(topo.port)], check=False, timeout=10
        )
        answers.append(proc.stdout.strip() or None)
    return answers


def assert_spread(cluster: Lab, answers: list[str | None]) -> None:
    __tracebackhide__ = True
    names = {n.name for n in cluster.nodes}
    counts = Counter(answers)
    assert None not in counts, f"failed connections: {counts[None]} of {len(answers)}"
    assert set(counts) == names, f"answers {dict(counts)}, expected every one of {names}"
    # lc sends each new connection to the real server with the fewest (256 x active +
    # inactive) connections. One short connection at a time leaves none active and adds one
    # inactive entry to the chosen node, so the choice rotates and per-node counts stay
    # within one of each other; allow two for entries left over from earlier probes.
    assert max(counts.values()) - min(counts.values()) <= 2, f"uneven spread {dict(counts)}"


def test_http_through_the_vip_reaches_every_node_evenly(cluster: Lab) -> None:
    records = sample_http(cluster, CONNECTIONS)
    assert len(records) == CONNECTIONS
    assert_spread(cluster, [r["node"] if r["ok"] else None for r in records])


def test_nc_through_the_vip_reaches_every_node_evenly(cluster: Lab) -> None:
    assert_spread(cluster, sample_nc(cluster, CONNECTIONS))
