"""Fixtures of the failover suites: the NIC-down modes a test runs in, the director of a
cluster settled before and after every scenario (every fault healed, every node back, one
director, every real weighted, no failed actions), and the NIC-down scenario that the
deployed cell's suite and the matrix share."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from checks.arp import owner_per_round
from checks.availability import answering_again
from checks.directors import director_at_end
from checks.verdict import Verdict, compose
from lab.cluster import ClusterReader, actions
from lab.control import Lab
from lab.errors import LabError
from lab.faults import NIC_MODES, nic_fault
from lab.shell import say
from probes.history import History
from scenarios.expectations import director_nic_down, fault_window
from scenarios.runner import FaultRun, run_fault

# Fixture name -> the option that lists its NIC-down modes.
MODE_OPTIONS = {"nic_mode": "--nic-modes", "matrix_mode": "--matrix-modes"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test asking for `nic_mode` (the deployed cell's scenarios) or `matrix_mode` (the
    matrix's cells) runs once per NIC-down mode its option names."""
    for fixture, option in MODE_OPTIONS.items():
        if fixture not in metafunc.fixturenames:
            continue
        wanted = metafunc.config.getoption(option)
        modes = sorted(NIC_MODES) if wanted == "all" else wanted.split(",")
        unknown = sorted(set(modes) - set(NIC_MODES))
        if unknown:
            raise pytest.UsageError(f"{option}: unknown {unknown} (of {sorted(NIC_MODES)})")
        metafunc.parametrize(fixture, modes)


@pytest.fixture
def director(cluster: ClusterReader) -> Iterator[str]:
    """The director of a settled cluster (a scenario starts from a whole cluster, not an
    idle one: its prober fills IPVS anyway); the cluster is settled again afterwards, pass
    or fail, so the next scenario never inherits a fault, a failcount or a missing node."""
    settled, took = actions.settle(cluster)
    say(f"settled in {took:.0f}s, director {settled}")
    yield settled
    _, took = actions.settle(cluster)
    say(f"settled again in {took:.0f}s")


@pytest.fixture(autouse=True)
def progress_on_terminal(terminal: Callable) -> Iterator[None]:
    """A scenario holds a fault for tens of seconds and waits for the cluster to settle:
    its progress lines go straight to the terminal, not into captured output."""
    with terminal():
        yield


@pytest.fixture
def nic_down_on_director(
    lab: Lab, cluster: ClusterReader, history: History, request: pytest.FixtureRequest
) -> Callable[[str], tuple[FaultRun, Verdict]]:
    """The director's service NIC cut one way (mode) on the deployed cell, held for the
    cell's window, healed: the run and its verdict (a strict xfail where the cell never
    recovers). Shared by the deployed cell's suite and the matrix."""
    return lambda mode: cut_directors_nic(lab, cluster, history, request, mode)


def cut_directors_nic(
    lab: Lab, cluster: ClusterReader, history: History, request: pytest.FixtureRequest, mode: str
) -> tuple[FaultRun, Verdict]:
    """The scenario and its verdict, for the deployed cell."""
    try:
        fault = nic_fault(lab, mode)
    except LabError as exc:  # a backend without this capability says so
        pytest.skip(str(exc))
    cell = cluster.cell()
    timing = cluster.failover_timing()
    expect = director_nic_down(cell, timing)
    history.event(
        "cell", stack=cell.stack, profile=cell.profile, corosync_links=cell.corosync_links,
        **timing,
    )  # fmt: skip
    if not expect.recovers:
        never = pytest.mark.xfail(strict=True, raises=AssertionError, reason=expect.why)
        request.applymarker(never)
    window = fault_window(expect.window_bound_s, request.config.getoption("--fault-window"))
    run = run_fault(lab, cluster, history, fault, cluster.director(), hold_s=window)
    attempts = run.attempts_until_heal()
    verdict = compose(
        f"NIC down ({mode}) on the director, {cell.name}",
        [
            answering_again(
                attempts, fault_at=run.fault_at, bound_s=expect.answering_s, on_the_path=True
            ).with_details(balanced_again_s=run.balanced_again_s(lab)),
            director_at_end(run.events["views"], cut=run.node, moved=expect.recovers),
            owner_per_round(run.history.of("arp-sniffer"), vip=str(lab.topology.vip)),
        ],
    )
    return run, verdict
