from __future__ import annotations

import pytest

from bench import lab_soak


def cycle(error: str | None = None, left: dict | None = None) -> dict:
    return {
        "up_s": 14.2,
        "boot_s": {"node1": 11.5, "node2": 12.0, "node3": 11.8},
        "nic": {m: {"node": "node1", "lost_s": 0.4, "back_s": 0.6} for m in ("drop", "host")},
        "error": error,
        "down_s": 1.9,
        "left": left or {},
        "cycle_s": 61.0,
    }


def test_summary_counts_failures_and_leftovers() -> None:
    rows = [
        cycle(),
        cycle(error="node2: not reachable within 300s"),
        cycle(left={"processes": ["7"]}),
    ]
    s = lab_soak.summary(rows)
    assert s["cycles"] == 3 and s["failed_cycles"] == 1 and s["leftovers_total"] == 1
    assert s["boot_median_s"] == 11.8 and s["boot_max_s"] == 12.0


def test_table_has_a_line_per_cycle_and_dashes_for_a_mode_not_reached() -> None:
    lines = lab_soak.table([cycle(), cycle(error="boom")]).splitlines()
    assert len(lines) == 3
    assert "ifdown" in lines[0] and lines[1].count("-") >= 1  # ifdown was not run
    assert lines[2].endswith("boom")


def test_cycles_are_bounded() -> None:
    with pytest.raises(SystemExit) as exc:
        lab_soak.main(["--cycles", "0"])
    assert exc.value.code == 2
