"""The NIC-down bug as a matrix: the director's service NIC cut on the corosync layout where
the bug lives (dual: a second knet link on the management network), under both profiles.
seed + dual never recovers (strict xfail, the mechanism as the reason); hardened + dual
must; and on hardened a director kill leaves a single outage (no second window when the new
director's ldirectord starts). Each cell is deployed in place (lvslab deploy --profile P
--corosync-links L), and the cell the cluster had is deployed again at the end.

Switching cells redeploys the cluster under test, so it runs only when asked:
--switch-cells (make check, make run and make failover-matrix pass it). Modes per cell:
--matrix-modes (drop in make check; all of them in the nightly job). The hardened cell's
director kill runs with --matrix-kill (make check, make failover-matrix; not make run)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from checks.arp import owner_per_round
from checks.availability import availability, one_outage
from checks.verdict import Verdict, compose
from harness.prerequisites import fault_or_skip
from lab import deploy
from lab.cluster import Cell, ClusterReader, actions
from lab.control import Lab
from lab.faults import NodeKill
from probes.history import History
from scenarios.expectations import director_killed, kill_window
from scenarios.runner import FaultRun, run_fault

pytestmark = [pytest.mark.lab, pytest.mark.disruptive]
CELLS = [Cell("seed", "dual"), Cell("hardened", "dual")]


def deploy_cell(lab: Lab, cluster: ClusterReader, cell: Cell, terminal: Callable) -> None:
    if cluster.deployed_cell() == cell:
        return
    with terminal():
        deploy.deploy(lab, settings=cell.settings())


@pytest.fixture(scope="module")
def original_cell(
    lab: Lab, cluster: ClusterReader, request: pytest.FixtureRequest, terminal: Callable
) -> Iterator[None]:
    if cluster.stack != "pacemaker":
        pytest.skip(f"{cluster.stack} stack: the matrix is pacemaker's profiles and layouts")
    if lab.state.backend == "hosts":
        pytest.skip("the matrix redeploys other cells: never on real hosts")
    if not request.config.getoption("--switch-cells"):
        pytest.skip("the matrix redeploys other cells: pass --switch-cells to allow it")
    actions.settle(cluster)
    before = cluster.cell()
    yield
    actions.settle(cluster)
    deploy_cell(lab, cluster, before, terminal)


@pytest.fixture(scope="module", params=CELLS, ids=[c.name for c in CELLS])
def cell(
    original_cell: None,
    lab: Lab,
    cluster: ClusterReader,
    request: pytest.FixtureRequest,
    terminal: Callable,
) -> Cell:
    actions.settle(cluster)
    deploy_cell(lab, cluster, request.param, terminal)
    got = cluster.cell()
    assert got == request.param, f"deployed {got.name}, asked for {request.param.name}"
    # The switch reloads corosync.conf in place: the running links must follow.
    links = {n.name: cluster.corosync_links(n.name) for n in lab.nodes}
    want = got.knet_links
    assert set(links.values()) == {want}, f"{got.name}: corosync runs links {links}, not {want}"
    return got


def test_nic_down_cell(
    cell: Cell,
    lab: Lab,
    cluster: ClusterReader,
    director: str,
    history: History,
    judge: Callable[[Verdict], Verdict],
    request: pytest.FixtureRequest,
    matrix_mode: str,
    nic_down_on_director: Callable[[str], tuple[FaultRun, Verdict]],
) -> None:
    _, verdict = nic_down_on_director(matrix_mode)
    judge(verdict)
    assert verdict.valid is True, verdict


@pytest.fixture
def kill_cell(cell: Cell, request: pytest.FixtureRequest) -> Cell:
    """The cell, if its director kill runs here (asked before `director`: a skip costs
    nothing)."""
    if cell.profile == "seed":
        pytest.skip("seed's director kill is judged in test_director_kill.py")
    if not request.config.getoption("--matrix-kill"):
        pytest.skip("director kill per cell: --matrix-kill (make check, make failover-matrix)")
    return cell


def test_director_kill_cell(
    kill_cell: Cell,
    lab: Lab,
    cluster: ClusterReader,
    director: str,
    history: History,
    judge: Callable[[Verdict], Verdict],
    request: pytest.FixtureRequest,
) -> None:
    """hardened: a director kill without a second outage (the IPVS seed), within the
    tuned token's bound. seed's kill is tests/failover/test_director_kill.py's, on the
    deployed cell."""
    cell = kill_cell
    timing = cluster.failover_timing()
    expect = director_killed(timing, cell)
    history.event("cell", profile=cell.profile, corosync_links=cell.corosync_links, **timing)
    run = run_fault(
        lab,
        cluster,
        history,
        fault_or_skip(lambda: NodeKill(lab)),
        director,
        hold_s=kill_window(request.config.getoption("--fault-window")),
    )
    attempts = run.attempts_until_heal()
    verdict = judge(
        compose(
            f"director killed, {cell.name}: one outage, within the bound",
            [
                availability(
                    attempts, fault_at=run.fault_at, bound_s=expect.bound_s, on_the_path=True
                ).with_details(balanced_again_s=run.balanced_again_s(lab)),
                one_outage(attempts, fault_at=run.fault_at),
                owner_per_round(history.of("arp-sniffer"), vip=str(lab.topology.vip)),
            ],
        )
    )
    assert verdict.valid is True, verdict
