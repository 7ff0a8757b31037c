from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from lab import control
from lab.errors import LabError
from lab.state import LabState, lab_dir
from lab.topology import Topology
from tests.unit.fake_lab import FakeBackend, FakeLab

INVENTORY = Path(__file__).parents[2] / "ansible" / "hosts"


def make_state(tmp_path: Path) -> LabState:
    return LabState(
        name="t",
        backend="uml",
        topology=Topology.from_inventory(INVENTORY),
        run_dir=tmp_path / "t",
        netns="t",
        ssh_config=tmp_path / "t" / "ssh" / "config",
        node_data={"node1": {"pid": 42, "service_tap": "tap1-svc"}},
        release="trixie",
    )


def test_round_trip(tmp_path: Path) -> None:
    state = make_state(tmp_path)
    state.save()
    loaded = LabState.load(state.path)
    assert replace(loaded, node_data={}) == replace(state, node_data={})
    assert loaded.node_data["node1"] == {"pid": 42, "service_tap": "tap1-svc"}
    assert loaded.node_data["node2"] == {}


def test_state_file_is_plain_json_for_other_tools(tmp_path: Path) -> None:
    state = make_state(tmp_path)
    state.save()
    data = json.loads(state.path.read_text())
    assert data["vip"] == "192.168.122.100" and data["client_ip"] == "192.168.122.1"
    assert data["nodes"][0]["mgmt_ip"] == "192.168.121.111"
    assert data["release"] == "trixie"
    assert not list(state.run_dir.glob("*.tmp")), "the temporary file must be renamed away"


def test_missing_state_says_how_to_bring_the_lab_up(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="is the lab up"):
        LabState.load(tmp_path / "state.json")


def test_corrupt_state(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(LabError, match="corrupt lab state"):
        LabState.load(tmp_path / "state.json")


def test_state_of_another_version(tmp_path: Path) -> None:
    state = make_state(tmp_path)
    state.save()
    data = json.loads(state.path.read_text())
    data["version"] = 99
    state.path.write_text(json.dumps(data))
    with pytest.raises(LabError, match="version 99"):
        LabState.load(state.path)


def test_a_running_lab_of_another_backend_is_an_error_not_a_lab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LVSLAB_HOME", str(tmp_path))
    state = make_state(tmp_path)
    state = replace(state, run_dir=lab_dir("t"), ssh_config=lab_dir("t") / "ssh" / "config")
    state.save()
    with pytest.raises(LabError, match="lab t is a uml lab, not libvirt"):
        control.running("t", "libvirt")
    # The same backend, but its node's pid is not a process of this lab: not running.
    assert control.running("t", "uml") is None
    assert control.running("nothing-here", "uml") is None


def test_a_lab_with_a_node_down_is_booted_back_not_rebuilt() -> None:
    # A node killed on purpose (lvslab fault kill, a benchmark) while the suites start:
    # they boot it again and leave the rest alone.
    lab = FakeLab(backend=FakeBackend(dead=("node2",)))
    assert control.boot_dead(lab) == ["node2"]  # type: ignore[arg-type]
    assert lab.backend.started == ["node2"] and lab.waited == [["node2"]]
    assert control.boot_dead(lab) == []  # type: ignore[arg-type]
