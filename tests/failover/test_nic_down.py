"""The director's service NIC goes down, each way the backend can cut it, on the cluster as
deployed (its profile and corosync layout read back from the nodes). The cell decides what
is expected: the VIP back elsewhere within the cell's bound, or, on seed + dual (the
article's NIC-down bug), never: a strict xfail whose reason is the mechanism, so the day it
starts passing the suite says so. docs/nic-down.md explains each cell."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from checks.arp import owner_per_round
from checks.availability import answering_again
from checks.directors import director_at_end
from checks.verdict import Verdict, compose
from lab.cluster import Cluster
from lab.control import Lab
from lab.errors import LabError
from lab.faults import nic_fault
from probes.history import History
from tests.failover.conftest import read_cell
from tests.failover.expectations import director_nic_down, fault_window
from tests.failover.scenario import FaultRun, run_fault

pytestmark = [pytest.mark.lab, pytest.mark.disruptive]


def nic_down_on_director(
    lab: Lab, ops: Cluster, history: History, request: pytest.FixtureRequest, mode: str
) -> tuple[FaultRun, Verdict]:
    """The scenario and its verdict, for the deployed cell (shared with the matrix)."""
    try:
        fault = nic_fault(lab, mode)
    except LabError as exc:  # a backend without this capability says so
        pytest.skip(str(exc))
    cell = read_cell(ops)
    timing = ops.failover_timing()
    expect = director_nic_down(cell, timing)
    history.event(
        "cell", stack=cell.stack, profile=cell.profile, corosync_links=cell.corosync_links,
        **timing,
    )  # fmt: skip
    if not expect.recovers:
        never = pytest.mark.xfail(strict=True, raises=AssertionError, reason=expect.why)
        request.applymarker(never)
    window = fault_window(expect.window_bound_s, request.config.getoption("--fault-window"))
    run = run_fault(lab, ops, history, fault, ops.director(), hold_s=window)
    attempts = run.attempts_until_heal()
    verdict = compose(
        f"NIC down ({mode}) on the director, {cell.cell}",
        [
            answering_again(
                attempts, fault_at=run.fault_at, bound_s=expect.answering_s, on_the_path=True
            ).with_details(balanced_again_s=run.balanced_again_s(lab)),
            director_at_end(run.events["views"], cut=run.node, moved=expect.recovers),
            owner_per_round(run.history.of("arp-sniffer"), vip=str(lab.topology.vip)),
        ],
    )
    return run, verdict


def test_vip_comes_back_when_the_directors_nic_goes_down(
    cluster: Lab,
    ops: Cluster,
    settled: str,
    history: History,
    judge: Callable[[Verdict], Verdict],
    request: pytest.FixtureRequest,
    nic_mode: str,
) -> None:
    _, verdict = nic_down_on_director(cluster, ops, history, request, nic_mode)
    judge(verdict)
    assert verdict.valid is True, verdict
