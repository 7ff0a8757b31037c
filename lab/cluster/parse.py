"""The cluster's tools' output, parsed into read-only views: crm_mon's XML for pacemaker,
`ipvsadm -Ln` for the IPVS table, `ipvsadm -Lnc` for its connection entries, keepalived.conf
settings and the VRRP state lines of the keepalived stack, `ip -j neigh` for an ARP entry.
The lab layer reads with these; the checks judge what they return."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RealServer:
    address: str
    forward: str
    weight: int
    active: int
    inactive: int


@dataclass(frozen=True)
class VirtualService:
    protocol: str
    address: str
    scheduler: str
    reals: tuple[RealServer, ...] = ()


def parse_ipvsadm(text: str) -> list[VirtualService]:
    services: list[VirtualService] = []
    reals: list[RealServer] = []
    for line in text.splitlines():
        words = line.split()
        # FWM: a firewall-mark service (`FWM  1 lc`), as the keepalived stack's fwmark rules
        if len(words) >= 3 and words[0] in ("TCP", "UDP", "SCTP", "FWM"):
            if services:
                services[-1] = _with_reals(services[-1], reals)
            services.append(VirtualService(words[0], words[1], words[2]))
            reals = []
        elif len(words) == 6 and words[0] == "->" and services:
            reals.append(
                RealServer(words[1], words[2], int(words[3]), int(words[4]), int(words[5]))
            )
    if services:
        services[-1] = _with_reals(services[-1], reals)
    return services


@dataclass(frozen=True)
class IpvsConnection:
    """One entry of IPVS's connection table: which real server a client's connection (its
    address and source port) was scheduled to, and the state IPVS has seen it reach."""

    protocol: str
    state: str
    client: str  # address:port
    virtual: str
    real: str

    @property
    def client_port(self) -> int:
        return int(self.client.rsplit(":", 1)[1])


def parse_ipvs_connections(text: str) -> list[IpvsConnection]:
    """From `ipvsadm -Lnc`: `TCP 00:57  SYN_RECV  CIP:CPORT  VIP:VPORT  RIP:RPORT`."""
    found = []
    for line in text.splitlines():
        words = line.split()
        if len(words) == 6 and words[0] in ("TCP", "UDP", "SCTP"):
            found.append(IpvsConnection(words[0], words[2], words[3], words[4], words[5]))
    return found


def _with_reals(service: VirtualService, reals: list[RealServer]) -> VirtualService:
    return VirtualService(service.protocol, service.address, service.scheduler, tuple(reals))


@dataclass(frozen=True)
class ClusterStatus:
    nodes_online: tuple[str, ...]
    nodes_offline: tuple[str, ...]
    quorate: bool
    # resource id -> list of (node, role) for each active instance
    instances: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # failed actions pacemaker still remembers, as "op_key on node: status"
    failures: tuple[str, ...] = ()

    def nodes_in_role(self, resource: str, role: str) -> list[str]:
        return [node for node, r in self.instances.get(resource, []) if r == role]


# Pacemaker 2.0 (Debian 11) prints the OCF 1.0 role names; 2.1 on prints the 1.1 ones.
OCF_1_1_ROLES = {"Master": "Promoted", "Slave": "Unpromoted"}


def parse_crm_mon(xml_text: str) -> ClusterStatus:
    """From `crm_mon -1 --output-as=xml` (pacemaker 2.0 to 3.0); roles by their OCF 1.1
    names whichever the pacemaker printed."""
    root = ET.fromstring(xml_text)
    online, offline = [], []
    for node in root.iter("node"):
        if node.get("type", "member") != "member" or node.get("online") is None:
            continue
        (online if node.get("online") == "true" else offline).append(node.get("name", ""))
    dc = root.find("summary/current_dc")
    quorate = dc is not None and dc.get("with_quorum") == "true"
    instances: dict[str, list[tuple[str, str]]] = {}
    resources = root.find("resources")
    for resource in resources.iter("resource") if resources is not None else ():
        if resource.get("active") != "true":
            continue
        role = resource.get("role", "")
        role = OCF_1_1_ROLES.get(role, role)
        for node in resource.findall("node"):
            instances.setdefault(resource.get("id", ""), []).append((node.get("name", ""), role))
    failures = tuple(
        f"{f.get('op_key')} on {f.get('node')}: {f.get('status')}" for f in root.iter("failure")
    )
    return ClusterStatus(tuple(online), tuple(offline), quorate, instances, failures)


def keepalived_setting(conf: str, name: str) -> float | None:
    r"""The first numeric value keepalived.conf gives `name`, None when it sets none.

    >>> keepalived_setting("virtual_server fwmark 1 {\n    delay_loop 10\n", "delay_loop")
    10.0
    """
    found = re.search(rf"^\s*{re.escape(name)}\s+([0-9.]+)\s*$", conf, re.MULTILINE)
    return None if found is None else float(found[1])


def vrrp_masters(states: dict[str, str]) -> list[str]:
    """The nodes whose VRRP state (the keepalived stack's notify file: `STATE since`) is
    MASTER, sorted.

    >>> vrrp_masters({"node1": "BACKUP 17.2", "node2": "MASTER 18.0", "node3": ""})
    ['node2']
    """
    return sorted(node for node, line in states.items() if line.split()[:1] == ["MASTER"])


def neighbour_mac(ip_neigh_json: str) -> str | None:
    """The link-layer address of the first usable entry in `ip -j neigh show ADDRESS`
    output (lower case), None when there is none (no entry, or one still resolving).

    >>> neighbour_mac('[{"dst":"192.168.122.100","lladdr":"52:54:00:7A:00:70","state":["STALE"]}]')
    '52:54:00:7a:00:70'
    >>> neighbour_mac('[{"dst":"192.168.122.100","state":["INCOMPLETE"]}]') is None
    True
    >>> neighbour_mac('') is None
    True
    """
    for entry in json.loads(ip_neigh_json or "[]"):
        if entry.get("lladdr") and "FAILED" not in entry.get("state", []):
            return str(entry["lladdr"]).lower()
    return None


def agent_default(meta_data_xml: str, name: str) -> str | None:
    """The default an OCF agent's meta-data gives parameter `name`, None when it has no
    such parameter."""
    for parameter in ET.fromstring(meta_data_xml).iter("parameter"):
        content = parameter.find("content")
        if parameter.get("name") == name and content is not None:
            return content.get("default", "")
    return None
