from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from lab.errors import LabError
from lab.topology import Topology

INVENTORY = Path(__file__).parents[2] / "ansible" / "hosts"
VARS = {"vip": "192.168.122.100", "port": "80"}


def hosts(*last_octets: int) -> dict[str, dict[str, str]]:
    return {f"node{i}": {"ip": f"192.168.122.{o}"} for i, o in enumerate(last_octets, 1)}


def test_reads_the_articles_inventory() -> None:
    topo = Topology.from_inventory(INVENTORY)
    assert [(n.name, str(n.service_ip), str(n.mgmt_ip)) for n in topo.nodes] == [
        ("node1", "192.168.122.111", "192.168.121.111"),
        ("node2", "192.168.122.112", "192.168.121.112"),
        ("node3", "192.168.122.113", "192.168.121.113"),
    ]
    assert topo.vip == IPv4Address("192.168.122.100") and topo.port == 80
    assert topo.ssh_port == 22 and topo.ports == (80, 22)
    assert topo.service_net == IPv4Network("192.168.122.0/24")
    assert topo.client_ip == IPv4Address("192.168.122.1")
    assert topo.mgmt_host_ip == IPv4Address("192.168.121.1")


def test_macs_are_unique_and_name_network_and_host() -> None:
    topo = Topology.build(hosts(111, 112, 113, 114, 115), VARS)
    macs = [m for n in topo.nodes for m in (n.service_mac, n.mgmt_mac)]
    assert len(set(macs)) == len(macs) == 10
    assert topo.nodes[0].service_mac == "52:54:00:7a:00:6f"
    assert topo.nodes[4].mgmt_mac == "52:54:00:79:00:73"


def test_the_bridges_have_macs_of_their_own_in_the_same_scheme() -> None:
    topo = Topology.build(hosts(111, 112, 113), VARS)
    assert (topo.client_mac, topo.mgmt_host_mac) == ("52:54:00:7a:00:01", "52:54:00:79:00:01")
    assert not {topo.client_mac, topo.mgmt_host_mac} & {n.service_mac for n in topo.nodes}


def test_custom_management_network() -> None:
    topo = Topology.build(hosts(111), VARS, mgmt_network="10.99.0.0/16")
    assert topo.nodes[0].mgmt_ip == IPv4Address("10.99.0.111")


@pytest.mark.parametrize(
    ("hostmap", "group_vars", "kwargs", "message"),
    [
        ({}, VARS, {}, "no hosts"),
        (hosts(111), {"port": "80"}, {}, "lacks 'vip'"),
        (hosts(111), {"vip": "192.168.122.100"}, {}, "lacks 'port'"),
        (hosts(111), {**VARS, "port": "0"}, {}, "out of range"),
        (hosts(111), {**VARS, "ssh_port": "70000"}, {}, "ssh_port 70000 is out of range"),
        (hosts(111), {**VARS, "ssh_port": "80"}, {}, "same as port"),
        (hosts(111), {**VARS, "ssh_port": "ssh"}, {}, "bad vip, port or ssh_port"),
        (hosts(111), {**VARS, "vip": "not-an-ip"}, {}, "bad vip"),
        ({"node1": {}}, VARS, {}, "has no ip="),
        ({"node1": {"ip": "10.0.0.5"}}, VARS, {}, "not in the service network"),
        (hosts(111, 111), VARS, {}, "already used by node1"),
        (hosts(100), VARS, {}, "already used by the vip"),
        (hosts(1), VARS, {}, "already used by the client side"),
        (hosts(111), VARS, {"mgmt_network": "192.168.122.0/25"}, "overlaps"),
        (hosts(111), VARS, {"mgmt_network": "nonsense"}, "bad management network"),
        (hosts(111), VARS, {"mgmt_network": "192.168.121.0/26"}, "does not fit"),
    ],
)
def test_bad_inventories_give_one_clear_error(hostmap, group_vars, kwargs, message) -> None:
    with pytest.raises(LabError, match=message):
        Topology.build(hostmap, group_vars, **kwargs)


def test_missing_inventory_file(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="inventory not found"):
        Topology.from_inventory(tmp_path / "nope")


def test_inventory_without_node_group(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts"
    inventory.write_text("[web]\nweb1 ip=192.168.122.5\n")
    with pytest.raises(LabError, match=r"no group \[nodes\]"):
        Topology.from_inventory(inventory)


def test_unknown_node_lists_the_known_ones() -> None:
    topo = Topology.build(hosts(111, 112), VARS)
    with pytest.raises(LabError, match="node1, node2"):
        topo.node("node9")
