"""The run's HTML report, built from a reports folder made by hand: outcomes from JUnit XML,
verdicts and outage figures from each test's folder, the timeline picture linked."""

from __future__ import annotations

import json
from pathlib import Path

from probes.history import History
from report.html import build, collect, outage_figures, slowest_tasks
from report.paths import folder_name
from report.timeline import event_labels

NODEID = "tests/failover/test_nic_down.py::test_vip_comes_back[drop]"
JUNIT = f"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="2">
<testcase classname="tests.failover.test_nic_down" name="test_vip_comes_back[drop]" time="71.5">
<properties><property name="nodeid" value="{NODEID}"/></properties></testcase>
<testcase classname="tests.failover.test_nic_down_matrix" name="test_cell[seed/dual-drop]"
 time="60.1"><skipped type="pytest.xfail" message="seed + dual: the NIC-down bug"/></testcase>
</testsuite></testsuites>"""


def test_report_lists_outcomes_outages_and_timelines(tmp_path: Path) -> None:
    (tmp_path / "junit.xml").write_text(JUNIT)
    folder = tmp_path / folder_name(NODEID)
    folder.mkdir()
    verdict = {
        "name": "NIC down (drop) on the director, seed/service",
        "valid": True,
        "problems": [],
        "details": {"VIP answers again": {"answering_after_s": 11.0, "outage_total_s": 15.1}},
    }
    (folder / "verdicts.json").write_text(json.dumps([verdict]))
    history = History()
    history.add("nemesis", t=100.0, action="apply", fault="nic-drop", node="node2")
    for i in range(40):
        history.add("prober", t=99 + i * 0.1, ok=i % 7 != 0, node="node1", seq=i)
    history.add("nemesis", t=103.0, action="heal", fault="nic-drop", node="node2")
    history.save(folder / "history.jsonl")

    page = build(tmp_path).read_text()
    assert "1 passed, 1 xfailed" in page
    assert 'src="tests_failover_test_nic_down.py__test_vip_comes_back_drop/timeline.png"' in page
    assert (folder / "timeline.png").stat().st_size > 10_000
    assert "<td>11.0</td>" in page and "<td>15.1</td>" in page
    assert "<script" not in page


def test_a_scenario_that_never_recovered_says_never(tmp_path: Path) -> None:
    (tmp_path / "junit.xml").write_text(JUNIT)
    folder = tmp_path / folder_name(NODEID)
    folder.mkdir()
    details = {"VIP answers again": {"answering_after_s": None, "recovered_after_s": None}}
    verdict = {"name": "NIC down", "valid": False, "problems": ["never"], "details": details}
    (folder / "verdicts.json").write_text(json.dumps([verdict]))
    run = collect(tmp_path)
    assert "never / never" in run.summary()
    assert "None" not in run.page.read_text()


def test_outage_figures_are_found_in_composed_details() -> None:
    details = {"a": {"answering_after_s": 1.5}, "b": {"c": {"recovered_after_s": 9}}}
    assert outage_figures(details) == {"answering_after_s": 1.5, "recovered_after_s": 9}


def test_the_deploys_slowest_tasks_and_the_runs_facts_are_on_the_page(tmp_path: Path) -> None:
    # The timings file as lab.deploy writes it: [name, seconds] pairs in play order.
    timings = {"seconds": 150.0, "tasks": [["Run pcsd", 27.0], ["Install", 3.0], ["Run pcsd", 5.0]]}
    (tmp_path / "deploy-tasks.json").write_text(json.dumps(timings))
    (tmp_path / "facts.json").write_text(
        json.dumps({"lab": "lvslab (uml backend)", "pacemaker": "2.1.5"})
    )
    page = build(tmp_path).read_text()
    assert "<td>Run pcsd</td><td>27.0</td>" in page and "150.0 s in all" in page
    assert "<th>pacemaker</th><td>2.1.5</td>" in page
    assert slowest_tasks(timings, 2) == [("Run pcsd", 27.0), ("Run pcsd", 5.0)]


def test_timeline_labels_one_event_seen_on_every_node_once() -> None:
    marks = [
        {"t": 10.0, "what": "link down", "node": "node3"},
        {"t": 10.1, "what": "link down", "node": "node1"},
        {"t": 10.6, "what": "membership changed", "node": "node1"},
        {"t": 10.6, "what": "membership changed", "node": "node3"},
        {"t": 10.8, "what": "link down", "node": "node2"},
        {"t": 13.0, "what": "promoting", "node": "node2"},
        # The same line 2 s later is another burst, labelled on its own.
        {"t": 13.1, "what": "link down", "node": "node1"},
    ]
    assert event_labels(marks, within_s=1.0) == [
        (10.0, "link down", ["node3", "node1", "node2"]),
        (10.6, "membership changed", ["node1", "node3"]),
        (13.0, "promoting", ["node2"]),
        (13.1, "link down", ["node1"]),
    ]
