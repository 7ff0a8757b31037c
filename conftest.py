"""pytest wiring shared by every suite: options, and the gate for tests that need a lab.

Tests marked `lab` need root and the chosen backend's tools. Without them they skip with the
reason, except under --require-lab (CI, make check), where a missing prerequisite fails."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import random
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import testinfra
import testinfra.host

from checks.verdict import Verdict
from lab import control, deploy, facts
from lab.backends import BACKENDS
from lab.cluster import Cluster
from lab.control import Lab
from lab.errors import LabError
from lab.releases import DEFAULT_RELEASE, RELEASES
from lab.state import DEFAULT_LAB_NAME
from probes.history import History
from report import html, timeline
from report.paths import folder_name, mark_latest, new_run_dir
from tests.prerequisites import require


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
        default=Path(__file__).parent / "ansible" / "hosts",
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


def lab_prerequisite_problem(backend: str) -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    if backend == "hosts":
        missing = [t for t in ("ssh", "nc", "ip") if shutil.which(t) is None]
        return f"needs {', '.join(missing)} on this machine" if missing else None
    if backend == "uml" and shutil.which("linux.uml") is None:
        return "needs Debian's user-mode-linux (make setup)"
    if backend == "libvirt":
        for tool in ("vagrant", "libvirtd", "qemu-system-x86_64", "qemu-img"):
            if shutil.which(tool) is None:
                return f"needs {tool}: vagrant, vagrant-libvirt, libvirt, qemu (make libvirt-setup)"
        if importlib.util.find_spec("libvirt") is None:
            return "needs libvirt-python (make libvirt-setup)"
    return None


@pytest.fixture
def needs(request: pytest.FixtureRequest) -> Callable[[object, str], None]:
    """`needs(shutil.which("xmllint"), "xmllint (make setup)")` in a test."""
    return lambda ok, why: require(request.config, ok, why)


FUNCTIONAL = "tests/functional/"


FAILOVER = "tests/failover/"


def functional_first(items: list[Any]) -> list[Any]:
    """The functional suites moved in front of the failover suites (pytest collects them
    after, by name). A failover scenario leaves its prober's ~1000 entries in IPVS (closed
    ones stay up to 120 s, and a real cut off skews InActConn as long), and a functional
    test that judges lc first waits for an idle table: right after the failover suites that
    wait ran past its 150 s deadline (CI, 2026-11-30). Everything else keeps its order."""
    functional = [item for item in items if item.nodeid.startswith(FUNCTIONAL)]
    rest = [item for item in items if not item.nodeid.startswith(FUNCTIONAL)]
    failover = [i for i, item in enumerate(rest) if item.nodeid.startswith(FAILOVER)]
    if not failover:
        return list(items)
    return rest[: failover[0]] + functional + rest[failover[0] :]


def shuffle_functional(items: list[Any], seed: int) -> list[Any]:
    """The functional suites' items shuffled among their own places in the run; every other
    item keeps its place (the failover suites switch profiles and must stay apart)."""
    slots = [i for i, item in enumerate(items) if item.nodeid.startswith(FUNCTIONAL)]
    chosen = [items[i] for i in slots]
    random.Random(seed).shuffle(chosen)
    shuffled = list(items)
    for slot, item in zip(slots, chosen, strict=True):
        shuffled[slot] = item
    return shuffled


def leftovers_last(items: list[Any]) -> list[Any]:
    """The functional tests marked ipvs_leftovers moved behind the other functional tests,
    in their places; every other item keeps its place. A functional test that judges lc's
    choices first waits for an idle cluster, and would wait out their half-open entries
    (60 s). The failover suites come after them (functional_first)."""
    slots = [i for i, item in enumerate(items) if item.nodeid.startswith(FUNCTIONAL)]
    chosen = [items[i] for i in slots]
    chosen.sort(key=lambda item: "ipvs_leftovers" in item.keywords)  # stable
    ordered = list(items)
    for slot, item in zip(slots, chosen, strict=True):
        ordered[slot] = item
    return ordered


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
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
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


def cluster_deployed(lab: Lab) -> bool:
    """Deployed means the deploy finished: its last step writes the record on every node (a
    deploy stopped half-way has made the CIB's resources but not the record)."""
    return Cluster(lab).deployed() is not None


@pytest.fixture(scope="session")
def cluster(lab: Lab, request: pytest.FixtureRequest) -> Lab:
    """The lab with the cluster deployed (deploying it if it is not). The report gets the
    last deploy's task timings (this one's, or `make deploy`'s) and what the run is made
    against: backend, inventory, deployed profile, the nodes' versions (lab.facts)."""
    reports = Path(request.config.getoption("--reports-dir"))
    reports.mkdir(parents=True, exist_ok=True)
    try:
        # Real hosts are judged as they are: deploying onto them is the user's call
        # (lvslab deploy --inventory PATH), never a side effect of running the suites.
        wanted = request.config.getoption("--stack")
        if lab.state.backend != "hosts" and not cluster_deployed(lab):
            with on_terminal(request.config):
                deploy.deploy(lab, settings=deploy.DeploySettings(stack=wanted or "pacemaker"))
    finally:
        timings = lab.state.run_dir / deploy.TASK_TIMINGS
        if timings.exists():
            shutil.copy(timings, reports / deploy.TASK_TIMINGS)
    record = Cluster(lab).deployed()
    if wanted and record is not None and record.stack != wanted:
        pytest.fail(
            f"the lab is deployed with the {record.stack} stack, --stack {wanted} was "
            f"asked for: lvslab deploy --stack {wanted} first",
            pytrace=False,
        )
    inventory = Path(
        lab.state.backend_data.get("inventory") or request.config.getoption("--inventory")
    )
    found = facts.gather(lab, inventory, record.cell if record else None)
    (reports / "facts.json").write_text(json.dumps(found, indent=1) + "\n")
    return lab


@pytest.fixture(scope="session")
def hosts(cluster: Lab) -> dict[str, testinfra.host.Host]:
    """testinfra hosts over the lab's ssh_config, by node name."""
    config = str(cluster.state.ssh_config)
    sudo = bool(cluster.state.backend_data.get("become"))  # hosts that log in as a user
    return {
        n.name: testinfra.get_host(f"ssh://{n.name}", ssh_config=config, sudo=sudo)
        for n in cluster.nodes
    }


@pytest.fixture
def idle(ops: Cluster) -> str:
    """The director of a cluster in a known idle state: settled (every node online, one
    director with ldirectord, every real weighted, no failed actions) and no connection
    active in IPVS, whatever earlier tests left (half-open entries stay active for 60 s).
    Every test that judges lc's choices starts from here, so it passes in any order."""
    director, _ = ops.wait_idle()
    return director


@pytest.fixture(scope="session")
def ops(cluster: Lab) -> Cluster:
    """Operations on the deployed cluster (who is director, move it, IPVS table ...)."""
    return Cluster(cluster)


@pytest.fixture(autouse=True)
def _deployed_stack(request: pytest.FixtureRequest) -> None:
    """A test marked `stack(NAME, reason=...)` judges what only that stack has: on a
    cluster of another stack it is skipped, with the reason."""
    marker = request.node.get_closest_marker("stack")
    if marker is None:
        return
    ops = request.getfixturevalue("ops")
    if ops.stack != marker.args[0]:
        pytest.skip(f"{ops.stack} stack: {marker.kwargs['reason']}")


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
