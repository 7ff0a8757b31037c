from __future__ import annotations

import subprocess

from probes import nc


def test_answers_keep_order_and_mark_silence() -> None:
    assert nc.answers("[node1]\n[]\n[node3]\nnoise\n") == ["node1", None, "node3"]


def test_the_loop_runs_in_a_shell_and_makes_count_connections(tmp_path) -> None:
    # A stand-in nc on PATH answers with its arguments: the loop is real shell, run here.
    fake = tmp_path / "nc"
    fake.write_text('#!/bin/sh\necho "$3:$4"\n')
    fake.chmod(0o755)
    script = nc.loop_script("192.168.122.100", 80, 3)
    out = subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, check=True,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
    ).stdout  # fmt: skip
    assert nc.answers(out) == ["192.168.122.100:80"] * 3
