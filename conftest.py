"""pytest wiring shared by every suite: options, and the gate for tests that need a lab.

Tests marked `lab` need root and the chosen backend's tools. Without them they skip with the
reason, except under --require-lab (CI, make check), where a missing prerequisite fails."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import testinfra
import testinfra.host

from lab import control, deploy
from lab.backends import BACKENDS
from lab.control import Lab
from lab.errors import LabError
from lab.state import DEFAULT_LAB_NAME


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lvs-ha-lab")
    group.addoption("--lab", choices=sorted(BACKENDS), default="uml", help="lab backend")
    group.addoption(
        "--lab-name",
        default=os.environ.get("LVSLAB_NAME", DEFAULT_LAB_NAME),
        help="the lab instance the suites run against",
    )
    group.addoption(
        "--keep-lab",
        action="store_true",
        help="leave a lab that pytest brought up running at the end",
    )
    group.addoption(
        "--require-lab",
        action="store_true",
        help="fail, instead of skipping, lab tests whose prerequisites are missing",
    )


def lab_prerequisite_problem(backend: str) -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    if backend == "uml" and shutil.which("linux.uml") is None:
        return "needs Debian's user-mode-linux (make setup)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problem = lab_prerequisite_problem(config.getoption("--lab"))
    if problem is None:
        return
    lab_items = [item for item in items if "lab" in item.keywords]
    if lab_items and config.getoption("--require-lab"):
        raise pytest.UsageError(f"--require-lab: {len(lab_items)} lab tests, but the lab {problem}")
    for item in lab_items:
        item.add_marker(pytest.mark.skip(reason=f"lab test {problem}"))


# --- Fixtures for the suites that run against a deployed lab (tests/functional, failover).
# pytest deploys on demand: `make lab-up && pytest` works, and so does plain `pytest` as
# root (it then brings a lab up first and takes it down at the end).

INVENTORY = Path(__file__).parent / "ansible" / "hosts"


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    name = request.config.getoption("--lab-name")
    try:
        existing = Lab.find(name)
    except LabError:
        existing = None
    if existing is not None and all(existing.backend.alive(n.name) for n in existing.nodes):
        yield existing
        return
    made = control.up(INVENTORY, name=name, backend=request.config.getoption("--lab"))
    try:
        yield made
    finally:
        if not request.config.getoption("--keep-lab"):
            control.down(name)


def cluster_deployed(lab: Lab) -> bool:
    first = lab.nodes[0].name
    query = "cibadmin --query --xpath \"//primitive[@id='ldirectord']\""
    return lab.ssh(first, query, check=False).returncode == 0


@pytest.fixture(scope="session")
def cluster(lab: Lab) -> Lab:
    """The lab with the cluster deployed (deploying it if it is not)."""
    if not cluster_deployed(lab):
        deploy.deploy(lab)
    return lab


@pytest.fixture(scope="session")
def hosts(cluster: Lab) -> dict[str, testinfra.host.Host]:
    """testinfra hosts over the lab's ssh_config, by node name."""
    config = str(cluster.state.ssh_config)
    return {n.name: testinfra.get_host(f"ssh://{n.name}", ssh_config=config) for n in cluster.nodes}
