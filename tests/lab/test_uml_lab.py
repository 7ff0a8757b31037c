"""The lab itself, for real: a separate lab instance boots, every node is reachable and
runnable, and each fault does what it says and heals (the life cycle: test_uml_lifecycle).

Runs on its own instance name so that it never disturbs a lab the suites are using."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time

import pytest

from lab import control, faults
from lab.backends.uml import pids_of_node
from lab.control import Lab
from lab.errors import LabError
from lab.remote import ssh_argv
from lab.selftest import EFFECT_S, INSTANCE, INVENTORY, service_answers
from lab.waiting import until

pytestmark = [pytest.mark.lab, pytest.mark.disruptive]


def test_every_node_reachable_over_management(lab: Lab) -> None:
    for node in lab.nodes:
        assert lab.ssh(node.name, "hostname").stdout.strip() == node.name


def test_node_identity_and_hosts(lab: Lab) -> None:
    expected_hosts = {(str(n.service_ip), n.name) for n in lab.nodes}
    machine_ids = set()
    for node in lab.nodes:
        addrs = lab.ssh(node.name, "ip -4 -o addr show").stdout
        assert f"eth0    inet {node.service_ip}/{lab.topology.service_net.prefixlen}" in addrs
        assert f"eth1    inet {node.mgmt_ip}/{lab.topology.mgmt_net.prefixlen}" in addrs
        names = " ".join(n.name for n in lab.nodes)
        hosts = lab.ssh(node.name, f"getent hosts {names}").stdout.splitlines()
        assert {tuple(line.split()) for line in hosts} == expected_hosts
        machine_ids.add(lab.ssh(node.name, "cat /etc/machine-id").stdout.strip())
    assert len(machine_ids) == len(lab.nodes), "every node needs its own machine-id"


def test_each_node_answers_on_its_service_ip_from_the_client_side(lab: Lab) -> None:
    assert all(service_answers(lab, n.name) for n in lab.nodes)


def test_ip_vs_loads_in_the_guest_kernel(lab: Lab) -> None:
    out = lab.ssh("node1", "modprobe ip_vs && ipvsadm -Ln").stdout
    assert "IP Virtual Server version" in out


def test_the_image_runs_pcsd_niced_and_the_cluster_units_disabled(lab: Lab) -> None:
    """What lab.image's recipe says about units reached the nodes' systemd."""
    for node in lab.nodes:
        got = lab.ssh(node.name, "systemctl show -p Nice --value pcsd.service pcsd-ruby.service")
        assert got.stdout.split() == ["19", "19"]
        enabled = lab.ssh(node.name, "systemctl is-enabled corosync pacemaker pcsd", check=False)
        assert enabled.stdout.split() == ["disabled"] * 3


def test_lab_up_again_says_it_is_up(lab: Lab) -> None:
    with pytest.raises(LabError, match="already up"):
        control.up(INVENTORY, name=INSTANCE)


def test_a_bulk_transfer_reaches_every_node_whole(lab: Lab) -> None:
    """UML drops frames over the MTU that the host hands its taps: the host must segment
    them first (lab.netns: the taps' gso_max_size), or TCP crawls on retransmissions."""
    payload = os.urandom(8 << 20)
    gso_drops = "dmesg | grep -c 'Incoming GSO frames and GRO disabled'"
    for node in lab.nodes:
        before = lab.ssh(node.name, gso_drops, check=False).stdout.strip()
        argv = ssh_argv(lab.state.ssh_config, node.name, "sha256sum")
        got = subprocess.run(argv, input=payload, capture_output=True, timeout=300, check=True)
        assert got.stdout.split()[0].decode() == hashlib.sha256(payload).hexdigest()
        after = lab.ssh(node.name, gso_drops, check=False).stdout.strip()
        assert after == before, f"{node.name} dropped frames over its MTU ({before} -> {after})"


@pytest.mark.parametrize("mode", sorted(faults.NIC_MODES))
def test_nic_down_cuts_service_but_not_management(lab: Lab, mode: str) -> None:
    fault = faults.nic_fault(lab, mode)
    node = "node2"
    assert service_answers(lab, node)
    try:
        record = fault.apply(node)
        assert record["action"] == "apply"
        until(
            f"{mode}: service IP stops answering", lambda: not service_answers(lab, node), EFFECT_S
        )
        assert lab.reachable(node), "management must survive a service NIC fault"
        # Probe again after a pause: the cut must hold, not just flicker.
        time.sleep(2)
        assert not service_answers(lab, node)
    finally:
        fault.heal(node)
    until(f"{mode}: service IP back after heal", lambda: service_answers(lab, node), EFFECT_S)
    assert fault.heal(node)["action"] == "heal"  # heal again: idempotent, no error


def reaches_client_side(lab: Lab, node: str) -> bool:
    ping = f"ping -c 1 -W 2 {lab.topology.client_ip}"
    return lab.ssh(node, ping, check=False).returncode == 0


def test_pulling_one_cable_leaves_the_others_reaching_the_client_side(lab: Lab) -> None:
    """Each node's cable in turn, so the node whose tap has the lowest MAC is cut once: a
    bridge without an address of its own would take another MAC then, and the other nodes'
    ARP entries for the client side (a real server never relearns it: arp_ignore) would name
    a MAC nobody has until the cable is back."""
    cut = faults.nic_fault(lab, "host")
    for node in lab.nodes:
        others = [n.name for n in lab.nodes if n.name != node.name]
        assert all(reaches_client_side(lab, o) for o in others)  # their ARP entries filled
        try:
            cut.apply(node.name)
            mac = lab.client(["cat", f"/sys/class/net/{lab.client_ifname}/address"]).stdout
            assert mac.strip() == lab.topology.client_mac, f"{node.name} cut"
            lost = [o for o in others if not reaches_client_side(lab, o)]
            assert not lost, f"{node.name} cut: {lost} no longer reach the client side"
        finally:
            cut.heal(node.name)


def test_kill_removes_the_node_and_start_brings_it_back(lab: Lab) -> None:
    node = "node3"
    kill = faults.NodeKill(lab)
    assert pids_of_node(lab.state.run_dir, node)
    kill.apply(node)
    assert not lab.backend.alive(node)
    assert pids_of_node(lab.state.run_dir, node) == [], "processes of the killed node remain"
    assert not lab.reachable(node, timeout=5)
    assert not service_answers(lab, node)
    assert lab.reachable("node1") and lab.reachable("node2"), "a kill must hit one node only"
    record = kill.heal(node)
    assert record["booted"] is True
    assert lab.reachable(node) and service_answers(lab, node)
