from __future__ import annotations

import shutil
import subprocess
from types import SimpleNamespace

import pytest

from lab import faults
from lab.backends.base import LINK, POWER
from lab.errors import LabError
from tests.unit.fake_lab import FakeBackend, FakeLab


def fake_lab(capabilities: frozenset[str]) -> FakeLab:
    return FakeLab(backend=FakeBackend(capabilities))


def test_a_fault_needing_a_missing_capability_says_so() -> None:
    lab = fake_lab(frozenset())
    with pytest.raises(LabError, match=r"cannot do kill .*power"):
        faults.NodeKill(lab)
    with pytest.raises(LabError, match=r"cannot do nic-host .*link"):
        faults.nic_fault(lab, "host")
    faults.nic_fault(lab, "ifdown")  # in-guest variants need no backend capability


def test_every_mode_is_known_and_unknown_modes_are_refused() -> None:
    lab = fake_lab(frozenset({POWER, LINK}))
    assert {faults.nic_fault(lab, m).name for m in faults.NIC_MODES} == {
        "nic-host",
        "nic-ifdown",
        "nic-drop",
    }
    with pytest.raises(LabError, match="unknown nic-down mode"):
        faults.nic_fault(lab, "unplug")


@pytest.mark.parametrize(
    ("line", "up"),
    [
        ("2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UNKNOWN", True),
        ("2: eth0: <BROADCAST,MULTICAST> mtu 1500 state DOWN", False),
        ("2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 state DOWN", True),
    ],
)
def test_link_flag_up_reads_the_admin_flag_not_operstate(line: str, up: bool) -> None:
    assert faults.link_flag_up(line) is up


@pytest.mark.parametrize("shell", ["bash", "dash"])
@pytest.mark.parametrize("script", [faults.DROP_APPLY, faults.DROP_HEAL])
def test_firewall_scripts_parse_in_posix_shells(shell: str, script: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} not installed")
    body = faults.FirewallDrop(fake_lab(frozenset()))._script(script)
    proc = subprocess.run([shell, "-n"], input=body, text=True, capture_output=True)
    assert proc.returncode == 0, proc.stderr
    assert body.startswith("nic=eth0\n")


def test_heal_all_heals_every_node_and_keeps_their_order() -> None:
    asked: list[tuple[str, str]] = []

    def ssh(node: str, command: object, **_: object) -> SimpleNamespace:
        asked.append((node, str(command)))
        out = "2: eth0: <BROADCAST,MULTICAST> mtu 1500" if "link" in str(command) else "yes"
        return SimpleNamespace(stdout=out, returncode=0)

    lab = fake_lab(frozenset({POWER, LINK}))
    lab.backend.SELF_HEAL_S = None
    lab.backend.alive = lambda node: True
    lab.backend.link_cut = lambda node: False
    lab.nodes = [SimpleNamespace(name=n) for n in ("node1", "node2", "node3")]
    lab.ssh = ssh
    records = faults.heal_all(lab)
    assert [(r["node"], r["fault"]) for r in records] == [
        (n, f) for n in ("node1", "node2", "node3")
        for f in ("kill", "nic-host", "nic-ifdown", "nic-drop")
    ]  # fmt: skip
    assert {r["changed"] for r in records if r["fault"] in ("nic-ifdown", "nic-drop")} == {True}
    assert {node for node, _ in asked} == {"node1", "node2", "node3"}
