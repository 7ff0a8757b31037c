"""The deployed cluster is what the reference deployment describes: one quorate partition,
one promoted lvs (the director, VIP on its service NIC), real servers holding the VIP on lo with ARP
suppressed, ldirectord only on the director with the IPVS table of the inventory. On the
keepalived stack: one VRRP master (the director) with the same IPVS service, the same real
servers; what only pacemaker has is skipped there, with the reason."""

from __future__ import annotations

import pytest

from lab.cluster import ClusterReader
from lab.cluster.parse import ClusterStatus, parse_crm_mon, parse_ipvsadm
from lab.control import Lab

pytestmark = pytest.mark.lab
PACEMAKER_ONLY = "no pacemaker, corosync or ldirectord: VRRP elects the director"


@pytest.fixture(scope="module")
def status(lab: Lab, cluster: ClusterReader) -> ClusterStatus:
    # Module-scoped: set up before the `stack` marker's skip, so it skips by itself too.
    if cluster.stack != "pacemaker":
        pytest.skip(f"{cluster.stack} stack: {PACEMAKER_ONLY}")
    xml = lab.ssh(lab.nodes[0].name, "crm_mon -1 --output-as=xml").stdout
    return parse_crm_mon(xml)


@pytest.fixture(scope="module")
def director(cluster: ClusterReader) -> str:
    """The promoted lvs (pacemaker) or the VRRP master (keepalived): exactly one."""
    return cluster.director()


@pytest.mark.stack("pacemaker", reason=PACEMAKER_ONLY)
def test_all_nodes_online_in_one_quorate_partition(lab: Lab, status: ClusterStatus) -> None:
    assert sorted(status.nodes_online) == sorted(n.name for n in lab.nodes)
    assert status.nodes_offline == ()
    assert status.quorate


@pytest.mark.stack("pacemaker", reason=PACEMAKER_ONLY)
def test_exactly_one_promoted_and_the_rest_unpromoted(lab: Lab, status, director) -> None:
    others = sorted(n.name for n in lab.nodes if n.name != director)
    assert sorted(status.nodes_in_role("lvs", "Unpromoted")) == others


def test_director_holds_the_vip_on_its_nic_and_forwards(
    lab: Lab, cluster: ClusterReader, hosts, director
) -> None:
    """pacemaker's lvs agent moves the VIP from lo to the NIC and lets ARP be; keepalived's
    nodes keep it on lo with ARP suppressed, VRRP adds it on the NIC (arp_ignore=1 answers
    for an address of the NIC asked on)."""
    host = hosts[director]
    vip = str(lab.topology.vip)
    nic = lab.state.service_ifname
    keepalived = cluster.stack == "keepalived"
    assert vip in host.interface(nic).addresses
    assert (vip in host.interface("lo").addresses) == keepalived
    assert host.sysctl("net.ipv4.conf.all.forwarding") == 1
    for scope in ("all", "lo"):  # the director answers ARP for the VIP, and announces it
        assert host.sysctl(f"net.ipv4.conf.{scope}.arp_ignore") == int(keepalived), scope
        assert host.sysctl(f"net.ipv4.conf.{scope}.arp_announce") == 2 * keepalived, scope


def test_real_servers_hold_the_vip_on_lo_and_stay_silent(lab: Lab, hosts, director) -> None:
    vip = str(lab.topology.vip)
    for name, host in hosts.items():
        if name == director:
            continue
        assert vip in host.interface("lo").addresses, name
        assert vip not in host.interface(lab.state.service_ifname).addresses, name
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
    lab: Lab, cluster: ClusterReader, director
) -> None:
    """Every virtual service of the inventory (the VIP's port, and ssh_port when set), and
    nothing else: TCP VIP:port on pacemaker, a firewall mark per port on keepalived (its
    reals shown on port 0: the mark, not the port, picks the service)."""
    table = parse_ipvsadm(lab.ssh(director, "ipvsadm -Ln").stdout)
    topo = lab.topology
    if cluster.stack == "keepalived":
        want = [("FWM", str(mark)) for mark in range(1, len(topo.ports) + 1)]
    else:
        want = [("TCP", f"{topo.vip}:{p}") for p in topo.ports]
    assert sorted((s.protocol, s.address) for s in table) == sorted(want)
    for port in topo.ports:
        service = cluster.service_in(table, port)
        real_port = 0 if service.protocol == "FWM" else port
        assert service.scheduler == "lc", service
        assert sorted(r.address for r in service.reals) == sorted(
            f"{n.service_ip}:{real_port}" for n in lab.nodes
        )
        assert {r.forward for r in service.reals} == {"Route"}
        assert all(r.weight > 0 for r in service.reals), f"a quiesced real on {port}"


@pytest.mark.stack("pacemaker", reason=PACEMAKER_ONLY)
def test_corosync_runs_on_the_service_network(lab: Lab) -> None:
    out = lab.ssh(lab.nodes[0].name, "corosync-cmapctl -b nodelist.node").stdout
    addrs = sorted(
        line.split("=")[-1].strip() for line in out.splitlines() if ".ring0_addr" in line
    )
    assert addrs == sorted(str(n.service_ip) for n in lab.nodes)


@pytest.mark.stack("pacemaker", reason=PACEMAKER_ONLY)
def test_corosync_runs_the_deployed_layout_and_timing(lab: Lab, cluster: ClusterReader) -> None:
    """What corosync runs, not what its file says (a switch reloads it in place): one knet
    link per layout's network, and the profile's token (hardened: 1000 ms flat; seed:
    corosync's default, 3000 ms + 650 ms per node past two)."""
    cell = cluster.deployed_cell()
    if cell is None:
        pytest.skip("no lvs-ha-lab deploy record on the nodes: no layout to compare against")
    want_links = cell.knet_links
    links = {n.name: cluster.corosync_links(n.name) for n in lab.nodes}
    assert set(links.values()) == {want_links}, f"{cell.name}: links {links}"
    want_token = 1000.0 if cell.profile == "hardened" else 3000.0 + 650 * (len(lab.nodes) - 2)
    assert cluster.corosync_timing()["token"] == want_token
