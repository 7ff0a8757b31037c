"""The deployed cluster as the suites drive it: who is director, moving the promoted
instance, the IPVS table, a node's service MAC, a node's responder, and the log times the
checks need. Uses crm_* (fast) rather than pcs (~10 s a call on UML nodes)."""

from __future__ import annotations

import json
import re
import shlex
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from checks.cluster_state import (
    ClusterStatus,
    RealServer,
    VirtualService,
    parse_crm_mon,
    parse_ipvs_connections,
    parse_ipvsadm,
)
from lab import faults
from lab.control import Lab
from lab.deploy import DEPLOYED_RECORD, DeploySettings
from lab.errors import LabError
from lab.shell import say
from lab.waiting import wait_for

AGENT = "ocf:lvs-ha-lab:lvs"
# The keepalived stack's notify script writes the node's VRRP state here (`STATE since`).
VRRP_STATE = "/run/lvs-ha-lab/vrrp-state"
CLONE = "lvs-clone"
RESPONDER_UNIT = "lvs-responder"


@dataclass(frozen=True)
class ClockOffset:
    seconds: float  # the node's clock minus the host's
    uncertainty: float  # half the round trip of the exchange that measured it


def offset_from(sent: float, remote: float, received: float) -> ClockOffset:
    """A node's clock offset from one exchange: the node read its clock somewhere between
    the host's send and receive times, so at their midpoint give or take half the span.

    >>> offset_from(100.0, 100.5, 100.2)
    ClockOffset(seconds=0.4, uncertainty=0.1)
    """
    return ClockOffset(round(remote - (sent + received) / 2, 6), round((received - sent) / 2, 6))


SETTLE_DEADLINE = 240  # s; a killed UML node boots in ~15 s and rejoins in ~40 s
# IPVS counts a half-open connection (SYN_RECV, e.g. the director's own attempt to reach
# the VIP scheduled to another real: docs/caveats.md) as active for 60 s, and keeps a closed
# one's inactive entry for up to 120 s (FIN_WAIT, TIME_WAIT); 30 s margin for polling over
# ssh on a busy host.
IDLE_DEADLINE = 150
# InActConn skew that cannot change lc's picks in a suite: the short-connection spread
# allows 2 per node off lc's own expectation, computed from the counts it starts from.
IDLE_INACTIVE_SKEW = 20
# crm_mon's view, printed only once the scheduler has nothing left to do: one round trip.
QUIET_STATUS = "crm_resource --wait --timeout=5s && crm_mon -1 --output-as=xml"


@dataclass(frozen=True)
class Deployed:
    """What the last completed deploy put on the nodes (read back, never assumed)."""

    profile: str  # pacemaker: seed or hardened; keepalived: its IPVS rules, fwmark or naive
    corosync_links: str  # service or dual; "none" on keepalived
    stack: str = "pacemaker"

    @property
    def cell(self) -> str:
        if self.stack != "pacemaker":
            return f"{self.stack}/{self.profile}"
        return f"{self.profile}/{self.corosync_links}"

    @property
    def knet_links(self) -> int:
        """How many knet links corosync runs in this layout (service: 1, dual: 2)."""
        return {"service": 1, "dual": 2, "none": 0}[self.corosync_links]

    def settings(self) -> DeploySettings:
        """The deploy that gives this cell back."""
        if self.stack == "keepalived":
            return DeploySettings(stack="keepalived", keepalived_rules=self.profile)
        return DeploySettings(self.profile, self.corosync_links)

    @classmethod
    def from_record(cls, record: dict[str, str]) -> Deployed:
        """From the deploy record (records written before stacks existed are pacemaker's)."""
        return cls(record["profile"], record["corosync_links"], record.get("stack", "pacemaker"))


def keepalived_setting(conf: str, name: str) -> float:
    r"""The first numeric value keepalived.conf gives `name`.

    >>> keepalived_setting("virtual_server fwmark 1 {\n    delay_loop 10\n", "delay_loop")
    10.0
    """
    found = re.search(rf"^\s*{re.escape(name)}\s+([0-9.]+)\s*$", conf, re.MULTILINE)
    if found is None:
        raise LabError(f"keepalived.conf sets no {name}")
    return float(found[1])


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


def director_beside_ldirectord(status: ClusterStatus) -> str | None:
    """The one node with lvs Promoted and ldirectord Started, if there is exactly that."""
    promoted = status.nodes_in_role("lvs", "Promoted")
    if len(promoted) == 1 and status.nodes_in_role("ldirectord", "Started") == promoted:
        return promoted[0]
    return None


class Cluster:
    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self._stack: str | None = None

    @property
    def stack(self) -> str:
        """The deployed stack (pacemaker or keepalived), read from the deploy record once:
        a deploy of the other stack is followed by a new Cluster."""
        if self._stack is None:
            cell = self.deployed()
            self._stack = cell.stack if cell is not None else "pacemaker"
        return self._stack

    def require_pacemaker(self, what: str) -> None:
        """For what only the pacemaker stack has: a LabError on another stack."""
        if self.stack != "pacemaker":
            raise LabError(f"{what}: the {self.stack} stack has no pacemaker")

    def vrrp_states(self) -> dict[str, str]:
        """Each reachable node's VRRP state line (keepalived stack); "" where none, or
        where keepalived is not running (a stopped one may not have written STOP)."""
        states = {}
        for node in self.lab.nodes:
            if not self.lab.reachable(node.name, timeout=5):
                continue
            command = f"systemctl is-active --quiet keepalived && cat {VRRP_STATE}"
            got = self.lab.ssh(node.name, command, check=False, timeout=30)
            states[node.name] = got.stdout.strip() if got.returncode == 0 else ""
        return states

    def deployed(self) -> Deployed | None:
        """The deploy record every node carries; None if any reachable node has none or
        they disagree (a deploy that stopped half-way)."""
        seen = set()
        for node in self.lab.nodes:
            if not self.lab.reachable(node.name, timeout=5):
                continue
            got = self.lab.ssh(node.name, f"cat {DEPLOYED_RECORD}", check=False)
            if got.returncode != 0:
                return None
            seen.add(Deployed.from_record(json.loads(got.stdout)))
        return seen.pop() if len(seen) == 1 else None

    def failover_timing(self) -> dict[str, float]:
        """What bounds a failover, as the stack runs (ms): corosync's token and consensus on
        pacemaker, VRRP's advert interval on keepalived."""
        if self.stack == "keepalived":
            conf = self.lab.ssh(self.any_node(), "cat /etc/keepalived/keepalived.conf").stdout
            return {"advert_int": keepalived_setting(conf, "advert_int") * 1000}
        return self.corosync_timing()

    def directors_seen(self) -> dict[str, dict[str, Any]]:
        """Each reachable node's idea of who directs. pacemaker: its partition's quorum and
        Promoted lvs; keepalived: its own VRRP state (a node knows no one else's, and there
        is no quorum: a master cut off from the others stays one)."""
        if self.stack == "keepalived":
            return {
                node: {"vrrp": (line.split() or ["NONE"])[0]}
                for node, line in self.vrrp_states().items()
            }
        return {
            name: {"quorate": view.quorate, "promoted": view.nodes_in_role("lvs", "Promoted")}
            for name, view in self.views().items()
        }

    def keeps_director(self) -> dict[str, int | bool]:
        """What keeps the VIP where it is when a node comes back: pacemaker's default
        resource-stickiness (above 0 keeps it), keepalived's nopreempt (set keeps it)."""
        if self.stack == "keepalived":
            conf = self.lab.ssh(self.any_node(), "cat /etc/keepalived/keepalived.conf").stdout
            return {"nopreempt": bool(re.search(r"^\s*nopreempt\s*$", conf, re.MULTILINE))}
        return {"resource-stickiness": self.resource_stickiness()}

    def ipvs_sync(self) -> str | None:
        """The NIC IPVS syncs connections over, or None (the keepalived stack syncs none)."""
        if self.stack == "keepalived":
            return None
        return self.agent_param("sync_interface") or None

    def corosync_timing(self) -> dict[str, float]:
        """Corosync's token and consensus timeouts as running (ms), e.g. token 3650 for
        three nodes with the 3000 ms default."""
        timing = {}
        node = self.any_node()
        for key in ("token", "consensus"):
            out = self.lab.ssh(node, f"corosync-cmapctl -g runtime.config.totem.{key}").stdout
            timing[key] = float(out.rsplit("=", 1)[1])
        return timing

    def corosync_links(self, node: str | None = None) -> int:
        """How many knet links corosync runs on node (any node by default), as it runs, not
        as corosync.conf says: a reloaded configuration must have taken effect."""
        out = self.lab.ssh(node or self.any_node(), "corosync-cfgtool -s").stdout
        return sum(1 for line in out.splitlines() if line.startswith("LINK ID"))

    def settled(self) -> str | None:
        """The director when the cluster is whole and quiet: every node online in one
        quorate partition, one promoted lvs with ldirectord beside it, no failed actions,
        every real server in IPVS with a weight above 0 on every port. Else None."""
        found = self._settled_table()
        return None if found is None else found[0]

    def _settled_table(self) -> tuple[str, list[VirtualService]] | None:
        """settled()'s director and the IPVS table it judged: two round trips in all (the
        checks cost ~5 s when each asked on its own, and suites poll them)."""
        director = self._settled_director_of_stack()
        if director is None:
            return None
        try:
            table = self.ipvs(director)
        except LabError:
            return None
        everyone = {n.name for n in self.lab.nodes}
        for port in self.lab.topology.ports:
            try:
                weights = {n: r.weight for n, r in self._reals_in(table, port).items()}
            except LabError:
                return None
            if set(weights) != everyone or min(weights.values()) <= 0:
                return None
        return director, table

    def _settled_director_of_stack(self) -> str | None:
        """pacemaker: every node online in one quorate partition, no failed actions, one
        promoted lvs with ldirectord beside it. keepalived: every node reachable and past
        VRRP's election (MASTER or BACKUP), exactly one MASTER."""
        if self.stack == "keepalived":
            states = self.vrrp_states()
            settled = len(states) == len(self.lab.nodes) and all(
                line.split()[:1] in (["MASTER"], ["BACKUP"]) for line in states.values()
            )
            masters = vrrp_masters(states)
            return masters[0] if settled and len(masters) == 1 else None
        status = self.quiet_status()
        if status is None or status.nodes_offline or not status.quorate or status.failures:
            return None
        return director_beside_ldirectord(status)

    def idle(self) -> str | None:
        """The director when the cluster is settled, no connection is active in IPVS on any
        port, and the reals' InActConn differ by at most IDLE_INACTIVE_SKEW (lc weighs an
        active connection as 256 inactive ones, and picks the smallest sum: an earlier
        suite's leftovers, a failover prober's ~1000 entries say, would otherwise decide
        where the next connections go). Else None."""
        found = self._settled_table()
        if found is None:
            return None
        director, table = found
        for port in self.lab.topology.ports:
            reals = self._reals_in(table, port).values()
            if any(r.active for r in reals):
                return None
            inactive = [r.inactive for r in reals]
            if inactive and max(inactive) - min(inactive) > IDLE_INACTIVE_SKEW:
                return None
        return director

    def wait_idle(self, deadline: float = IDLE_DEADLINE) -> tuple[str, float]:
        """Wait for idle(); returns the director and the seconds it took."""
        what = "the cluster idles (settled, no active IPVS entry, InActConn even)"
        return wait_for(what, self.idle, deadline, 2)

    def settle(self, deadline: float = SETTLE_DEADLINE) -> tuple[str, float]:
        """Heal every fault and wait until the cluster is settled (see settled()); failed
        actions left by a fault are cleaned up once the nodes are back. Returns the
        director and the seconds it took."""
        started = time.monotonic()
        faults.heal_all(self.lab)
        self.lab.wait_reachable([n.name for n in self.lab.nodes])
        if self.stack == "pacemaker" and self.status().failures:
            self.lab.ssh(self.any_node(), "crm_resource --cleanup --quiet", check=False)
        say("waiting for the cluster to settle (all online, one director, every real weighted)")
        director, _ = wait_for(
            "the cluster settles", self.settled, deadline - (time.monotonic() - started), 1.0
        )
        self.point_client_at(director)
        return director, time.monotonic() - started

    def point_client_at(self, director: str) -> None:
        """Make the client's next packet for the VIP go to the director: its ARP entry for
        the VIP is dropped when it names another node. On keepalived a master that yields
        after a split brain heals keeps the VIP on lo and its fwmark services, so it goes
        on balancing the clients whose entry still names it (what fits a bench run in
        which cutting the master failed no attempt); the client re-resolves and only the
        master answers."""
        vip = str(self.lab.topology.vip)
        shown = self.lab.client(["ip", "-j", "neigh", "show", vip], check=False).stdout
        held = neighbour_mac(shown)
        if held is None or held == self.service_mac(director):
            return
        named = next((n.name for n in self.lab.nodes if self.service_mac(n.name) == held), held)
        say(f"the client's ARP entry for {vip} names {named}, not the director {director}: flushed")
        self.lab.client(["ip", "neigh", "flush", "to", vip], check=False)

    def any_node(self) -> str:
        """A node that answers (the first, unless it is down)."""
        for node in self.lab.nodes:
            if self.lab.reachable(node.name, timeout=5):
                return node.name
        raise LabError("no node answers over management")

    def status(self) -> ClusterStatus:
        self.require_pacemaker("crm_mon")
        return parse_crm_mon(self.lab.ssh(self.any_node(), "crm_mon -1 --output-as=xml").stdout)

    def views(self) -> dict[str, ClusterStatus]:
        """Each reachable node's own view of the cluster (partitions disagree)."""
        seen = {}
        for node in self.lab.nodes:
            try:
                got = self.lab.ssh(node.name, "crm_mon -1 --output-as=xml", check=False, timeout=30)
            except LabError:  # a dead or unreachable node has no view
                continue
            if got.returncode == 0:
                seen[node.name] = parse_crm_mon(got.stdout)
        return seen

    def director(self) -> str:
        if self.stack == "keepalived":
            masters = vrrp_masters(self.vrrp_states())
            if len(masters) != 1:
                raise LabError(f"expected one VRRP master, found {masters}")
            return masters[0]
        promoted = self.status().nodes_in_role("lvs", "Promoted")
        if len(promoted) != 1:
            raise LabError(f"expected one promoted lvs, found {promoted}")
        return promoted[0]

    def quiet_status(self) -> ClusterStatus | None:
        """The cluster's status once the scheduler has nothing left to do (crm_resource
        --wait), in one round trip; None while actions are still pending."""
        got = self.lab.ssh(self.any_node(), QUIET_STATUS, check=False)
        return parse_crm_mon(got.stdout) if got.returncode == 0 else None

    def settled_director(self) -> str | None:
        """The director once the cluster is idle with ldirectord started beside it (on
        keepalived: the one VRRP master once every node is past the election)."""
        if self.stack == "keepalived":
            return self._settled_director_of_stack()
        status = self.quiet_status()
        return None if status is None else director_beside_ldirectord(status)

    def move_director(self, to: str, deadline: float = 120) -> float:
        """Promote lvs on `to` and wait until it and ldirectord run there; the temporary
        location constraint is removed again (stickiness and the agent's promotion scores
        keep the new placement). Returns the seconds it took."""
        self.lab.node(to)
        if self.stack == "keepalived":
            return self._move_vrrp_master(to, deadline)
        node = self.any_node()
        # pacemaker 2.0 (Debian 11) calls the role by its OCF 1.0 name only.
        role = "--promoted" if self.pacemaker_version(node) >= (2, 1) else "--master"
        started = time.monotonic()
        self.lab.ssh(node, f"crm_resource --move {role} --resource {CLONE} --node {to}")
        try:
            wait_for(f"director moves to {to}", lambda: self._director_is(to), deadline)
        finally:
            self.lab.ssh(node, f"crm_resource --clear --resource {CLONE}")
        return time.monotonic() - started

    def _move_vrrp_master(self, to: str, deadline: float) -> float:
        """keepalived has no move: every other node's keepalived stops, the master's last
        (it sends priority 0, so `to`, the only backup left, takes over at once, and no
        third node is master in between), then starts again and, with nopreempt, stays
        backup."""
        started = time.monotonic()
        masters = vrrp_masters(self.vrrp_states())
        others = sorted((n.name for n in self.lab.nodes if n.name != to), key=masters.__contains__)
        try:
            for node in others:
                self.lab.ssh(node, "systemctl stop keepalived")
            # The stopped nodes are past no election: only the master counts here.
            wait_for(
                f"{to} becomes VRRP master",
                lambda: True if vrrp_masters(self.vrrp_states()) == [to] else None,
                deadline,
            )
        finally:
            for node in others:
                self.lab.ssh(node, "systemctl start keepalived")
        wait_for(f"{to} stays master", lambda: self._director_is(to), deadline)
        return time.monotonic() - started

    def pacemaker_version(self, node: str) -> tuple[int, int]:
        """The (major, minor) of the pacemaker node runs."""
        out = self.lab.ssh(node, "pacemakerd --version").stdout
        found = re.search(r"Pacemaker (\d+)\.(\d+)", out)
        if found is None:
            raise LabError(f"{node}: pacemakerd --version said {out.strip()[:80]!r}")
        return int(found[1]), int(found[2])

    def _director_is(self, node: str) -> bool | None:
        return True if self.settled_director() == node else None

    def ipvs(self, director: str) -> list[VirtualService]:
        return parse_ipvsadm(self.lab.ssh(director, "ipvsadm -Ln").stdout)

    def connections(self, director: str) -> str:
        """The director's IPVS connection table, as ipvsadm prints it (for the record)."""
        return self.lab.ssh(director, "ipvsadm -Lnc").stdout

    def ldirectord_setting(self, node: str, name: str) -> float:
        """A global numeric setting of ldirectord.cf on node (checkinterval, checktimeout)."""
        out = self.lab.ssh(node, f"grep -E '^{name}=' /etc/ha.d/ldirectord.cf").stdout
        return float(out.strip().split("=", 1)[1])

    def check_timing(self, node: str) -> tuple[float, float]:
        """How often the director checks each real and how long a check may take, as node's
        configuration says: ldirectord's checkinterval and checktimeout, or keepalived's
        delay_loop and TCP_CHECK connect_timeout (the first of each)."""
        if self.stack == "pacemaker":
            return (
                self.ldirectord_setting(node, "checkinterval"),
                self.ldirectord_setting(node, "checktimeout"),
            )
        conf = self.lab.ssh(node, "cat /etc/keepalived/keepalived.conf").stdout
        return keepalived_setting(conf, "delay_loop"), keepalived_setting(conf, "connect_timeout")

    def scheduled_ports(self, port: int, skip: Sequence[str] = ()) -> dict[int, str]:
        """Which real server (node name) IPVS scheduled each of the client side's
        connections to VIP:port, by source port, from the connection table of every
        reachable node but `skip` (only a director has entries; after a failover, old and
        new may both). Every state counts: most failed attempts never got past their SYN
        (SYN_RECV), but one that began as a real died can have had its handshake answered
        and then its request lost (ESTABLISHED, then FIN_WAIT once the client gave up),
        and it was sent to that real all the same. Only failed attempts are looked up."""
        vip, client = f"{self.lab.topology.vip}:{port}", self.lab.client_ip
        by_ip = {str(n.service_ip): n.name for n in self.lab.nodes}
        scheduled = {}
        for node in self.lab.nodes:
            if node.name in skip or not self.lab.reachable(node.name, timeout=5):
                continue
            got = self.lab.ssh(node.name, "ipvsadm -Lnc", check=False, timeout=30)
            for entry in parse_ipvs_connections(got.stdout if got.returncode == 0 else ""):
                real_ip = entry.real.rsplit(":", 1)[0]
                if entry.virtual == vip and entry.client.startswith(f"{client}:"):
                    scheduled[entry.client_port] = by_ip.get(real_ip, real_ip)
        return scheduled

    def reals_by_node(self, director: str, port: int) -> dict[str, RealServer]:
        """The IPVS real servers of the virtual service on port, by node name."""
        return self._reals_in(self.ipvs(director), port)

    def service_in(self, table: list[VirtualService], port: int) -> VirtualService:
        """VIP:port's service: the service of that address, or the keepalived stack's
        firewall-mark service for it. Its marks number the ports in the inventory's order,
        from 1 (keepalived-fwmark.rules.j2), and IPVS shows a mark's reals on port 0: the
        mark, not the port, says which service it is."""
        address = f"{self.lab.topology.vip}:{port}"
        ports = self.lab.topology.ports
        mark = str(ports.index(port) + 1) if port in ports else None
        for service in table:
            if service.address == address or (service.protocol, service.address) == ("FWM", mark):
                return service
        raise LabError(f"the director's IPVS table has no {address}")

    def _reals_in(self, table: list[VirtualService], port: int) -> dict[str, RealServer]:
        by_ip = {str(n.service_ip): n.name for n in self.lab.nodes}
        service = self.service_in(table, port)
        return {by_ip[r.address.rsplit(":", 1)[0]]: r for r in service.reals}

    def active_by_node(self, director: str, port: int) -> dict[str, int]:
        return {n: r.active for n, r in self.reals_by_node(director, port).items()}

    def inactive_by_node(self, director: str, port: int) -> dict[str, int]:
        return {n: r.inactive for n, r in self.reals_by_node(director, port).items()}

    def weight_by_node(self, director: str, port: int) -> dict[str, int]:
        return {n: r.weight for n, r in self.reals_by_node(director, port).items()}

    def service_mac(self, node: str) -> str:
        nic = self.lab.state.service_ifname
        return self.lab.ssh(node, f"cat /sys/class/net/{nic}/address").stdout.strip().lower()

    def responder(self, node: str, action: str) -> None:
        if action not in ("start", "stop"):
            raise ValueError(f"responder action {action!r}")
        self.lab.ssh(node, f"systemctl {action} {RESPONDER_UNIT}")

    def resource_stickiness(self) -> int:
        """The cluster's default resource-stickiness (0, pacemaker's default, if unset)."""
        got = self.lab.ssh(
            self.any_node(),
            "crm_attribute --type rsc_defaults --name resource-stickiness --query --quiet",
            check=False,
        )
        value = got.stdout.strip() if got.returncode == 0 else ""
        return int(value) if value.lstrip("-").isdigit() else 0

    def agent_param(self, name: str, resource: str = "lvs") -> str:
        """A parameter of the lvs resource as the agent sees it: the CIB's value if set,
        else the default in the agent's meta-data."""
        node = self.any_node()
        got = self.lab.ssh(
            node, f"crm_resource --quiet --resource {resource} --get-parameter {name}", check=False
        )
        if got.returncode == 0 and got.stdout.strip():
            return got.stdout.strip()
        meta = self.lab.ssh(node, f"crm_resource --show-metadata {AGENT}").stdout
        for parameter in ET.fromstring(meta).iter("parameter"):
            content = parameter.find("content")
            if parameter.get("name") == name and content is not None:
                return content.get("default", "")
        raise LabError(f"{AGENT} has no parameter {name}")

    def clock_offset(self, node: str, tries: int = 3) -> ClockOffset:
        """How far node's clock is from the host's, from timestamp exchanges over ssh (the
        one with the shortest round trip: its uncertainty is half that round trip)."""
        best = None
        for _ in range(tries):
            sent = time.time()
            remote = float(self.lab.ssh(node, "date +%s.%N").stdout)
            got = offset_from(sent, remote, time.time())
            if best is None or got.uncertainty < best.uncertainty:
                best = got
        assert best is not None
        return best

    def log_times(
        self, node: str, patterns: dict[str, str], since: float, offset: ClockOffset | None = None
    ) -> dict[str, float]:
        """Host-clock Unix times of journal lines on node since `since` (host clock), one
        read for several patterns (name -> regular expression): per name, the first
        matching line's time corrected by the node's clock offset (measured now unless
        given), so probe records (host clock) and journal events compare in one clock.
        Names without a match are left out. A scenario asks five patterns of three nodes,
        and each read costs ~0.5 s under UML."""
        if offset is None:
            offset = self.clock_offset(node)
        node_since = int(since + offset.seconds) - 1
        either = "|".join(f"({p})" for p in patterns.values())
        lines = self.lab.ssh(
            node,
            f"journalctl -q -o short-unix --since=@{node_since} --grep={shlex.quote(either)}",
            check=False,
        ).stdout.splitlines()
        found: dict[str, float] = {}
        for name, pattern in patterns.items():
            for line in lines:
                stamp, _, text = line.partition(" ")
                if re.search(pattern, text):
                    try:
                        found[name] = round(float(stamp) - offset.seconds, 6)
                    except ValueError:
                        continue
                    break
        return found
