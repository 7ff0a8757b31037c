"""docs/figures.md is made from saved reports: every figure comes from a run's records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from report.figures import figures, main
from report.paths import folder_name

NODEID = "tests/failover/test_nic_down.py::test_vip_comes_back[drop]"
JUNIT = f"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="2">
<testcase classname="tests.failover.test_nic_down" name="test_vip_comes_back[drop]" time="71.5">
<properties><property name="nodeid" value="{NODEID}"/></properties></testcase>
<testcase classname="tests.failover.test_nic_down_matrix" name="test_cell[seed/dual-drop]"
 time="48.5"><skipped type="pytest.xfail" message="seed + dual: the NIC-down bug"/></testcase>
</testsuite></testsuites>"""


def saved_run(root: Path) -> Path:
    run = root / "20261205-170102"
    (run / folder_name(NODEID)).mkdir(parents=True)
    (run / "junit.xml").write_text(JUNIT)
    (run / "facts.json").write_text(
        json.dumps({"lab": "lvslab (uml backend)", "pacemaker": "2.1.5"})
    )
    (run / "deploy-tasks.json").write_text(json.dumps({"seconds": 104.2, "tasks": []}))
    details = {"VIP answers again": {"answering_after_s": 4.84, "recovered_after_s": None}}
    verdict = {"name": "NIC down (drop), hardened/dual", "valid": True, "problems": [],
               "details": details}  # fmt: skip
    (run / folder_name(NODEID) / "verdicts.json").write_text(json.dumps([verdict]))
    (root / "stacks.md").write_text("| | seed |\n|---|---|\n| kill | 9.29 s |\n")
    return run


def test_a_runs_figures_come_from_its_records(tmp_path: Path) -> None:
    text = figures([saved_run(tmp_path)])
    assert "## Run `20261205-170102`" in text
    assert "- lab: lvslab (uml backend)" in text and "- pacemaker: 2.1.5" in text
    assert "1 passed, 1 xfailed; 2.0 min in tests" in text
    assert "the last deploy before or in the run: 104 s" in text
    assert "| NIC down (drop), hardened/dual | passed | 4.84 | never | - |" in text
    assert "| kill | 9.29 s |" in text, "the benches' tables saved beside the run"


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path, capsys) -> None:
    assert main([str(tmp_path / "nope")]) == 1
    assert "not a run folder" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no run folders"):
        figures([])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "No JUnit XML in this folder" in figures([empty])
