from __future__ import annotations

from bench.lab_bench import TARGETS, table


def test_the_table_puts_each_figure_beside_its_target_and_leaves_others_bare() -> None:
    lines = table({"first_deploy_s": 146.2, "lab_memory_mib": 900}).splitlines()
    assert lines[0].split() == ["figure", "measured", "target"]
    assert lines[1].split() == ["first_deploy_s", "146.2", "<=", str(TARGETS["first_deploy_s"])]
    assert lines[2].split() == ["lab_memory_mib", "900"]
