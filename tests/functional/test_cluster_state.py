"""The deployed cluster is what the reference deployment describes: one quorate partition,
one promoted lvs (the director, VIP on its service NIC), real servers holding the VIP on lo with ARP
suppressed, ldirectord only on the director with the IPVS table of the inventory. On the
keepalived stack: one VRRP master (the director) with the same IPVS service, the same real
servers; what only pacemaker has is skipped there, with the reason."""

from __future__ import annotations

import pytest

from checks.cluster_state import ClusterStatus, parse_crm_mon, parse_ipvsadm
from lab.cluster import Cluster
from lab.control import Lab

pytestmark = pytest.mark.lab
PACEMAKER_ONLY = "no pacemaker, corosync or ldirectord: VRRP elects the director"


@pytest.fixture(scope="module")
def status(cluster: Lab, ops: Cluster) -> ClusterStatus:
    # Module-scoped: set up before the `stack` marker's skip, so it skips by itself too.
    if ops.stack != "pacemaker":
        pytest.skip(f"{ops.stack} stack: {PACEMAKER_ONLY}")
    xml = cluster.ssh(cluster.nodes[0].name, "crm_mon -1 --output-as=xml").stdout
    return parse_crm_mon(xml)


@pytest.fixture(scope="module")
def director(ops: Cluster) -> str:
    """The promoted lvs (pacemaker) or the VRRP master (keepalived): exactly one."""
    return ops.director()


@pytest.mark.stack("pacemaker", reason=PACEMAKER_ONLY)
def test_all_nodes_online_in_one_quorate_partition(cluster: Lab, status: ClusterStatus) -> None:
    assert sorted(status.nodes_online) == sorted(n.name for n in cluster.nodes)
    assert status.nodes_offline == ()
    assert status.quorate


@pytest.mark.stack("pacemaker", reason=PACEMAKER_ONLY)
def test_exactly_one_promoted_and_the_rest_unpromoted(cluster: Lab, status, director) -> None:
    others = sorted(n.name for n in cluster.nodes if n.name != director)
    assert sorted(status.nodes_in_role("lvs", "Unpromoted")) == others


def test_director_holds_the_vip_on_its_nic_and_forwards(
    cluster: Lab, ops: Cluster, hosts, director
) -> None:
    """pacemaker's lvs agent moves the VIP from lo to the NIC and lets ARP be; keepalived's
    nodes keep it on lo with ARP suppressed, VRRP adds it on the NIC (arp_ignore=1 answers
    for an address of the NIC asked on)."""
    host = hosts[director]
    vip = str(cluster.topology.vip)
    nic = cluster.state.service_ifname
    keepalived = ops.stack == "keepalived"
    assert vip in host.interface(nic).addresses
    assert (vip in host.interface("lo").addresses) == keepalived
    assert host.sysctl("net.ipv4.conf.all.forwarding") == 1
    for scope in ("all", "lo"):  # the director answers ARP for the VIP, and announces it
        assert host.sysctl(f"net.ipv4.conf.{scope}.arp_ignore") == int(keepalived), scope
        assert host.sysctl(f"net.ipv4.conf.{scope}.arp_announce") == 2 * keepalived, scope


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


@pytest.mark.stack("pacemaker", reason=PACEMAKER_ONLY)
def test_ldirectord_runs_only_on_the_director(hosts, status: ClusterStatus, director) -> None:
    assert status.nodes_in_role("ldirectord", "Started") == [director]
    running = {
        name for name, host in hosts.items() if host.run("pgrep -f /usr/sbin/ldirectord").rc == 0
    }
    assert running == {director}


def test_ipvs_table_lists_every_real_server_in_dr_mode(
    cluster: Lab, ops: Cluster, director
) -> None:
    """Every virtual service of the inventory (the VIP's port, and ssh_port when set), and
    nothing else: TCP VIP:port on pacemaker, a firewall mark per port on keepalived (its
    reals shown on port 0: the mark, not the port, picks the service)."""
    table = parse_ipvsadm(cluster.ssh(director, "ipvsadm -Ln").stdout)
    topo = cluster.topology
    if ops.stack == "keepalived":
        want = [("FWM", str(mark)) for mark in range(1, len(topo.ports) + 1)]
    else:
        want = [("TCP", f"{topo.vip}:{p}") for p in topo.ports]
    assert sorted((s.protocol, s.address) for s in table) == sorted(want)
    for port in topo.ports:
        service = ops.service_in(table, port)
        real_port = 0 if service.protocol == "FWM" else port
        assert service.scheduler == "lc", service
        assert sorted(r.address for r in service.reals) == sorted(
            f"{n.service_ip}:{real_port}" for n in cluster.nodes
        )
        assert {r.forward for r in service.reals} == {"Route"}
        assert all(r.weight > 0 for r in service.reals), f"a quiesced real on {port}"


@pytest.mark.stack("pacemaker", reason=PACEMAKER_ONLY)
def test_corosync_runs_on_the_service_network(cluster: Lab) -> None:
    out = cluster.ssh(cluster.nodes[0].name, "corosync-cmapctl -b nodelist.node").stdout
    addrs = sorted(
        line.split("=")[-1].strip() for line in out.splitlines() if ".ring0_addr" in line
    )
    assert addrs == sorted(str(n.service_ip) for n in cluster.nodes)


@pytest.mark.stack("pacemaker", reason=PACEMAKER_ONLY)
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
