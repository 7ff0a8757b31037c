"""Long host commands with a log file: output kept, failures and timeouts reported with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.errors import LabError
from lab.shell import run_logged


def test_output_goes_to_the_log(tmp_path: Path) -> None:
    log = tmp_path / "cmd.log"
    run_logged(["sh", "-c", "echo one; echo two >&2"], log, timeout=10)
    assert log.read_text().split() == ["one", "two"]


def test_failure_names_the_log_and_its_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "cmd.log"
    with pytest.raises(LabError, match=r"exited 3 \(log: .*cmd\.log\): last words"):
        run_logged(["sh", "-c", "echo last words; exit 3"], log, timeout=10)


def test_a_command_past_its_timeout_is_killed(tmp_path: Path, capsys) -> None:
    log = tmp_path / "cmd.log"
    # The shell echoes within milliseconds; 2 s of progress lines every 0.1 s leave room for
    # a busy host to schedule it late, and the line must carry that output.
    with pytest.raises(LabError, match=r"timed out after 2s"):
        run_logged(["sh", "-c", "echo started; sleep 30"], log, timeout=2, report_every=0.1)
    assert "started" in capsys.readouterr().err  # progress line with the latest output
