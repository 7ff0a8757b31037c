"""A new director announces itself with gratuitous ARP, and only the director ever answers
ARP for the VIP (the real servers hold it on lo, silenced by arp_ignore/arp_announce).

The director is moved (lab.cluster.Cluster: a temporary location constraint on pacemaker;
on keepalived, the other nodes' keepalived stopped until the new one is master), the
sniffer running on the client side, round every node and back to the first, so the cluster
is left as found (resource-stickiness=100, or keepalived's nopreempt, would otherwise keep
it on the new node). The announcement judged is the stack's: the lvs agent's send_arp, or
keepalived's VRRP gratuitous ARP (checks.arp)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator

import pytest

from checks.arp import one_owner
from checks.verdict import Verdict, compose
from lab.cluster import ClusterReader, actions, journal
from lab.control import Lab
from probes.client_side import ArpSniffer, arp_query, sample
from probes.history import History
from scenarios.announcement import VRRP_GARP, announcement_check

pytestmark = pytest.mark.lab

# Journal lines of the new director: pacemaker asks for the promote, the agent says it runs;
# keepalived's VRRP instance enters MASTER (and announces at once).
PROMOTE_MARKS = {
    "pacemaker": {
        "promote requested": "Requesting local execution of promote",
        "promoting logged": "promoting:",
    },
    "keepalived": {"promote requested": "Entering MASTER STATE"},
}
# The sniffer keeps listening this long after the move has settled, so a late or stray
# announcement (say, from the old director) would still be seen; on keepalived past its
# second burst too (VrrpGarp: keepalived's defaults, which keepalived.conf.j2 keeps).
LISTEN_AFTER_S = 2.0


@pytest.fixture
def restore_director(cluster: ClusterReader) -> Iterator[str]:
    """The director when the test starts; it is the director again when the test ends."""
    original = cluster.director()
    yield original
    if cluster.director() != original:
        actions.move_director(cluster, original)


def neighbour_mac(lab: Lab, ip: str) -> str | None:
    """The client side's neighbour entry for ip (the kernel's ARP cache)."""
    out = lab.client(["ip", "neigh", "show", ip, "dev", lab.client_ifname]).stdout.split()
    return out[out.index("lladdr") + 1].lower() if "lladdr" in out else None


def owner_verdict(lab: Lab, cluster: ClusterReader, history: History, director: str) -> Verdict:
    vip = str(lab.topology.vip)
    answers = history.extend("arp-query", arp_query(lab, vip))
    return one_owner(answers, vip=vip, owner_mac=cluster.service_mac(director))


def test_only_the_director_answers_arp_for_the_vip(
    lab: Lab, cluster: ClusterReader, history: History, judge: Callable[[Verdict], Verdict]
) -> None:
    verdict = judge(owner_verdict(lab, cluster, history, cluster.director()))
    assert verdict.valid is True, verdict


def test_new_director_announces_itself_with_gratuitous_arp(
    lab: Lab,
    cluster: ClusterReader,
    history: History,
    judge: Callable[[Verdict], Verdict],
    restore_director: str,
) -> None:
    """The director goes round every node and back to the first: each new director
    announces itself, each time one MAC answers for the VIP before and after, and the
    client side's entry follows."""
    vip = str(lab.topology.vip)
    first = restore_director
    names = [n.name for n in lab.nodes]
    tour = [first, *(n for n in names if n != first), first]
    announced = announcement_check(cluster, vip)
    listen_s = LISTEN_AFTER_S + (VRRP_GARP.delay_s + VRRP_GARP.delay_tolerance_s) * (
        cluster.stack == "keepalived"
    )
    # One connection through the VIP gives the client side a neighbour entry for it (the
    # director's MAC); each gratuitous ARP must then override it.
    assert all(r["ok"] for r in sample(lab, vip, lab.topology.port, 1))
    assert neighbour_mac(lab, vip) == cluster.service_mac(first), "precondition"

    verdicts = []
    for old, new in itertools.pairwise(tour):
        new_mac = cluster.service_mac(new)
        verdicts.append(owner_verdict(lab, cluster, history, old))
        with ArpSniffer(lab) as sniffer:
            since = time.time()
            history.event("move director", frm=old, to=new)
            took = actions.move_director(cluster, new)
            history.event("director moved", to=new, seconds=round(took, 1))
            time.sleep(listen_s)
            frames = history.extend("arp-sniffer", sniffer.stop())
        entry_after = neighbour_mac(lab, vip)  # before any traffic could refresh it
        offset = journal.clock_offset(lab, new)
        history.event(
            "clock offset", node=new, seconds=offset.seconds, uncertainty=offset.uncertainty
        )
        logged = journal.log_times(lab, new, PROMOTE_MARKS[cluster.stack], since, offset)
        for what, at in sorted(logged.items(), key=lambda item: item[1]):
            history.event(what, t=at, node=new)
        promoted_at = logged.get("promote requested")
        verdicts.append(announced(frames, new_mac, promoted_at))
        verdicts.append(
            Verdict.judge(
                "client neighbour entry follows",
                [] if entry_after == new_mac else [f"VIP at {entry_after}, want {new_mac}"],
                {"to": new, "entry": entry_after},
            )
        )
        verdicts.append(owner_verdict(lab, cluster, history, new))
    verdict = judge(compose("GARP on every director move", verdicts))
    assert verdict.valid is True, verdict
