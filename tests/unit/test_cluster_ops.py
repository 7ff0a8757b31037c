"""lab.cluster (the pacemaker reader, the actions, the journal) over the fake lab."""

from __future__ import annotations

import subprocess
import time

import pytest

from lab.cluster import PacemakerCluster, actions, journal, open_cluster
from lab.cluster.journal import ClockOffset
from lab.cluster.pacemaker import QUIET_STATUS
from lab.errors import LabError
from tests.unit.fake_lab import FakeLab

IPVSADM = """IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.168.122.100:22 lc
  -> 192.168.122.111:22           Route   1      2          0
  -> 192.168.122.112:22           Route   1      1          0
  -> 192.168.122.113:22           Route   1      2          0
TCP  192.168.122.100:80 lc
  -> 192.168.122.111:80           Route   1      0          3
  -> 192.168.122.112:80           Route   0      0          0
  -> 192.168.122.113:80           Route   1      1          4
"""
METADATA = """<?xml version="1.0"?><resource-agent name="lvs" version="1.0"><parameters>
<parameter name="arp_count"><content type="integer" default="5"/></parameter>
</parameters></resource-agent>"""


def test_active_and_weight_by_node_name() -> None:
    cluster = PacemakerCluster(FakeLab({"ipvsadm -Ln": (0, IPVSADM)}))
    assert cluster.active_by_node("node1", 22) == {"node1": 2, "node2": 1, "node3": 2}
    assert cluster.weight_by_node("node1", 80) == {"node1": 1, "node2": 0, "node3": 1}
    with pytest.raises(LabError, match=r"no 192\.168\.122\.100:443"):
        cluster.active_by_node("node1", 443)


def test_agent_param_prefers_the_cib_then_the_agent_default() -> None:
    set_in_cib = FakeLab({"crm_resource --quiet": (0, "7\n")})
    assert PacemakerCluster(set_in_cib).agent_param("arp_count") == "7"
    default = FakeLab(
        {"crm_resource --quiet": (6, ""), "crm_resource --show-metadata": (0, METADATA)}
    )
    assert PacemakerCluster(default).agent_param("arp_count") == "5"
    with pytest.raises(LabError, match="no parameter nope"):
        PacemakerCluster(default).agent_param("nope")


def test_log_times_reads_journal_lines_in_the_hosts_clock() -> None:
    # The node's clock runs 2 s ahead of the host's: its journal times are 2 s late.
    ahead = (0, lambda: f"{time.time() + 2.0:.6f}")
    line = "1795827855.546626 node2 lvs(lvs)[812]: INFO: promoting: 192.168.122.100 moves\n"
    found = FakeLab({"date": ahead, "journalctl": (0, line)})
    got = journal.log_times(found, "node2", {"p": "promoting:"}, 1795827850)
    at = got["p"]
    assert at == pytest.approx(1795827853.546626, abs=0.05)
    # Asked in the node's clock (850 + 2 s), a second early for the whole-second rounding:
    # 851, or 850 when the measured offset comes out a hair under 2 s.
    asked = int(found.commands[-1].split("--since=@")[1].split()[0])
    assert 1795827850 <= asked <= 1795827851
    empty = FakeLab({"date": ahead, "journalctl": (0, "")})
    assert journal.log_times(empty, "node2", {"x": "x"}, 0) == {}


def test_log_times_reads_the_journal_once_for_every_pattern() -> None:
    lines = (
        "1795827851.000000 node1 corosync[9]: [KNET  ] link: host: 2 link: 0 is down\n"
        "1795827853.500000 node1 lvs(lvs)[812]: INFO: promoting: 192.168.122.100 moves\n"
        "1795827854.000000 node1 lvs(lvs)[812]: INFO: promoting: again\n"
    )
    lab = FakeLab({"journalctl": (0, lines)})
    given = ClockOffset(seconds=0.5, uncertainty=0.01)
    marks = {"promoting": "promoting:", "link down": "link: host: .* link: 0 is down",
             "quorum lost": "non-primary component"}  # fmt: skip
    found = journal.log_times(lab, "node1", marks, 1795827850.0, given)
    assert found == {"link down": 1795827850.5, "promoting": 1795827853.0}, "first match each"
    assert len(lab.commands) == 1 and lab.commands[0].startswith("journalctl"), "no clock read"
    assert "--since=@1795827849 " in lab.commands[0]


def test_clock_offset_keeps_the_exchange_with_the_shortest_round_trip() -> None:
    lab = FakeLab({"date": (0, lambda: f"{time.time() - 1.5:.6f}")})
    offset = journal.clock_offset(lab, "node1")
    assert offset.seconds == pytest.approx(-1.5, abs=0.05) and offset.uncertainty < 0.05


def test_move_director_clears_its_constraint_even_when_the_move_fails() -> None:
    lab = FakeLab({"crm_resource --move": (0, ""), "crm_resource --clear": (0, ""),
                   "crm_resource --wait": (1, ""),
                   "pacemakerd": (0, "Pacemaker 3.0.0\n")})  # fmt: skip
    with pytest.raises(LabError, match="director moves to node2"):
        actions.move_director(PacemakerCluster(lab), "node2", deadline=0.2)
    assert lab.commands[-1] == "crm_resource --clear --resource lvs-clone"
    assert "crm_resource --move --promoted --resource lvs-clone --node node2" in lab.commands


def test_move_director_names_the_role_as_pacemaker_2_0_does() -> None:
    lab = FakeLab({"crm_resource --move": (0, ""), "crm_resource --clear": (0, ""),
                   "crm_resource --wait": (1, ""),
                   "pacemakerd": (0, "Pacemaker 2.0.5\nWritten by Andrew Beekhof\n")})  # fmt: skip
    with pytest.raises(LabError):
        actions.move_director(PacemakerCluster(lab), "node2", deadline=0.2)
    assert "crm_resource --move --master --resource lvs-clone --node node2" in lab.commands
    lab = FakeLab({"pacemakerd": (0, "bash: pacemakerd: command not found")})
    with pytest.raises(LabError, match="pacemakerd --version said"):
        PacemakerCluster(lab).pacemaker_version("node1")


def whole_cluster(failures: str = "", node3_online: str = "true") -> str:
    """crm_mon XML: three nodes, node2 the director with ldirectord."""
    return f"""<pacemaker-result><summary>
<current_dc present="true" name="node2" with_quorum="true"/></summary><nodes>
<node name="node1" online="true" type="member"/><node name="node2" online="true" type="member"/>
<node name="node3" online="{node3_online}" type="member"/></nodes><resources>
<resource id="lvs" role="Promoted" active="true"><node name="node2"/></resource>
<resource id="ldirectord" role="Started" active="true"><node name="node2"/></resource>
</resources>{failures}</pacemaker-result>"""


ALL_WEIGHTED = IPVSADM.replace("Route   0", "Route   1")


@pytest.mark.parametrize(
    ("crm_mon", "ipvsadm", "settled"),
    [
        (whole_cluster(), ALL_WEIGHTED, "node2"),
        (whole_cluster(), IPVSADM, None),  # node2's real at weight 0 on port 80
        (whole_cluster(node3_online="false"), ALL_WEIGHTED, None),
        (
            whole_cluster('<failures><failure op_key="lvs_monitor_10000" node="node1" '
                          'status="error"/></failures>'),
            ALL_WEIGHTED,
            None,
        ),
    ],
)  # fmt: skip
def test_settled_needs_every_node_one_director_no_failures_every_real_weighted(
    crm_mon: str, ipvsadm: str, settled: str | None
) -> None:
    lab = FakeLab({"crm_resource --wait": (0, crm_mon), "ipvsadm -Ln": (0, ipvsadm)})
    # The deploy record (which stack) is read once, when the cluster is opened, not per poll.
    cluster = open_cluster(lab)
    lab.commands.clear()
    assert cluster.settled() == settled
    assert lab.commands == [QUIET_STATUS, "ipvsadm -Ln"][: len(lab.commands)], "two round trips"


def test_nothing_is_settled_while_actions_are_pending() -> None:
    lab = FakeLab({"crm_resource --wait": (1, "Pending actions: promote lvs on node3\n")})
    assert PacemakerCluster(lab).settled() is None
    assert PacemakerCluster(lab).director_when_quiet() is None


def test_the_cell_is_read_back_and_none_when_nodes_lack_it() -> None:
    record = '{"profile": "hardened", "corosync_links": "dual"}'
    cluster = open_cluster(FakeLab({"cat /etc/lvs-ha-lab/deployed.json": (0, record)}))
    assert isinstance(cluster, PacemakerCluster) and cluster.cell().name == "hardened/dual"
    missing = PacemakerCluster(FakeLab({"cat /etc/lvs-ha-lab/deployed.json": (1, "")}))
    assert missing.deployed_cell() is None
    with pytest.raises(LabError, match="no complete deploy record"):
        missing.cell()


def test_a_reader_refuses_a_cell_of_another_stack() -> None:
    record = '{"stack": "keepalived", "profile": "fwmark", "corosync_links": "none"}'
    lab = FakeLab()
    cluster = open_cluster(lab)
    lab.answers["cat /etc/lvs-ha-lab/deployed.json"] = (0, record)
    with pytest.raises(LabError, match="redeployed with the keepalived stack"):
        cluster.cell()


def test_idle_needs_no_active_ipvs_entry_on_any_port() -> None:
    answers = {
        "crm_resource --wait": (0, whole_cluster()),
        "ipvsadm -Ln": (0, ALL_WEIGHTED),  # port 22 has active sessions
    }
    assert PacemakerCluster(FakeLab(answers)).idle() is None
    quiet = (
        ALL_WEIGHTED.replace("Route   1      2", "Route   1      0")
        .replace("Route   1      1          0", "Route   1      0          0")
        .replace("Route   1      1          4", "Route   1      0          4")
    )
    answers["ipvsadm -Ln"] = (0, quiet)
    assert PacemakerCluster(FakeLab(answers)).idle() == "node2"
    # A failover prober's leftovers: lc would send everything to the node without them.
    skewed = quiet.replace("Route   1      0          4", "Route   1      0          500")
    answers["ipvsadm -Ln"] = (0, skewed)
    assert PacemakerCluster(FakeLab(answers)).idle() is None


def test_scheduled_ports_keep_the_client_sides_connections_to_the_service() -> None:
    table = """IPVS connection entries
pro expire state       source             virtual            destination
TCP 00:57  SYN_RECV    192.168.122.1:45678 192.168.122.100:80 192.168.122.113:80
TCP 01:51  CLOSE       192.168.122.1:45690 192.168.122.100:80 192.168.122.111:80
TCP 00:40  SYN_RECV    192.168.122.1:45700 192.168.122.100:22 192.168.122.112:22
TCP 00:41  SYN_RECV    192.168.122.112:45701 192.168.122.100:80 192.168.122.112:80
TCP 01:58  FIN_WAIT    192.168.122.1:45710 192.168.122.100:80 192.168.122.112:80
"""
    lab = FakeLab({"ipvsadm -Lnc": (0, table)})
    cluster = PacemakerCluster(lab)
    # A handshake the real answered before it died, the request then lost: FIN_WAIT once
    # the client gave up, and sent to that real all the same.
    assert cluster.scheduled_ports(80, skip=["node2", "node3"]) == {
        45678: "node3",
        45690: "node1",
        45710: "node2",
    }
    assert lab.commands == ["ipvsadm -Lnc"], "skipped nodes are not asked"


def macs_by_node(lab: FakeLab) -> None:
    """`cat /sys/class/net/eth0/address` answers with a MAC per node (ssh is per node)."""
    plain_ssh = lab.ssh

    def ssh(node: str, command: str, **kwargs):
        if command == "cat /sys/class/net/eth0/address":
            return subprocess.CompletedProcess(command, 0, f"52:54:00:7a:00:{node[-1]}0\n", "")
        return plain_ssh(node, command, **kwargs)

    lab.ssh = ssh  # type: ignore[method-assign]


@pytest.mark.parametrize(
    ("neigh", "flushed"),
    [
        ('[{"dst":"192.168.122.100","lladdr":"52:54:00:7A:00:20","state":["REACHABLE"]}]', True),
        ('[{"dst":"192.168.122.100","lladdr":"52:54:00:7a:00:10","state":["STALE"]}]', False),
        ('[{"dst":"192.168.122.100","state":["INCOMPLETE"]}]', False),
        ("[]", False),
    ],
)
def test_the_client_is_pointed_at_the_director_when_its_arp_entry_names_another_node(
    neigh: str, flushed: bool
) -> None:
    lab = FakeLab(client={"ip -j neigh": (0, neigh)})
    macs_by_node(lab)
    actions.point_client_at(PacemakerCluster(lab), "node1")
    flushes = [c for c in lab.client_commands if c[:3] == ["ip", "neigh", "flush"]]
    assert flushes == ([["ip", "neigh", "flush", "to", "192.168.122.100"]] if flushed else [])
