from __future__ import annotations

from lab.cluster.parse import parse_crm_mon, parse_ipvs_connections, parse_ipvsadm

SAMPLE_IPVSADM = """IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.168.122.100:80 lc
  -> 192.168.122.111:80           Route   1      0          3
  -> 192.168.122.112:80           Route   0      2          0
"""

CRM_MON = """<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">
  <summary>
    <current_dc present="true" version="2.1.5" name="node2" id="2" with_quorum="true"/>
  </summary>
  <nodes>
    <node name="node1" id="1" online="true" standby="false" type="member"/>
    <node name="node2" id="2" online="true" standby="false" type="member"/>
    <node name="node3" id="3" online="false" standby="false" type="member"/>
  </nodes>
  <resources>
    <clone id="lvs-clone" multi_state="true" unique="false">
      <resource id="lvs" resource_agent="ocf:lvs-ha-lab:lvs" role="Promoted" active="true">
        <node name="node2" id="2" cached="true"/>
      </resource>
      <resource id="lvs" resource_agent="ocf:lvs-ha-lab:lvs" role="Unpromoted" active="true">
        <node name="node1" id="1" cached="true"/>
      </resource>
      <resource id="lvs" resource_agent="ocf:lvs-ha-lab:lvs" role="Stopped" active="false"/>
    </clone>
    <resource id="ldirectord" resource_agent="systemd:ldirectord" role="Started" active="true">
      <node name="node2" id="2" cached="true"/>
    </resource>
  </resources>
</pacemaker-result>"""


def test_crm_mon_nodes_quorum_and_roles() -> None:
    status = parse_crm_mon(CRM_MON)
    assert status.nodes_online == ("node1", "node2") and status.nodes_offline == ("node3",)
    assert status.quorate
    assert status.nodes_in_role("lvs", "Promoted") == ["node2"]
    assert status.nodes_in_role("lvs", "Unpromoted") == ["node1"]
    assert status.nodes_in_role("ldirectord", "Started") == ["node2"]
    assert status.nodes_in_role("nothing", "Started") == []


def test_crm_mon_of_pacemaker_2_0_speaks_the_same_roles() -> None:
    old = CRM_MON.replace('role="Promoted"', 'role="Master"').replace(
        'role="Unpromoted"', 'role="Slave"'
    )
    assert parse_crm_mon(old) == parse_crm_mon(CRM_MON)
    assert parse_crm_mon(old).nodes_in_role("lvs", "Promoted")


def test_crm_mon_without_quorum() -> None:
    assert not parse_crm_mon(CRM_MON.replace('with_quorum="true"', 'with_quorum="false"')).quorate


def test_ipvsadm_table() -> None:
    (service,) = parse_ipvsadm(SAMPLE_IPVSADM)
    assert (service.protocol, service.address, service.scheduler) == (
        "TCP",
        "192.168.122.100:80",
        "lc",
    )
    assert [(r.address, r.weight, r.active, r.inactive) for r in service.reals] == [
        ("192.168.122.111:80", 1, 0, 3),
        ("192.168.122.112:80", 0, 2, 0),
    ]


def test_ipvsadm_two_services_and_empty_table() -> None:
    text = SAMPLE_IPVSADM + "TCP  192.168.122.100:22 lc\n  -> 192.168.122.113:22  Route 1 1 0\n"
    services = parse_ipvsadm(text)
    assert [s.address for s in services] == ["192.168.122.100:80", "192.168.122.100:22"]
    assert len(services[0].reals) == 2 and len(services[1].reals) == 1
    assert parse_ipvsadm(SAMPLE_IPVSADM.split("TCP")[0]) == []


IPVS_CONNECTIONS = """IPVS connection entries
pro expire state       source             virtual            destination
TCP 00:57  SYN_RECV    192.168.122.1:45678 192.168.122.100:80 192.168.122.112:80
TCP 01:51  FIN_WAIT    192.168.122.1:45690 192.168.122.100:80 192.168.122.111:80
"""


def test_ipvs_connection_entries() -> None:
    first, second = parse_ipvs_connections(IPVS_CONNECTIONS)
    assert (first.state, first.client_port, first.real) == ("SYN_RECV", 45678, "192.168.122.112:80")
    assert first.virtual == "192.168.122.100:80" and second.state == "FIN_WAIT"
    assert parse_ipvs_connections("IPVS connection entries\npro expire state\n") == []
