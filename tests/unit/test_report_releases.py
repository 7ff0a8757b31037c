from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.release_matrix import main as release_matrix
from bench.release_matrix import pytest_argv
from report.releases import ReleaseRun, named_run, read_run, table


def scenario(name: str, outcome: str, answering: float | None) -> dict[str, object]:
    return {"name": name, "outcome": outcome, "outage": {"answering_after_s": answering}}


def test_a_release_per_column_a_scenario_per_row_under_the_stack() -> None:
    runs = [
        ReleaseRun("bullseye", {"debian": "11.11", "pacemaker": "2.0.5-2"}, [
            scenario("test_nic_down_cell[seed/dual-drop]", "xfailed", None),
        ]),
        ReleaseRun("trixie", {"debian": "13.2", "pacemaker": "3.0.0-2"}, [
            scenario("test_nic_down_cell[seed/dual-drop]", "xfailed", None),
            scenario("test_nic_down_cell[hardened/dual-drop]", "passed", 4.2),
        ]),
    ]  # fmt: skip
    lines = table(runs).splitlines()
    assert lines[0] == "| scenario | bullseye | trixie |"
    assert "| *pacemaker* | 2.0.5-2 | 3.0.0-2 |" in lines
    assert "| *pcs* | unknown | unknown |" in lines, "a fact the run did not record"
    assert "| test_nic_down_cell[seed/dual-drop] | never (xfailed) | never (xfailed) |" in lines
    assert "| test_nic_down_cell[hardened/dual-drop] | not run | 4.2 s |" in lines


def test_a_run_that_left_no_report_has_an_empty_column(tmp_path: Path) -> None:
    run = read_run("bullseye", tmp_path / "nothing-here")
    assert run == ReleaseRun("bullseye", {}, [])
    (tmp_path / "failover.json").write_text(json.dumps([scenario("k", "failed", 9.1)]))
    (tmp_path / "facts.json").write_text(json.dumps({"debian": "12.8"}))
    assert "| k | 9.1 s (failed) |" in table([read_run("bookworm", tmp_path)])


def test_a_scenario_without_an_outage_figure_says_so_not_seconds() -> None:
    real_server = {"name": "r", "outcome": "failed", "outage": {"failed_after_fault": 2}}
    facts = {"deployed (at the start of the run)": "hardened/dual"}
    run = ReleaseRun("trixie", facts, [real_server])
    lines = table([run]).splitlines()
    assert "| r | - (failed) |" in lines
    assert "| *deployed cell* | hardened/dual |" in lines


def test_a_run_is_named_by_its_folder_or_by_the_reader(tmp_path: Path) -> None:
    run = tmp_path / "trixie" / "20261129-232720"
    run.mkdir(parents=True)
    assert named_run(str(run)) == ("trixie", run)
    assert named_run("bookworm=reports/x") == ("bookworm", Path("reports/x"))


def test_each_release_runs_pytest_with_its_own_reports() -> None:
    argv = pytest_argv("trixie", Path("reports"), ["--switch-cells", "tests/failover"])
    assert argv[1:] == [
        "-m", "pytest", "--release=trixie", "--reports-root=reports/trixie",
        "--switch-cells", "tests/failover",
    ]  # fmt: skip


def test_an_unknown_release_is_refused_before_any_lab_is_touched(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exc:
        release_matrix(["--releases", "bookworm buster", "--", "tests/failover"])
    assert exc.value.code == 2
    assert "unknown Debian release 'buster'" in capsys.readouterr().err
