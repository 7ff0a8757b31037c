"""lc with long-lived sessions, the article's load: each new session goes to a node with the
fewest active connections on the director at that moment, held sessions keep working while
new ones are scheduled, and real OpenSSH sessions through the VIP (the second virtual
service, ssh_port in the inventory) reach every node and are balanced."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from checks.sessions import held_sessions_answer, least_connection, spread
from checks.verdict import Verdict, compose
from lab.cluster import ClusterReader
from lab.control import Lab
from probes.client_side import HeldSessions, sample
from probes.history import History

pytestmark = pytest.mark.lab

SESSIONS_PER_NODE = 2
SHORT_CONNECTIONS = 9


def hold_one_after_another(
    cluster: ClusterReader,
    director: str,
    port: int,
    sessions: HeldSessions,
    count: int,
    history: History,
) -> list[dict]:
    """Open count sessions, reading the director's ActiveConn before each."""
    placements = []
    for _ in range(count):
        active = cluster.active_by_node(director, port)
        opened = history.add("holder", port=port, **sessions.open())
        placements.append({"node": opened["node"], "active": active})
    return placements


def test_lc_places_held_tcp_sessions_on_the_least_active_node(
    lab: Lab,
    cluster: ClusterReader,
    director: str,
    history: History,
    judge: Callable[[Verdict], Verdict],
) -> None:
    topo = lab.topology
    names = [n.name for n in lab.nodes]
    with HeldSessions(lab, str(topo.vip), topo.port) as sessions:
        placements = hold_one_after_another(
            cluster, director, topo.port, sessions, SESSIONS_PER_NODE * len(names), history
        )
        # New short connections are scheduled while the sessions stay held ...
        short = history.extend("sampler", sample(lab, str(topo.vip), topo.port, SHORT_CONNECTIONS))
        # ... and every held session still answers, from the node that took it.
        pings = history.extend("holder", sessions.ping())
        held_active = cluster.active_by_node(director, topo.port)
    verdicts = [
        least_connection(placements),
        spread([p["node"] for p in placements], names, max_skew=0),
        held_sessions_answer(pings),
        Verdict.judge(
            "short connections while held",
            [] if all(r["ok"] for r in short) else ["a short connection failed"],
            {"answers": [r["node"] for r in short], "active_while_held": held_active},
        ),
    ]
    verdict = judge(compose("lc with held TCP sessions", verdicts))
    assert verdict.valid is True, verdict


def test_ssh_sessions_through_the_vip_reach_every_node_balanced_by_lc(
    lab: Lab,
    cluster: ClusterReader,
    director: str,
    history: History,
    judge: Callable[[Verdict], Verdict],
) -> None:
    topo = lab.topology
    if topo.ssh_port is None:
        pytest.fail("the inventory sets no ssh_port: the SSH virtual service is not configured")
    names = [n.name for n in lab.nodes]
    with HeldSessions(
        lab, str(topo.vip), topo.ssh_port, transport="ssh", ssh_key=lab.ssh_key
    ) as sessions:
        placements = hold_one_after_another(
            cluster, director, topo.ssh_port, sessions, SESSIONS_PER_NODE * len(names), history
        )
        pings = history.extend("holder", sessions.ping())
    verdicts = [
        least_connection(placements),
        spread([p["node"] for p in placements], names, max_skew=0),
        held_sessions_answer(pings),
    ]
    verdict = judge(compose("lc with held SSH sessions", verdicts))
    assert verdict.valid is True, verdict
