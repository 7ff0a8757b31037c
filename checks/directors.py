"""Who directs at the end of a fault window, from every reachable node's own view
(lab.cluster.ClusterReader.directors_seen): pure functions over those views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.verdict import Verdict

View = Mapping[str, Any]


def director_at_end(views: Mapping[str, View], *, cut: str, moved: bool) -> Verdict:
    """pacemaker: every quorate partition sees one Promoted lvs: another node when the cell
    recovers, still the cut node when it does not (the NIC-down bug's signature).
    keepalived, whose views are VRRP states (no quorum): vrrp_masters_at_end."""
    if views and all("vrrp" in view for view in views.values()):
        return vrrp_masters_at_end(views, cut=cut)
    quorate = {node: v["promoted"] for node, v in views.items() if v["quorate"]}
    problems = []
    if not quorate:
        problems.append("no node is in a quorate partition")
    for node, promoted in quorate.items():
        if len(promoted) != 1:
            problems.append(f"{node} sees promoted {promoted}")
        elif (promoted[0] != cut) != moved:
            problems.append(f"{node} sees {promoted[0]} promoted, cut node {cut}")
    details = {"views": dict(views), "cut": cut, "expected_moved": moved}
    return Verdict.judge("one director at the end of the window", problems, details)


def vrrp_masters_at_end(views: Mapping[str, View], *, cut: str) -> Verdict:
    """keepalived: one master among the nodes still on the service network, not the cut
    node. The cut node's own state is recorded, not judged: MASTER there is a split brain
    (no quorum stops a master that hears no one; its VIP is unreachable while the cut
    holds), FAULT when keepalived saw its NIC go down."""
    states = {node: view["vrrp"] for node, view in views.items()}
    connected = sorted(n for n, state in states.items() if state == "MASTER" and n != cut)
    problems = [] if len(connected) == 1 else [f"masters on the service network: {connected}"]
    details = {"states": states, "cut": cut, "split_brain": states.get(cut) == "MASTER"}
    return Verdict.judge("one VRRP master on the service network", problems, details)


def director_stays(views: Mapping[str, View], *, director: str, cut: str) -> Verdict:
    """A real server failed, not the director: every quorate partition still sees the
    director promoted (pacemaker); on keepalived the director is still the one master among
    the nodes on the service network (a cut backup that hears no advert makes itself master
    too: a split brain, recorded)."""
    name = "the director stays where it was"
    details = {"director": director, "views": dict(views)}
    if views and all("vrrp" in view for view in views.values()):
        states = {node: view["vrrp"] for node, view in views.items()}
        masters = sorted(n for n, state in states.items() if state == "MASTER" and n != cut)
        problems = [] if masters == [director] else [f"masters on the service network: {masters}"]
        return Verdict.judge(
            name, problems, {**details, "split_brain": states.get(cut) == "MASTER"}
        )
    quorate = {n: v["promoted"] for n, v in views.items() if v["quorate"]}
    problems = [f"{n} sees {p} promoted" for n, p in quorate.items() if p != [director]]
    if not quorate:
        problems.append("no node is in a quorate partition")
    return Verdict.judge(name, problems, details)
