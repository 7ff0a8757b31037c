"""The harness as a pytest plugin: its options, the suites' order, the gate for tests that
need a lab, the fixtures of the suites (the lab, the deployed cluster, probe histories and
verdicts) and the run's report.

Tests marked `lab` need root and the chosen backend's tools. Without them they skip with the
reason, except under --require-lab (CI, make check), where a missing prerequisite fails.
The repository's conftest.py loads it (pytest_plugins)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import testinfra
import testinfra.host

from checks.verdict import Verdict
from harness.ordering import functional_first, leftovers_last, shuffle_functional
from harness.prerequisites import lab_prerequisite_problem, require
from lab import control, deploy, facts
from lab.backends import BACKENDS
from lab.cluster import ClusterReader, actions, open_cluster
from lab.cluster.cell import deployed_cell
from lab.control import Lab
from lab.errors import LabError
from lab.releases import DEFAULT_RELEASE, RELEASES
from lab.state import DEFAULT_LAB_NAME
from probes.history import History
from report import html, timeline
from report.paths import folder_name, mark_latest, new_run_dir


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lvs-ha-lab")
    group.addoption("--lab", choices=sorted(BACKENDS), default="uml", help="lab backend")
    group.addoption(
        "--release",
        choices=sorted(RELEASES),
        default=os.environ.get("LVSLAB_RELEASE"),
        help="the Debian release of a lab pytest brings up (default: LVSLAB_RELEASE, else "
        f"{DEFAULT_RELEASE}); a running lab of another release is an error",
    )
    group.addoption(
        "--stack",
        choices=deploy.STACKS,
        default=os.environ.get("LVSLAB_STACK"),
        help="the stack to deploy where nothing is deployed yet (default: LVSLAB_STACK, else "
        "pacemaker); a lab deployed with another stack is an error",
    )
    group.addoption(
        "--lab-name",
        default=os.environ.get("LVSLAB_NAME", DEFAULT_LAB_NAME),
        help="the lab instance the suites run against",
    )
    group.addoption(
        "--inventory",
        type=Path,
        default=deploy.ANSIBLE_DIR / "hosts",
        help="Ansible inventory naming the nodes, vip and port (with --lab=hosts: the cluster's "
        "own hosts, reached as the inventory says)",
    )
    group.addoption(
        "--keep-lab",
        action="store_true",
        help="leave a lab that pytest brought up running at the end",
    )
    group.addoption(
        "--reports-root",
        type=Path,
        default=Path(os.environ.get("LVSLAB_REPORTS", "reports")),
        help="where runs keep their reports: one folder per run, <root>/latest the newest "
        "(default: %(default)s)",
    )
    group.addoption(
        "--reports-dir",
        help="this run's folder for histories, verdicts, JUnit XML and index.html (default: "
        "a new <reports root>/<date-time>)",
    )
    group.addoption(
        "--fault-window",
        type=float,
        default=None,
        help="seconds a failover scenario holds its fault before healing, never less than its "
        "bound + 5 s (default: exactly that; 40 s for a director kill)",
    )
    group.addoption(
        "--switch-cells",
        action="store_true",
        help="let the failover matrix redeploy other profiles/corosync layouts (restored after);"
        " implied on a lab pytest brought up itself",
    )
    group.addoption(
        "--nic-modes",
        default="drop",
        help="NIC-down modes cut on the deployed cell's director, comma-separated, or 'all'"
        " (default %(default)s)",
    )
    group.addoption(
        "--matrix-modes",
        default="drop",
        help="NIC-down modes the failover matrix runs per cell and cuts on a real server,"
        " comma-separated, or 'all' (default %(default)s)",
    )
    group.addoption(
        "--matrix-kill",
        action="store_true",
        help="also kill the director in the failover matrix's hardened cells",
    )
    group.addoption(
        "--shuffle-functional",
        type=int,
        metavar="SEED",
        help="run tests/functional in an order shuffled with SEED (the others keep theirs): "
        "the suites must not depend on each other's order or leftovers",
    )
    group.addoption(
        "--require-lab",
        action="store_true",
        help="fail, instead of skipping, lab tests whose prerequisites are missing",
    )


@pytest.fixture
def needs(request: pytest.FixtureRequest) -> Callable[[object, str], None]:
    """`needs(shutil.which("xmllint"), "xmllint (make setup)")` in a test."""
    return lambda ok, why: require(request.config, ok, why)


# --- One report per run: reports/<run>/ holds the JUnit XML, every test's records and
# index.html, built at the end of a run that ran against a cluster; reports/latest points
# at the newest.

NEW_RUN = pytest.StashKey[bool]()


@pytest.hookimpl(tryfirst=True)  # before junitxml reads --junitxml
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--reports-dir") is None:
        config.option.reports_dir = str(new_run_dir(config.getoption("--reports-root")))
        config.stash[NEW_RUN] = True
    if config.option.xmlpath is None:
        config.option.xmlpath = str(Path(config.option.reports_dir) / "junit.xml")


def run_report(config: pytest.Config) -> html.Run | None:
    """The run's index.html, when the run judged a cluster (the cluster fixture wrote its
    facts); the JUnit XML is pytest's own, already written."""
    reports = Path(config.getoption("--reports-dir"))
    if not (reports / "facts.json").exists():
        return None
    junit = Path(config.option.xmlpath)
    if junit.exists() and junit.resolve() != (reports / "junit.xml").resolve():
        shutil.copy(junit, reports / "junit.xml")
    built = html.collect(reports)
    if config.stash.get(NEW_RUN, False):
        mark_latest(reports)
    return built


def pytest_unconfigure(config: pytest.Config) -> None:
    # A run of our own that judged no cluster (unit tests alone) leaves no folder behind.
    reports = Path(config.getoption("--reports-dir"))
    mine = config.stash.get(NEW_RUN, False) and reports.is_dir()
    if mine and {p.name for p in reports.iterdir()} <= {"junit.xml"}:
        shutil.rmtree(reports)
        with contextlib.suppress(OSError):  # the root too, if this run made it
            reports.parent.rmdir()


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [f"reports: {config.getoption('--reports-dir')}"]
    seed = config.getoption("--shuffle-functional")
    if seed is not None:
        lines.append(f"tests/functional shuffled: --shuffle-functional={seed}")
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items[:] = functional_first(items)
    seed = config.getoption("--shuffle-functional")
    if seed is not None:
        items[:] = shuffle_functional(items, seed)
    else:
        items[:] = leftovers_last(items)
    # Tests marked `libvirt` drive that backend whatever --lab says; other lab tests use --lab.
    by_backend: dict[str, list[pytest.Item]] = {}
    for item in items:
        if "lab" in item.keywords:
            backend = "libvirt" if "libvirt" in item.keywords else config.getoption("--lab")
            by_backend.setdefault(backend, []).append(item)
    for backend, lab_items in sorted(by_backend.items()):
        problem = lab_prerequisite_problem(backend)
        if problem is None:
            continue
        if config.getoption("--require-lab"):
            raise pytest.UsageError(
                f"--require-lab: {len(lab_items)} {backend} lab tests, but the lab {problem}"
            )
        for item in lab_items:
            item.add_marker(pytest.mark.skip(reason=f"lab test {problem}"))


# --- Fixtures for the suites that run against a deployed lab (tests/functional, failover).
# pytest deploys on demand: `make lab-up && pytest` works, and so does plain `pytest` as
# root (it then brings a lab up first and takes it down at the end).


@pytest.fixture(scope="session")
def running_lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    """The lab, up: the one running under --lab-name, or one brought up here (and taken
    down at the end, unless --keep-lab). Nothing deployed yet, necessarily."""
    name, backend = request.config.getoption("--lab-name"), request.config.getoption("--lab")
    if backend == "hosts" and name == DEFAULT_LAB_NAME:
        name = "hosts"  # never the embedded lab's name: its state would be the wrong backend
    try:
        # Hosts are attached afresh each session (the inventory may have changed).
        existing = None if backend == "hosts" else control.running(name, backend)
        wanted = request.config.getoption("--release")
        if existing is not None and wanted and existing.state.release != wanted:
            raise LabError(
                f"lab {name} runs {existing.state.release or 'an unknown release'}, "
                f"--release {wanted} was asked for: lvslab down first"
            )
        if existing is not None:
            with on_terminal(request.config):
                control.boot_dead(existing)
            yield existing
            return
        with on_terminal(request.config):
            made = control.up(
                request.config.getoption("--inventory"),
                name=name,
                backend=backend,
                release=wanted or DEFAULT_RELEASE,
            )
    except LabError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield made
    finally:
        if not request.config.getoption("--keep-lab"):
            control.down(name)


@contextlib.contextmanager
def on_terminal(config: pytest.Config) -> Iterator[None]:
    """Let a long step (a deploy, a boot) write its progress straight to the terminal
    instead of into pytest's captured output, where nobody sees it for minutes."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        yield
        return
    with capture.global_and_fixture_disabled():
        yield


@pytest.fixture(scope="session")
def terminal(
    request: pytest.FixtureRequest,
) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """on_terminal for fixtures and tests: `with terminal(): deploy(...)`."""
    return lambda: on_terminal(request.config)


@pytest.fixture(scope="session")
def lab(running_lab: Lab, request: pytest.FixtureRequest) -> Lab:
    """The lab with the cluster deployed (deploying it if it is not). The report gets the
    last deploy's task timings (this one's, or `make deploy`'s) and what the run is made
    against: backend, inventory, deployed cell, the nodes' versions (lab.facts)."""
    lab = running_lab
    reports = Path(request.config.getoption("--reports-dir"))
    reports.mkdir(parents=True, exist_ok=True)
    wanted = request.config.getoption("--stack")
    try:
        # Real hosts are judged as they are: deploying onto them is the user's call
        # (lvslab deploy --inventory PATH), never a side effect of running the suites.
        # Deployed means the deploy finished: its last step writes the record on every node.
        if lab.state.backend != "hosts" and deployed_cell(lab) is None:
            with on_terminal(request.config):
                deploy.deploy(lab, settings=deploy.DeploySettings(stack=wanted or "pacemaker"))
    finally:
        timings = lab.state.run_dir / deploy.TASK_TIMINGS
        if timings.exists():
            shutil.copy(timings, reports / deploy.TASK_TIMINGS)
    cell = deployed_cell(lab)
    if wanted and cell is not None and cell.stack != wanted:
        pytest.fail(
            f"the lab is deployed with the {cell.stack} stack, --stack {wanted} was "
            f"asked for: lvslab deploy --stack {wanted} first",
            pytrace=False,
        )
    inventory = Path(
        lab.state.backend_data.get("inventory") or request.config.getoption("--inventory")
    )
    found = facts.gather(lab, inventory, cell.name if cell else None)
    (reports / "facts.json").write_text(json.dumps(found, indent=1) + "\n")
    return lab


@pytest.fixture(scope="session")
def cluster(lab: Lab) -> ClusterReader:
    """The deployed cluster, read through its stack's reader (who directs, IPVS, timings);
    lab.cluster.actions changes it."""
    return open_cluster(lab)


@pytest.fixture(scope="session")
def hosts(lab: Lab) -> dict[str, testinfra.host.Host]:
    """testinfra hosts over the lab's ssh_config, by node name."""
    config = str(lab.state.ssh_config)
    sudo = bool(lab.state.backend_data.get("become"))  # hosts that log in as a user
    return {
        n.name: testinfra.get_host(f"ssh://{n.name}", ssh_config=config, sudo=sudo)
        for n in lab.nodes
    }


@pytest.fixture
def director(cluster: ClusterReader) -> str:
    """The director of a cluster in a known idle state: settled (every node online, one
    director with its balancer, every real weighted, no failed actions) and no connection
    active in IPVS, whatever earlier tests left (half-open entries stay active for 60 s).
    Every test that judges lc's choices starts from here, so it passes in any order."""
    director, _ = actions.wait_idle(cluster)
    return director


@pytest.fixture(autouse=True)
def _deployed_stack(request: pytest.FixtureRequest) -> None:
    """A test marked `stack(NAME, reason=...)` judges what only that stack has: on a
    cluster of another stack it is skipped, with the reason."""
    marker = request.node.get_closest_marker("stack")
    if marker is None:
        return
    cluster = request.getfixturevalue("cluster")
    if cluster.stack != marker.args[0]:
        pytest.skip(f"{cluster.stack} stack: {marker.kwargs['reason']}")


# --- Probe records and verdicts: one history per test, saved with the verdicts in the
# report folder (reports/<test>/), and the verdicts printed in pytest's summary.

VERDICTS = pytest.StashKey[list[tuple[str, Verdict]]]()


def report_dir(config: pytest.Config, nodeid: str) -> Path:
    return Path(config.getoption("--reports-dir")) / folder_name(nodeid)


@pytest.fixture(autouse=True)
def _nodeid_in_junit(request: pytest.FixtureRequest) -> None:
    # The run's HTML report (report.html) finds each test's records by its node id.
    request.node.user_properties.append(("nodeid", request.node.nodeid))


@pytest.fixture(scope="session")
def reports_of(request: pytest.FixtureRequest) -> Callable[[pytest.Item], Path]:
    """The report folder of a test or of a module (for histories that fixtures record)."""
    return lambda node: report_dir(request.config, node.nodeid)


@pytest.fixture
def history(request: pytest.FixtureRequest) -> Iterator[History]:
    recorded = History()
    yield recorded
    if len(recorded):
        timeline.save(recorded, report_dir(request.config, request.node.nodeid))


@pytest.fixture
def judge(request: pytest.FixtureRequest) -> Iterator[Callable[[Verdict], Verdict]]:
    """Record a verdict for the summary and the report; return it for the one assert."""
    given: list[Verdict] = []

    def record(verdict: Verdict) -> Verdict:
        given.append(verdict)
        request.config.stash.setdefault(VERDICTS, []).append((request.node.nodeid, verdict))
        request.node.user_properties.append((f"verdict:{verdict.name}", verdict.word))
        return verdict

    yield record
    if given:
        path = report_dir(request.config, request.node.nodeid) / "verdicts.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([v.to_json() for v in given], indent=2, default=str) + "\n")


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    # Runs after every pytest_sessionfinish (terminal's is a wrapper): the JUnit XML exists.
    verdicts = config.stash.get(VERDICTS, [])
    if verdicts:
        terminalreporter.section("verdicts")
        for nodeid, verdict in verdicts:
            terminalreporter.write_line(f"{nodeid}\n" + verdict.summary())
    try:
        built = run_report(config)
    except (OSError, ValueError, ET.ParseError) as exc:
        terminalreporter.section("report")
        terminalreporter.write_line(f"the run's report could not be built: {exc!r}", red=True)
        return
    if built is not None:
        terminalreporter.section("report")
        terminalreporter.write_line(built.summary())
