"""The libvirt backend for real, on this project's machines: libvirt + qemu (TCG, no usable
KVM) inside a network namespace of the harness's own (lab/libvirt_sandbox.py), a Vagrant box
built here from Debian packages (lab/box.py), three nodes brought up by Vagrant. Power and
cable faults go through libvirt-python; their effect is checked from the client side and,
for the cable, inside the guest (carrier lost). `down` must leave libvirt as it found it.

Figures (up time, time from each libvirt call to its effect) go to
<reports>/libvirt-lab/figures.json and the terminal, never into an assert."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab import box, control, faults, libvirt_sandbox
from lab.backends.libvirt import LibvirtBackend, is_lab_domain, open_libvirt
from lab.control import Lab
from lab.selftest import INVENTORY, service_answers
from lab.state import lab_dir
from lab.waiting import until

pytestmark = [pytest.mark.lab, pytest.mark.libvirt, pytest.mark.disruptive]

INSTANCE = "lvslab-virt"
URI = "qemu:///system"
# TCG guests: 768 MiB each is plenty for the Debian guest (corosync needs >= 512).
ENVIRONMENT = {"LVSLAB_DRIVER": "qemu", "LVSLAB_MEMORY": "768", "LVSLAB_URI": URI}
EFFECT_DEADLINE = 30.0  # s to see a fault's effect; measured well under 2 s (figures.json)


def libvirt_inventory() -> dict[str, Any]:
    """What the host's libvirt holds, to compare before and after the lab."""
    conn = open_libvirt(URI)
    return {
        "networks": sorted((n.name(), bool(n.isActive())) for n in conn.listAllNetworks()),
        "domains": sorted(d.name() for d in conn.listAllDomains()),
        "volumes": sorted(
            v.name() for p in conn.listAllStoragePools() if p.isActive() for v in p.listAllVolumes()
        ),
    }


@pytest.fixture(scope="module")
def figures(request: pytest.FixtureRequest) -> Iterator[dict[str, float]]:
    measured: dict[str, float] = {}
    yield measured
    path = Path(request.config.getoption("--reports-dir")) / "libvirt-lab" / "figures.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(measured, indent=2, sort_keys=True) + "\n")
    print(f"\nlibvirt lab figures ({path}): {json.dumps(measured, sort_keys=True)}")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    """The namespace libvirtd runs in: started here unless one already runs in a namespace
    (never the root namespace's libvirt: its networks would live there)."""
    where = libvirt_sandbox.running_netns()
    if where == "":
        pytest.fail("a libvirtd runs in the root namespace; these tests use their own")
    netns = where or libvirt_sandbox.DEFAULT_NETNS
    if where is None:
        libvirt_sandbox.start(netns)
    yield netns
    if where is None:
        libvirt_sandbox.stop(netns)


@pytest.fixture(scope="module")
def before(sandbox: str) -> dict[str, Any]:
    return libvirt_inventory()


@pytest.fixture(scope="module")
def virt_lab(sandbox: str, before: dict[str, Any], figures: dict[str, float]) -> Iterator[Lab]:
    patch = pytest.MonkeyPatch()
    started = time.monotonic()
    box_name = box.ensure_box()
    figures["box_ready_s"] = round(time.monotonic() - started, 1)
    for key, value in {**ENVIRONMENT, "LVSLAB_BOX": box_name}.items():
        patch.setenv(key, value)
    patch.setenv("LVSLAB_LIBVIRT_NETNS", sandbox)
    control.down(INSTANCE, backend="libvirt")  # leftovers of an interrupted run
    started = time.monotonic()
    lab = control.up(INVENTORY, name=INSTANCE, backend="libvirt")
    figures["up_three_nodes_reachable_s"] = round(time.monotonic() - started, 1)
    try:
        yield lab
    finally:
        control.down(INSTANCE, backend="libvirt")
        patch.undo()


def test_three_nodes_up_reachable_over_management_with_the_lab_identity(virt_lab: Lab) -> None:
    names = " ".join(n.name for n in virt_lab.nodes)
    expected_hosts = {(str(n.service_ip), n.name) for n in virt_lab.nodes}
    machine_ids = set()
    for node in virt_lab.nodes:
        assert virt_lab.ssh(node.name, "hostname").stdout.strip() == node.name
        addrs = virt_lab.ssh(node.name, "ip -4 -o addr show eth1").stdout
        assert f"inet {node.service_ip}/{virt_lab.topology.service_net.prefixlen}" in addrs
        hosts = virt_lab.ssh(node.name, f"getent hosts {names}").stdout.splitlines()
        assert {tuple(line.split()) for line in hosts} == expected_hosts
        machine_ids.add(virt_lab.ssh(node.name, "cat /etc/machine-id").stdout.strip())
        # journald writes under the machine-id it started with: the suites read the journal.
        assert virt_lab.ssh(node.name, "journalctl -q -n 1 --no-pager").stdout.strip()
    assert len(machine_ids) == len(virt_lab.nodes), "every node needs its own machine-id"
    assert all(service_answers(virt_lab, n.name) for n in virt_lab.nodes)


def test_the_lab_lives_in_the_sandbox_namespace_only(virt_lab: Lab, sandbox: str) -> None:
    assert virt_lab.state.netns == sandbox
    assert libvirt_sandbox.running_netns() == sandbox
    root_addresses = Path("/proc/net/fib_trie").read_text()
    for net in (virt_lab.topology.service_net, virt_lab.topology.mgmt_net):
        prefix = ".".join(str(net.network_address).split(".")[:3]) + "."
        assert prefix not in root_addresses, f"{net} appeared in the root namespace"
    root_links = {p.name for p in Path("/sys/class/net").iterdir()}
    assert not {link for link in root_links if link.startswith(("vnet", "virbr", "lvslab"))}


def test_link_down_and_up_through_libvirt(virt_lab: Lab, figures: dict[str, float]) -> None:
    """A live <link state='down'/>: the guest loses carrier, the client side loses the node,
    management stays; link up brings both back."""
    node = "node2"
    fault = faults.nic_fault(virt_lab, "host")
    carrier = f"cat /sys/class/net/{virt_lab.state.service_ifname}/carrier"
    try:
        fault.apply(node)
        figures["link_down_to_client_loss_s"] = until(
            "service address lost", lambda: not service_answers(virt_lab, node), EFFECT_DEADLINE
        )
        assert virt_lab.backend.link_cut(node)
        assert virt_lab.ssh(node, carrier).stdout.strip() == "0", "guest still has carrier"
        assert not service_answers(virt_lab, node)
        assert virt_lab.reachable(node), "management must survive a service link cut"
    finally:
        fault.heal(node)
    figures["link_up_to_client_back_s"] = until(
        "service address back", lambda: service_answers(virt_lab, node), EFFECT_DEADLINE
    )
    assert not virt_lab.backend.link_cut(node)
    assert virt_lab.ssh(node, carrier).stdout.strip() == "1"
    assert service_answers(virt_lab, node)


@pytest.mark.parametrize("mode", sorted(set(faults.NIC_MODES) - {"host"}))
def test_in_guest_nic_faults_work_on_libvirt_too(virt_lab: Lab, mode: str) -> None:
    fault = faults.nic_fault(virt_lab, mode)
    node = "node1"
    try:
        fault.apply(node)
        until(
            f"{mode}: service IP stops answering",
            lambda: not service_answers(virt_lab, node),
            EFFECT_DEADLINE,
        )
        assert virt_lab.reachable(node)
    finally:
        fault.heal(node)
    until(f"{mode}: back after heal", lambda: service_answers(virt_lab, node), EFFECT_DEADLINE)


def test_kill_and_start_through_libvirt(virt_lab: Lab, figures: dict[str, float]) -> None:
    node = "node3"
    kill = faults.NodeKill(virt_lab)
    started = time.monotonic()
    kill.apply(node)
    figures["destroy_call_s"] = round(time.monotonic() - started, 2)
    assert not virt_lab.backend.alive(node)
    figures["destroy_to_client_loss_s"] = until(
        "service address lost", lambda: not service_answers(virt_lab, node), EFFECT_DEADLINE
    )
    assert not virt_lab.reachable(node, timeout=5)
    assert virt_lab.reachable("node1") and virt_lab.reachable("node2"), "one node only"
    started = time.monotonic()
    record = kill.heal(node)
    figures["create_to_reachable_s"] = round(time.monotonic() - started, 1)
    assert record["booted"] is True
    assert virt_lab.backend.alive(node)
    assert virt_lab.ssh(node, "hostname").stdout.strip() == node
    until("service address back", lambda: service_answers(virt_lab, node), EFFECT_DEADLINE)


def test_down_leaves_libvirt_as_it_found_it(virt_lab: Lab, before: dict[str, Any]) -> None:
    prefix = LibvirtBackend.settings(INSTANCE)["prefix"]
    removed = control.down(INSTANCE, backend="libvirt")
    assert removed
    after = libvirt_inventory()
    assert not [d for d in after["domains"] if is_lab_domain(d, prefix, None)]
    assert after["networks"] == before["networks"]
    assert after["domains"] == before["domains"]
    # The box's base volume stays, cached for the next lab; the nodes' overlays go.
    assert not [v for v in after["volumes"] if v.startswith(prefix)]
    assert not lab_dir(INSTANCE).exists()
    assert control.down(INSTANCE, backend="libvirt") == []
