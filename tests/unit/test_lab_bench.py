from __future__ import annotations

import subprocess

import pytest

from bench.lab_bench import IN_NODE, TARGETS, in_node_script, parse_in_node, table


def test_the_table_puts_each_figure_beside_its_target_and_leaves_others_bare() -> None:
    lines = table({"first_deploy_s": 146.2, "lab_memory_mib": 900}).splitlines()
    assert lines[0].split() == ["figure", "measured", "target"]
    assert lines[1].split() == ["first_deploy_s", "146.2", "<=", str(TARGETS["first_deploy_s"])]
    assert lines[2].split() == ["lab_memory_mib", "900"]


def test_the_in_node_script_times_each_command_and_its_output_parses() -> None:
    commands = {"true": "/bin/true", "quoted": "sh -c 'exit 0'"}
    script = in_node_script(commands, runs=3)
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    figures = parse_in_node(out.stdout, commands)
    assert sorted(figures) == ["cmd_quoted_ms", "cmd_true_ms"]
    assert all(ms >= 0 for ms in figures.values())


def test_a_command_without_a_timing_is_an_error_not_a_missing_row() -> None:
    with pytest.raises(ValueError, match="no timing for logger"):
        parse_in_node("sh_true 1200000\nlogger \n", {"sh_true": "", "logger": ""})
    assert parse_in_node("sh_true 1250000\n", {"sh_true": ""}) == {"cmd_sh_true_ms": 1.2}


def test_the_node_list_names_fit_the_figure_keys() -> None:
    assert all(name.isidentifier() and " " not in name for name in IN_NODE)
