from __future__ import annotations

from pathlib import Path

import pytest

from lab.cli import main


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LVSLAB_HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bogus"],
        ["up", "--lab", "nope"],
        ["fault", "smash", "node1"],
        ["fault", "nic-down", "node1", "--mode", "unplug"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage: lvslab" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [["status"], ["ssh", "node1"], ["client", "true"], ["fault", "kill", "node1"]]
)
def test_commands_on_a_lab_that_is_not_up(argv, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lvslab: error:") and "is the lab up" in err[0]


def test_up_with_a_missing_inventory(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["up", "--inventory", "/nonexistent/hosts"]) == 1
    assert "inventory not found" in capsys.readouterr().err
