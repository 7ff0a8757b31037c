"""A real server that is not the director fails: killed, or its service NIC cut (each mode
--matrix-modes asks for). The director stays where it is; its ldirectord quiesces the real
(weight 0, quiescent=yes) at its next failed check; until then lc may still schedule new
connections to it, and only those fail (the director's connection table says where each
failed attempt went). After the heal the real is weighted in again.

Given a settled cluster, its director and another node, when that node fails for the fault
window and is healed, then the outcomes below hold."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from checks.arp import owner_per_round
from checks.availability import failures_only_sent_to
from checks.directors import director_stays
from checks.verdict import Verdict, compose
from harness.prerequisites import fault_or_skip
from lab.cluster import ClusterReader, actions
from lab.control import Lab
from lab.errors import LabError
from lab.faults import Fault, NodeKill, nic_fault
from probes.history import History
from scenarios.expectations import fault_window, real_server_out_bound
from scenarios.runner import FaultRun, run_fault

pytestmark = [pytest.mark.lab, pytest.mark.disruptive]


def weight_watch(
    cluster: ClusterReader, history: History, director: str, real: str
) -> Callable[[], None]:
    """A tick for the fault window: records when the director first lists real at weight 0."""
    port = cluster.lab.topology.port
    seen: list[float] = []

    def tick() -> None:
        if seen:
            return
        try:
            weight = cluster.weight_by_node(director, port).get(real)
        except LabError:  # one slow ssh round trip is not the scenario's concern
            return
        if weight == 0:
            seen.append(history.event("weight 0", node=real)["t"])

    return tick


def quiesced_in_time(run: FaultRun, bound_s: float) -> Verdict:
    out = [e["t"] for e in run.history.of("event") if e.get("what") == "weight 0"]
    after = round(out[0] - run.fault_at, 2) if out else None
    problems = []
    if after is None:
        problems.append(f"{run.node} never went to weight 0 in the window")
    elif after > bound_s:
        problems.append(f"{run.node} at weight 0 only {after}s after the fault")
    details = {"real": run.node, "out_after_s": after, "bound_s": bound_s}
    return Verdict.judge("the director quiesces it within the bound", problems, details)


def weighted_in_again(cluster: ClusterReader, real: str) -> Verdict:
    director, took = actions.settle(cluster)
    weights = cluster.weight_by_node(director, cluster.lab.topology.port)
    problems = [] if weights.get(real, 0) > 0 else [f"{real} at weight {weights.get(real)}"]
    details = {"weights": weights, "settled_in_s": round(took, 1)}
    return Verdict.judge("weighted in again after the heal", problems, details)


# What the cut backup's GARP bursts do to the client, with a timeline: docs/keepalived.md.
BACKUP_TAKES_VIP = (
    "keepalived, NIC `drop` on a backup: it hears no advert (its input is dropped), makes "
    "itself master after the master-down interval (split brain: no quorum) and sends "
    "gratuitous ARP on a packet socket, which the in-guest firewall does not filter: the "
    "client's ARP entry for the VIP moves to a node whose input is dropped, and connections "
    "fail until the client asks for the VIP's address again. A one-way link failure does "
    "the same"
)


def real_server_fails(
    lab: Lab,
    cluster: ClusterReader,
    history: History,
    request: pytest.FixtureRequest,
    fault: Fault,
    director: str,
) -> Verdict:
    real = next(n.name for n in lab.nodes if n.name != director)
    bound = real_server_out_bound(
        *cluster.check_timing(director),
    )
    window = fault_window(bound, request.config.getoption("--fault-window"))
    watch = weight_watch(cluster, history, director, real)
    run = run_fault(lab, cluster, history, fault, real, hold_s=window, watch=watch)
    attempts = run.attempts_until_heal()
    return compose(
        f"{fault.name} on real server {real}, director {director}",
        [
            quiesced_in_time(run, bound),
            failures_only_sent_to(attempts, fault_at=run.fault_at, node=real),
            director_stays(run.events["views"], director=run.director_before, cut=run.node),
            owner_per_round(history.of("arp-sniffer"), vip=str(lab.topology.vip)),
            weighted_in_again(cluster, real),
        ],
    )


def test_a_killed_real_server_is_taken_out_and_back(
    lab: Lab,
    cluster: ClusterReader,
    director: str,
    history: History,
    judge: Callable[[Verdict], Verdict],
    request: pytest.FixtureRequest,
) -> None:
    kill = fault_or_skip(lambda: NodeKill(lab))  # hosts without power commands cannot
    verdict = judge(real_server_fails(lab, cluster, history, request, kill, director))
    assert verdict.valid is True, verdict


def test_a_real_server_whose_nic_goes_down_is_taken_out_and_back(
    lab: Lab,
    cluster: ClusterReader,
    director: str,
    history: History,
    judge: Callable[[Verdict], Verdict],
    request: pytest.FixtureRequest,
    matrix_mode: str,
) -> None:
    fault = fault_or_skip(lambda: nic_fault(lab, matrix_mode))
    if cluster.stack == "keepalived" and matrix_mode == "drop":
        stolen = pytest.mark.xfail(strict=True, raises=AssertionError, reason=BACKUP_TAKES_VIP)
        request.applymarker(stolen)
    verdict = judge(real_server_fails(lab, cluster, history, request, fault, director))
    assert verdict.valid is True, verdict
