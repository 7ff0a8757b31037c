"""The harness's pytest plugin: its options, the run's report folder, the suites' order and
the gate on a lab's prerequisites."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import ordering, plugin, prerequisites

pytest_plugins = ["pytester"]


@pytest.mark.parametrize(
    ("option", "default"),
    [("--lab", "uml"), ("--keep-lab", False), ("--require-lab", False),
     ("--shuffle-functional", None), ("--nic-modes", "drop")],
)  # fmt: skip
def test_harness_options_are_registered_with_their_defaults(
    pytester: pytest.Pytester, option: str, default: object
) -> None:
    """The plugin's options, as a run without them on its command line sees them."""
    config = pytester.parseconfig("-p", "harness.plugin")
    assert config.getoption(option) == default


def test_the_repositorys_conftest_loads_the_plugin() -> None:
    conftest = (Path(__file__).parents[2] / "conftest.py").read_text()
    assert 'pytest_plugins = ("harness.plugin",)' in conftest


def test_lab_prerequisites_name_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prerequisites.os, "geteuid", lambda: 1000)
    assert prerequisites.lab_prerequisite_problem("uml") == "needs root"
    monkeypatch.setattr(prerequisites.os, "geteuid", lambda: 0)
    monkeypatch.setattr(prerequisites.shutil, "which", lambda _: None)
    assert "user-mode-linux" in (prerequisites.lab_prerequisite_problem("uml") or "")
    assert "vagrant" in (prerequisites.lab_prerequisite_problem("libvirt") or "")
    monkeypatch.setattr(prerequisites.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    monkeypatch.setattr(prerequisites.importlib.util, "find_spec", lambda name: None)
    assert "libvirt-python" in (prerequisites.lab_prerequisite_problem("libvirt") or "")
    monkeypatch.setattr(prerequisites.importlib.util, "find_spec", lambda name: object())
    assert prerequisites.lab_prerequisite_problem("libvirt") is None


def test_report_dir_is_one_safe_folder_per_test(pytestconfig: pytest.Config) -> None:
    path = plugin.report_dir(pytestconfig, "tests/functional/test_garp.py::test_x[director]")
    assert path.name == "tests_functional_test_garp.py__test_x_director"
    assert path.parent == Path(pytestconfig.getoption("--reports-dir"))  # this run's folder


def test_a_run_gets_its_own_folder_with_its_junit_xml_in_it(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    root = tmp_path / "reports"
    config = pytester.parseconfigure("-p", "harness.plugin", f"--reports-root={root}")
    run = Path(config.getoption("--reports-dir"))
    assert config.stash[plugin.NEW_RUN] and run.parent == root
    assert Path(config.option.xmlpath) == run / "junit.xml"
    named = pytester.parseconfigure(
        "-p", "harness.plugin", f"--reports-dir={tmp_path / 'mine'}", "--junitxml=x.xml"
    )
    assert not named.stash.get(plugin.NEW_RUN, False), "a folder named on the command line"
    assert named.option.xmlpath == "x.xml"


def test_functional_tests_that_leave_ipvs_entries_run_after_the_others() -> None:
    class Item:
        def __init__(self, nodeid: str, *marks: str) -> None:
            self.nodeid, self.keywords = nodeid, set(marks)

    items = [
        Item("tests/unit/test_a.py::t"),
        Item("tests/functional/test_caveats.py::director", "ipvs_leftovers"),
        Item("tests/functional/test_caveats.py::real"),
        Item("tests/functional/test_garp.py::t"),
        Item("tests/failover/test_kill.py::t", "ipvs_leftovers"),
        Item("tests/failover/test_nic.py::t"),
    ]
    ordered = [i.nodeid.split("/")[-1] for i in ordering.leftovers_last(items)]
    assert ordered == [
        "test_a.py::t",
        "test_caveats.py::real",
        "test_garp.py::t",
        "test_caveats.py::director",
        "test_kill.py::t",
        "test_nic.py::t",
    ], "marked functional tests last among them; everything else keeps its place"


def test_shuffle_functional_moves_only_the_functional_suites() -> None:
    class Item:
        def __init__(self, nodeid: str) -> None:
            self.nodeid = nodeid

    ids = [
        "tests/unit/test_a.py::t",
        *(f"tests/functional/test_{n}.py::t" for n in "abcdefgh"),
        "tests/failover/test_kill.py::t",
    ]
    items = [Item(i) for i in ids]
    shuffled = [i.nodeid for i in ordering.shuffle_functional(items, seed=7)]
    assert shuffled[0] == ids[0] and shuffled[-1] == ids[-1]
    assert sorted(shuffled[1:-1]) == ids[1:-1] and shuffled[1:-1] != ids[1:-1]
    again = [i.nodeid for i in ordering.shuffle_functional(items, seed=7)]
    assert again == shuffled, "a seed names one order: a failure can be replayed"


def test_the_functional_suites_run_before_the_failover_suites() -> None:
    class Item:
        def __init__(self, nodeid: str) -> None:
            self.nodeid = nodeid

    ids = [
        "tests/deploy/test_d.py::t",
        "tests/failover/test_kill.py::t",
        "tests/failover/test_nic.py::t",
        "tests/functional/test_a.py::t",
        "tests/functional/test_b.py::t",
        "tests/hosts/test_h.py::t",
        "tests/unit/test_u.py::t",
    ]
    ordered = [i.nodeid for i in ordering.functional_first([Item(i) for i in ids])]
    assert ordered == [ids[0], ids[3], ids[4], ids[1], ids[2], ids[5], ids[6]]
    no_failover = [Item(i) for i in (ids[0], ids[3], ids[6])]
    assert [i.nodeid for i in ordering.functional_first(no_failover)] == [ids[0], ids[3], ids[6]]
