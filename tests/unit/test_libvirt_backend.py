"""The libvirt backend without libvirt: its XML handling, its choice of service network,
its preflight errors, and power/cable calls against a fake libvirt module."""

from __future__ import annotations

import subprocess
import sys
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from types import SimpleNamespace

import pytest

from lab.backends import backend_class
from lab.backends import libvirt as backend
from lab.backends.libvirt_xml import (
    interface_by_mac,
    isolated_network_xml,
    link_is_up,
    network_info,
    with_link_state,
)
from lab.errors import LabError
from lab.state import LabState
from lab.topology import Topology

INVENTORY = Path(__file__).parents[2] / "ansible" / "hosts"
MGMT_MAC = "52:54:00:aa:bb:01"
SERVICE_MAC = "52:54:00:7a:00:6f"
DOMAIN = f"""<domain type='qemu'><name>lvslab-node1</name><devices>
<interface type='network'><mac address='{MGMT_MAC}'/><source network='vagrant-libvirt'/>
<model type='virtio'/></interface>
<interface type='network'><mac address='{SERVICE_MAC.upper()}'/>
<source network='default'/><model type='virtio'/></interface>
</devices></domain>"""
DEFAULT_NET = """<network><name>default</name><forward mode='nat'/>
<bridge name='virbr0' stp='on' delay='0'/>
<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2'
end='192.168.122.254'/></dhcp></ip></network>"""


def test_interface_is_found_by_mac_whatever_its_case() -> None:
    interface = interface_by_mac(DOMAIN, SERVICE_MAC)
    assert interface.find("source").get("network") == "default"  # type: ignore[union-attr]
    with pytest.raises(LabError, match="no interface with MAC 52:54:00:00:00:00"):
        interface_by_mac(DOMAIN, "52:54:00:00:00:00")


def test_link_state_round_trip() -> None:
    assert link_is_up(DOMAIN, SERVICE_MAC)
    down = with_link_state(DOMAIN, SERVICE_MAC, "down")
    assert down.startswith("<interface") and '<link state="down" />' in down
    tail = "<model type='virtio'/></interface>\n</devices>"
    cut = DOMAIN.replace(tail, "<model type='virtio'/><link state='down'/></interface>\n</devices>")
    assert not link_is_up(cut, SERVICE_MAC) and link_is_up(cut, MGMT_MAC)
    assert '<link state="up" />' in with_link_state(cut, SERVICE_MAC, "up")
    with pytest.raises(ValueError):
        with_link_state(DOMAIN, SERVICE_MAC, "sideways")


def test_network_info_and_the_isolated_network() -> None:
    info = network_info(DEFAULT_NET)
    assert (info.name, info.bridge) == ("default", "virbr0")
    assert info.address == IPv4Address("192.168.122.1")
    assert info.network == IPv4Network("192.168.122.0/24")
    xml = isolated_network_xml(
        "lab-service", "lab-svc", IPv4Address("192.168.122.1"), IPv4Network("192.168.122.0/24")
    )
    assert "<forward" not in xml and "<dhcp" not in xml  # isolated, no leases
    assert network_info(xml).network == IPv4Network("192.168.122.0/24")


class FakeNetwork:
    def __init__(self, xml: str, active: bool = True) -> None:
        self.xml, self.active, self.created = xml, active, False

    def XMLDesc(self, flags: int) -> str:
        return self.xml

    def isActive(self) -> bool:
        return self.active

    def create(self) -> None:
        self.created = True


class FakeConn:
    def __init__(self, networks: list[FakeNetwork]) -> None:
        self.networks = networks
        self.defined: list[str] = []

    def listAllNetworks(self) -> list[FakeNetwork]:
        return self.networks

    def networkDefineXML(self, xml: str) -> FakeNetwork:
        self.defined.append(xml)
        network = FakeNetwork(xml)
        self.networks.append(network)
        return network


TOPOLOGY = Topology.from_inventory(INVENTORY)


def test_an_active_network_on_the_service_subnet_is_reused() -> None:
    conn = FakeConn([FakeNetwork(DEFAULT_NET)])
    assert backend.LibvirtBackend.ensure_service_network(conn, "lvslab", TOPOLOGY) == (
        "default",
        False,
    )
    assert conn.defined == []


def test_without_one_the_lab_defines_its_own_isolated_network() -> None:
    conn = FakeConn([FakeNetwork(DEFAULT_NET, active=False)])
    name, owned = backend.LibvirtBackend.ensure_service_network(conn, "lvslab", TOPOLOGY)
    assert (name, owned) == ("lvslab-service", True)
    assert network_info(conn.defined[0]).network == TOPOLOGY.service_net
    assert conn.networks[-1].created


def test_a_service_subnet_with_the_host_elsewhere_is_refused() -> None:
    odd = FakeConn([FakeNetwork(DEFAULT_NET.replace("192.168.122.1'", "192.168.122.254'"))])
    with pytest.raises(LabError, match=r"needs the client side at 192\.168\.122\.1"):
        backend.LibvirtBackend.ensure_service_network(odd, "lvslab", TOPOLOGY)


def fake_vagrant(plugins: str, boxes: str):
    def run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        out = plugins if argv[1] == "plugin" else boxes
        return subprocess.CompletedProcess(argv, 0, out, "")

    return run


BOX_LIST = "1700000000,,box-name,debian/bookworm64\n1700000000,,box-provider,libvirt\n"


@pytest.mark.parametrize(
    ("which", "plugins", "boxes", "message"),
    [
        (None, "", "", "vagrant is not installed"),
        ("/usr/bin/vagrant", "vagrant-share (2.0)", BOX_LIST, "vagrant-libvirt plugin is missing"),
        (
            "/usr/bin/vagrant",
            "vagrant-libvirt (0.11.2, system)",
            "",
            "box debian/bookworm64 is not",
        ),
    ],
)
def test_vagrant_preflight_one_clear_line_each(monkeypatch, which, plugins, boxes, message) -> None:
    monkeypatch.setattr(backend.shutil, "which", lambda _: which)
    with pytest.raises(LabError, match=message) as error:
        backend.check_vagrant("debian/bookworm64", fake_vagrant(plugins, boxes))
    assert "\n" not in str(error.value)


def test_vagrant_preflight_passes_with_plugin_and_box(monkeypatch) -> None:
    monkeypatch.setattr(backend.shutil, "which", lambda _: "/usr/bin/vagrant")
    asked: list[list[str]] = []
    vagrant = fake_vagrant("vagrant-libvirt (0.11.2)", BOX_LIST)

    def run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        asked.append(argv)
        return vagrant(argv, check)

    assert backend.check_vagrant("debian/bookworm64", run) is None
    assert [a[1] for a in asked] == ["plugin", "box"], "both the plugin and the box were checked"


def test_libvirt_python_missing_or_libvirt_unreachable(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "libvirt", None)  # import libvirt -> ImportError
    with pytest.raises(LabError, match="libvirt-python is not installed"):
        backend.open_libvirt("qemu:///system")

    class LibvirtError(Exception):
        def get_error_message(self) -> str:
            return "Failed to connect socket to '/var/run/libvirt/libvirt-sock'"

    def refuse(uri: str) -> None:
        raise LibvirtError()

    fake = SimpleNamespace(libvirtError=LibvirtError, open=refuse)
    monkeypatch.setitem(sys.modules, "libvirt", fake)
    with pytest.raises(LabError, match="libvirt at qemu:///system is unreachable: Failed"):
        backend.open_libvirt("qemu:///system")


def test_backend_is_selected_by_name_without_importing_libvirt() -> None:
    assert backend_class("libvirt") is backend.LibvirtBackend
    with pytest.raises(LabError, match="unknown lab backend 'kvm'"):
        backend_class("kvm")


def test_vagrant_ssh_config_becomes_root_access() -> None:
    out = """Host node1
  HostName 192.168.121.45
  User vagrant
  Port 22
  IdentityFile "/root/.vagrant.d/insecure_private_keys/vagrant.key.ed25519"
  IdentitiesOnly yes
"""
    hosts = backend.parse_ssh_config(out)
    assert hosts["node1"]["HostName"] == "192.168.121.45"
    config = backend.render_ssh_config(hosts, "root", key=None, netns=None, sockets=Path("/run/x"))
    assert "User root" in config and "vagrant.key.ed25519\n" in config
    assert "ControlPath /run/x/cm-%n" in config and "ProxyCommand" not in config
    # libvirtd in a namespace: the management network is only reachable through it.
    config = backend.render_ssh_config(
        hosts, "root", key=None, netns="lvslab-libvirt", sockets=Path("/x")
    )
    assert "ProxyCommand ip netns exec lvslab-libvirt nc %h %p" in config


def test_the_lab_key_replaces_the_key_vagrant_inserted_per_node() -> None:
    # Probes through the VIP log in to whichever node lc picks, with one key.
    hosts = {
        name: {"HostName": f"192.168.121.{i}", "IdentityFile": f"/v/machines/{name}/private_key"}
        for i, name in enumerate(("node1", "node2"), start=10)
    }
    key = Path("/labs/x/ssh/id_ed25519")
    config = backend.render_ssh_config(hosts, "root", key=key, netns=None, sockets=Path("/x"))
    identities = [line.split()[1] for line in config.splitlines() if "IdentityFile" in line]
    assert identities == [str(key), str(key)]


def test_vagrant_gets_the_lab_public_key_while_the_file_exists(tmp_path: Path) -> None:
    topology = Topology.from_inventory(INVENTORY)
    pub = tmp_path / "id_ed25519.pub"
    pub.write_text("ssh-ed25519 AAAAC3Nza lvslab-x\n")
    settings = {**backend.LibvirtBackend.settings("x"), "network": "n", "dotfile": "d"}
    env = backend.LibvirtBackend.vagrant_env({**settings, "root_key": str(pub)}, topology)
    assert env["LVSLAB_ROOT_KEY"] == "ssh-ed25519 AAAAC3Nza lvslab-x"
    pub.unlink()  # down runs vagrant destroy after the lab's files may be gone
    env = backend.LibvirtBackend.vagrant_env({**settings, "root_key": str(pub)}, topology)
    assert env["LVSLAB_ROOT_KEY"] == ""


def test_real_management_addresses_are_recorded_from_vagrant() -> None:
    topology = Topology.from_inventory(INVENTORY)
    hosts = {"node2": {"HostName": "192.168.121.77"}}
    updated = backend.with_mgmt_addresses(topology, hosts)
    assert updated.node("node2").mgmt_ip == IPv4Address("192.168.121.77")
    assert updated.node("node1").mgmt_ip == topology.node("node1").mgmt_ip
    assert updated.node("node2").service_ip == topology.node("node2").service_ip


def test_vagrant_runs_inside_the_libvirt_namespace_when_there_is_one() -> None:
    argv = backend.LibvirtBackend.vagrant_argv({"netns": "lvslab-libvirt"}, "up")
    assert argv == ["ip", "netns", "exec", "lvslab-libvirt", "vagrant", "up"]
    assert backend.LibvirtBackend.vagrant_argv({"netns": ""}, "up") == ["vagrant", "up"]


class FakeDomain:
    def __init__(self) -> None:
        self.xml, self.active, self.calls = DOMAIN, True, []

    def XMLDesc(self, flags: int) -> str:
        return self.xml

    def isActive(self) -> bool:
        return self.active

    def destroy(self) -> None:
        self.calls.append("destroy")
        self.active = False

    def create(self) -> None:
        self.calls.append("create")
        self.active = True

    def updateDeviceFlags(self, xml: str, flags: int) -> None:
        self.calls.append(("update", flags))
        self.xml = DOMAIN.replace(
            "<source network='default'/><model type='virtio'/>",
            "<source network='default'/><model type='virtio'/>"
            + ("<link state='down'/>" if 'state="down"' in xml else ""),
        )


def test_power_and_cable_go_through_libvirt(monkeypatch, tmp_path: Path) -> None:
    domain = FakeDomain()
    conn = SimpleNamespace(lookupByName=lambda name: domain)
    fake = SimpleNamespace(libvirtError=Exception, open=lambda uri: conn, VIR_DOMAIN_AFFECT_LIVE=1)
    monkeypatch.setitem(sys.modules, "libvirt", fake)
    state = LabState(
        name="lvslab", backend="libvirt", topology=TOPOLOGY, run_dir=tmp_path, netns=None,
        ssh_config=tmp_path / "ssh_config", node_data={"node1": {"domain": "lvslab-node1"}},
        backend_data={"uri": "qemu:///system"},
    )  # fmt: skip
    lab = backend.LibvirtBackend(state)
    lab.kill("node1")
    assert not lab.alive("node1")
    lab.start("node1")
    lab.cut_link("node1")
    assert lab.link_cut("node1")
    lab.restore_link("node1")
    assert not lab.link_cut("node1")
    assert domain.calls == ["destroy", "create", ("update", 1), ("update", 1)]


def test_down_takes_only_this_labs_domains() -> None:
    nodes = ["node1", "node2", "node3"]
    assert backend.is_lab_domain("lvslab-node1", "lvslab-", nodes)
    assert not backend.is_lab_domain("lvslab-selftest-node1", "lvslab-", nodes)
    assert not backend.is_lab_domain("lvslab-node9", "lvslab-", nodes)
    assert not backend.is_lab_domain("other-node1", "lvslab-", nodes)
    # Without state: prefix + one word.
    assert backend.is_lab_domain("lvslab-node2", "lvslab-", None)
    assert not backend.is_lab_domain("lvslab-selftest-node1", "lvslab-", None)
    assert not backend.is_lab_domain("lvslab-", "lvslab-", None)
