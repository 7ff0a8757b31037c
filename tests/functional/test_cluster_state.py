"""The deployed cluster is what the reference deployment describes: one quorate partition,
one promoted lvs (the director, VIP on its service NIC), real servers holding the VIP on lo with ARP
suppressed, ldirectord only on the director with the IPVS table of the inventory."""

from __future__ import annotations

import pytest

from checks.cluster_state import ClusterStatus, parse_crm_mon, parse_ipvsadm
from lab.cluster import Cluster
from lab.control import Lab

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def status(cluster: Lab) -> ClusterStatus:
    xml = cluster.ssh(cluster.nodes[0].name, "crm_mon -1 --output-as=xml").stdout
    return parse_crm_mon(xml)


@pytest.fixture(scope="module")
def director(status: ClusterStatus) -> str:
    promoted = status.nodes_in_role("lvs", "Promoted")
    assert len(promoted) == 1, f"expected exactly one promoted lvs, got {promoted}"
    return promoted[0]


def test_all_nodes_online_in_one_quorate_partition(cluster: Lab, status: ClusterStatus) -> None:
    assert sorted(status.nodes_online) == sorted(n.name for n in cluster.nodes)
    assert status.nodes_offline == ()
    assert status.quorate


def test_exactly_one_promoted_and_the_rest_unpromoted(cluster: Lab, status, director) -> None:
    others = sorted(n.name for n in cluster.nodes if n.name != director)
    assert sorted(status.nodes_in_role("lvs", "Unpromoted")) == others


def test_director_holds_the_vip_on_its_nic_and_forwards(cluster: Lab, hosts, director) -> None:
    host = hosts[director]
    vip = str(cluster.topology.vip)
    nic = cluster.state.service_ifname
    assert vip in host.interface(nic).addresses
    assert vip not in host.interface("lo").addresses
    assert host.sysctl("net.ipv4.conf.all.forwarding") == 1
    for scope in ("all", "lo"):  # the director answers ARP for the VIP, and announces it
        assert host.sysctl(f"net.ipv4.conf.{scope}.arp_ignore") == 0, scope
        assert host.sysctl(f"net.ipv4.conf.{scope}.arp_announce") == 0, scope


def test_real_servers_hold_the_vip_on_lo_and_stay_silent(cluster: Lab, hosts, director) -> None:
    vip = str(cluster.topology.vip)
    for name, host in hosts.items():
        if name == director:
            continue
        assert vip in host.interface("lo").addresses, name
        assert vip not in host.interface(cluster.state.service_ifname).addresses, name
        for scope in ("all", "lo"):
            assert host.sysctl(f"net.ipv4.conf.{scope}.arp_ignore") == 1, (name, scope)
            assert host.sysctl(f"net.ipv4.conf.{scope}.arp_announce") == 2, (name, scope)


def test_ldirectord_runs_only_on_the_director(hosts, status: ClusterStatus, director) -> None:
    assert status.nodes_in_role("ldirectord", "Started") == [director]
    running = {
        name for name, host in hosts.items() if host.run("pgrep -f /usr/sbin/ldirectord").rc == 0
    }
    assert running == {director}


def test_ipvs_table_lists_every_real_server_in_dr_mode(cluster: Lab, director) -> None:
    """Every virtual service of the inventory (the VIP's port, and ssh_port when set), and
    nothing else."""
    table = parse_ipvsadm(cluster.ssh(director, "ipvsadm -Ln").stdout)
    topo = cluster.topology
    assert sorted(s.address for s in table) == sorted(f"{topo.vip}:{p}" for p in topo.ports)
    for service in table:
        port = service.address.rsplit(":", 1)[1]
        assert service.protocol == "TCP" and service.scheduler == "lc", service
        assert sorted(r.address for r in service.reals) == sorted(
            f"{n.service_ip}:{port}" for n in cluster.nodes
        )
        assert {r.forward for r in service.reals} == {"Route"}
        assert all(r.weight > 0 for r in service.reals), f"a quiesced real on {port}"


def test_corosync_runs_on_the_service_network(cluster: Lab) -> None:
    out = cluster.ssh(cluster.nodes[0].name, "corosync-cmapctl -b nodelist.node").stdout
    addrs = sorted(
        line.split("=")[-1].strip() for line in out.splitlines() if ".ring0_addr" in line
    )
    assert addrs == sorted(str(n.service_ip) for n in cluster.nodes)


def test_corosync_runs_the_deployed_layout_and_timing(cluster: Lab, ops: Cluster) -> None:
    """What corosync runs, not what its file says (a switch reloads it in place): one knet
    link per layout's network, and the profile's token (hardened: 1000 ms flat; seed:
    corosync's default, 3000 ms + 650 ms per node past two)."""
    cell = ops.deployed()
    if cell is None:
        pytest.skip("no lvs-ha-lab deploy record on the nodes: no layout to compare against")
    want_links = cell.knet_links
    links = {n.name: ops.corosync_links(n.name) for n in cluster.nodes}
    assert set(links.values()) == {want_links}, f"{cell.cell}: links {links}"
    want_token = 1000.0 if cell.profile == "hardened" else 3000.0 + 650 * (len(cluster.nodes) - 2)
    assert ops.corosync_timing()["token"] == want_token
