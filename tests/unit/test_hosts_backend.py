"""The hosts backend without hosts: its ssh_config, the client-side check, capabilities, and
the in-guest faults' self-heal and guard."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from lab import faults
from lab.backends import hosts
from lab.backends.base import POWER
from lab.errors import LabError
from lab.remote import ssh_argv
from lab.state import LabState
from lab.topology import Topology

INVENTORY = Path(__file__).parents[2] / "ansible" / "hosts"


def test_host_entry_says_what_the_inventory_says(tmp_path: Path) -> None:
    entry = hosts.host_entry(
        "node1",
        {"ansible_host": "10.0.0.11", "ansible_user": "cluster", "ansible_port": "2222",
         "ansible_ssh_private_key_file": "/keys/id"},
        tmp_path, tmp_path / "known_hosts",
    )  # fmt: skip
    lines = [line.strip() for line in entry.splitlines()]
    assert lines[:6] == ["Host node1", "HostName 10.0.0.11", "User cluster", "Port 2222",
                         "IdentityFile /keys/id", "IdentitiesOnly yes"]  # fmt: skip
    assert "StrictHostKeyChecking accept-new" in lines and "BatchMode yes" in lines
    bare = hosts.host_entry("node2", {}, tmp_path, tmp_path / "k").splitlines()
    assert bare[1].strip() == "HostName node2"
    assert not any(x.strip().startswith("User ") for x in bare), "ssh picks the user"


def test_the_client_side_is_the_local_address_on_the_service_network(monkeypatch) -> None:
    out = (
        "1: lo    inet 127.0.0.1/8 scope host lo\n"
        "2: eth0    inet 10.1.2.3/24 brd 10.1.2.255 scope global eth0\n"
        "5: br-service    inet 192.168.122.1/24 scope global br-service\n"
    )
    monkeypatch.setattr(hosts, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, out, ""))
    net = ipaddress.IPv4Network("192.168.122.0/24")
    assert hosts.local_interface_in(net) == ("br-service", "192.168.122.1")
    assert hosts.local_interface_in(ipaddress.IPv4Network("172.16.0.0/12")) is None


def state(node_data: dict) -> LabState:
    return LabState(
        name="h", backend="hosts", topology=Topology.from_inventory(INVENTORY),
        run_dir=Path("/nonexistent"), netns=None, ssh_config=Path("/nonexistent/config"),
        node_data=node_data,
    )  # fmt: skip


def test_power_faults_only_when_every_node_names_both_commands() -> None:
    both = {"power_off": "fence_x -o off", "power_on": "fence_x -o on"}
    full = hosts.HostsBackend(state({n: both for n in ("node1", "node2", "node3")}))
    assert POWER in full.CAPABILITIES
    partial = hosts.HostsBackend(state({"node1": both, "node2": {"power_off": "x"}, "node3": {}}))
    assert POWER not in partial.CAPABILITIES
    with pytest.raises(LabError, match="lacks the power capability"):
        faults.NodeKill(SimpleNamespace(backend=partial))  # type: ignore[arg-type]


def test_become_runs_the_whole_command_line_through_sudo() -> None:
    argv = ssh_argv(Path("c"), "node1", "ipvsadm -Ln | head -3", become=True)
    assert argv[-1] == "sudo -n sh -c 'ipvsadm -Ln | head -3'"
    assert ssh_argv(Path("c"), "node1", ["true"])[-1] == "true"


class FakeHostsLab:
    def __init__(self, ssh_apart: bool) -> None:
        data = {"ssh_apart": ssh_apart}
        self.backend = hosts.HostsBackend(state({n: data for n in ("node1", "node2", "node3")}))
        self.state = self.backend.state
        self.commands: list[str] = []

    def ssh(self, node: str, command, **_: object) -> subprocess.CompletedProcess[str]:
        self.commands.append(command if isinstance(command, str) else " ".join(command))
        return subprocess.CompletedProcess(command, 0, "1: eth0: <BROADCAST,UP> mtu\n", "")


def test_an_in_guest_nic_fault_on_a_host_schedules_its_own_heal_first() -> None:
    lab = FakeHostsLab(ssh_apart=True)
    fault = faults.IfDown(lab)  # type: ignore[arg-type]
    fault.apply("node2")
    assert lab.commands[0].startswith("systemd-run --quiet --collect --unit=lvslab-heal-nic-ifdown")
    assert "--on-active=300 " in lab.commands[0] and "ip link set eth0 up" in lab.commands[0]
    assert lab.commands[1] == "ip link set eth0 down"
    fault.heal("node2")
    assert lab.commands[-1].startswith("systemctl stop lvslab-heal-nic-ifdown.timer")


def test_a_nic_fault_that_would_cut_the_harness_off_is_refused() -> None:
    lab = FakeHostsLab(ssh_apart=False)
    with pytest.raises(LabError, match="ssh reaches it over its service NIC"):
        faults.FirewallDrop(lab).apply("node1")  # type: ignore[arg-type]
    assert lab.commands == [], "nothing was done to the node"
