"""Fixtures of the failover suites: the deployed cell read back from the cluster, corosync's
timing as it runs, and a cluster settled before and after every scenario (every fault
healed, every node back, one director, every real weighted, no failed actions)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from lab.cluster import Cluster, Deployed
from lab.control import Lab
from lab.errors import LabError
from lab.faults import NIC_MODES, Fault
from lab.shell import say

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


def fault_or_skip(make: Callable[[], Fault]) -> Fault:
    """The fault, or a skip that says why this lab cannot make it (a backend without the
    capability: real hosts whose inventory names no power commands cannot be killed)."""
    try:
        return make()
    except LabError as exc:
        pytest.skip(str(exc))


def read_cell(ops: Cluster) -> Deployed:
    cell = ops.deployed()
    if cell is None:
        raise LabError("the nodes carry no complete deploy record: deploy (make deploy) first")
    return cell


@pytest.fixture
def settled(cluster: Lab, ops: Cluster) -> Iterator[str]:
    """The director of a settled cluster; the cluster is settled again afterwards, pass or
    fail, so the next scenario never inherits a fault, a failcount or a missing node."""
    director, took = ops.settle()
    say(f"settled in {took:.0f}s, director {director}")
    yield director
    _, took = ops.settle()
    say(f"settled again in {took:.0f}s")


@pytest.fixture(autouse=True)
def progress_on_terminal(terminal: Callable) -> Iterator[None]:
    """A scenario holds a fault for tens of seconds and waits for the cluster to settle:
    its progress lines go straight to the terminal, not into captured output."""
    with terminal():
        yield
