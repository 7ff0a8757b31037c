"""report.stacks on hand-made verdicts (the shapes the failover suites save), and the
bench driver's pytest command and restore settings."""

from __future__ import annotations

import json
from pathlib import Path

from bench.stack_comparison import CELLS, pytest_argv
from lab.cluster import Cell
from report.stacks import StackRun, column, read_run, table


def kill(answering: float | None, recovered: float | None) -> list[dict]:
    return [
        {
            "name": "director killed: VIP back elsewhere",
            "details": {"VIP answers again within the bound": {"answering_after_s": answering}},
        },
        {"name": "VIP serves again within the bound", "details": {"recovered_after_s": recovered}},
        {"name": "gratuitous ARP from the new VRRP master", "details": {"from_director": 10}},
        {"name": "sessions outlive failover", "details": {"answered": 0, "judged": 4}},
    ]


def nic(mode: str, answering: float | None, at_end: dict) -> dict:
    return {
        "name": f"NIC down ({mode}) on the director, keepalived/fwmark",
        "details": {
            "VIP answers again within the bound": {"answering_after_s": answering},
            **at_end,
        },
    }


KEEPALIVED = StackRun(
    "keepalived",
    [
        *kill(4.1, 13.2),
        nic("drop", 4.3, {"one VRRP master on the service network": {
            "states": {"node1": "MASTER", "node2": "MASTER", "node3": "BACKUP"}}}),
        nic("ifdown", 3.9, {"one VRRP master on the service network": {
            "states": {"node1": "FAULT", "node2": "MASTER", "node3": "BACKUP"}}}),
    ],
)  # fmt: skip
SEED_DUAL = StackRun(
    "pacemaker/seed",
    [
        *kill(9.4, 22.7),
        nic("drop", None, {"one director at the end of the window": {"views": {
            n: {"quorate": True, "promoted": ["node1"]} for n in ("node1", "node2", "node3")}}}),
    ],
)  # fmt: skip


def test_a_column_reads_every_figure_of_a_run() -> None:
    cells = column(KEEPALIVED)
    assert cells["director killed: VIP answering again"] == "4.10 s"
    assert cells["director killed: every failure window closed"] == "13.20 s"
    assert cells["NIC `drop`: VIP answering again"] == "4.30 s"
    assert cells["NIC `host`: VIP answering again"] == "not run"
    assert cells["gratuitous ARP frames from the new director (kill)"] == "10"
    assert cells["held sessions to surviving reals kept (kill)"] == "0 of 4"
    split = cells["split brain at the end of a NIC-down window (directors believed)"]
    assert split == "drop: yes (2), ifdown: no (1)"


def test_a_window_that_never_closed_says_never_and_one_director_is_no_split_brain() -> None:
    cells = column(SEED_DUAL)
    assert cells["NIC `drop`: VIP answering again"] == "never"
    split = cells["split brain at the end of a NIC-down window (directors believed)"]
    assert split == "drop: no (1)"


def test_the_table_has_a_column_per_stack_and_a_row_per_figure(tmp_path: Path) -> None:
    lines = table([SEED_DUAL, KEEPALIVED]).splitlines()
    assert lines[0] == "| | pacemaker/seed | keepalived |"
    assert len(lines) == 2 + len(column(KEEPALIVED))
    folder = tmp_path / "run" / "tests_x"
    folder.mkdir(parents=True)
    (folder / "verdicts.json").write_text(json.dumps(KEEPALIVED.verdicts))
    assert read_run("keepalived", tmp_path / "run") == KEEPALIVED


def test_each_cell_runs_the_kill_and_every_nic_mode_on_its_own_stack() -> None:
    keepalived = next(c for c in CELLS if c.name == "keepalived")
    argv = pytest_argv(keepalived, Path("reports"), "lvslab")
    assert "--stack=keepalived" in argv and "--nic-modes=all" in argv
    assert "--reports-root=reports/stacks/keepalived" in argv
    assert argv[-2:] == ["tests/failover/test_director_kill.py", "tests/failover/test_nic_down.py"]
    assert [c.name for c in CELLS] == ["pacemaker/seed", "pacemaker/hardened", "keepalived"]


def test_the_cell_found_is_deployed_again_as_it_was() -> None:
    assert Cell("naive", "none", "keepalived").settings().keepalived_rules == "naive"
    back = Cell("hardened", "dual").settings()
    assert (back.stack, back.profile, back.corosync_links) == ("pacemaker", "hardened", "dual")


def test_a_fault_that_failed_no_attempt_is_not_reported_as_never_answering() -> None:
    untouched = nic("host", None, {})
    untouched["details"]["VIP answers again within the bound"]["windows"] = []
    never = nic("drop", None, {})
    never["details"]["VIP answers again within the bound"]["windows"] = [{"end": None}]
    cells = column(StackRun("keepalived", [untouched, never]))
    assert cells["NIC `host`: VIP answering again"] == "no attempt failed"
    assert cells["NIC `drop`: VIP answering again"] == "never"


def test_the_every_window_figure_is_read_from_the_composed_kill_verdict_too() -> None:
    composed = {
        "name": "VIP serves again within the bound, in one outage",
        "details": {
            "VIP serves again within the bound": {"recovered_after_s": 21.3},
            "no second outage after the VIP answers again": {"stray_failures": 0},
        },
    }
    run = StackRun("pacemaker/seed", [*kill(9.4, None)[:1], composed])
    assert column(run)["director killed: every failure window closed"] == "21.30 s"
