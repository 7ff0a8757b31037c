"""What every stack's cluster answers, read-only: who directs, what each node thinks, the
director's IPVS table and connection entries, what bounds a failover. One implementation
per stack (lab.cluster.pacemaker, lab.cluster.keepalived); the stack is chosen once, when
the cluster is opened (lab.cluster.open_cluster)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from lab.cluster.cell import Cell, deployed_cell
from lab.cluster.parse import RealServer, VirtualService, parse_ipvs_connections, parse_ipvsadm
from lab.control import Lab
from lab.errors import LabError

# InActConn skew that cannot change lc's picks in a suite: the short-connection spread
# allows 2 per node off lc's own expectation, computed from the counts it starts from.
IDLE_INACTIVE_SKEW = 20


class ClusterReader(ABC):
    """A deployed cluster of one stack, read through its nodes (never changed: actions are
    lab.cluster.actions)."""

    stack: ClassVar[str]

    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    # --- What the stack says (one implementation each).

    @abstractmethod
    def director(self) -> str:
        """The one node that directs now; LabError when there is not exactly one."""

    @abstractmethod
    def director_when_whole(self) -> str | None:
        """The director once every node is in and past its election, with one director;
        else None. The stack's part of settled()."""

    @abstractmethod
    def director_when_quiet(self) -> str | None:
        """The director once the stack has nothing left to do and the director's balancer
        runs beside it (nodes may be missing); else None."""

    @abstractmethod
    def directors_seen(self) -> dict[str, dict[str, Any]]:
        """Each reachable node's own idea of who directs (partitions disagree)."""

    @abstractmethod
    def failover_timing(self) -> dict[str, float]:
        """What bounds a failover, as the stack runs (ms)."""

    @abstractmethod
    def keeps_director(self) -> dict[str, int | bool]:
        """What keeps the VIP where it is when a node comes back."""

    @abstractmethod
    def ipvs_sync(self) -> str | None:
        """The NIC IPVS syncs connections over, or None."""

    @abstractmethod
    def check_timing(self, node: str) -> tuple[float, float]:
        """How often the director checks each real and how long a check may take (s)."""

    # --- The same on every stack.

    def deployed_cell(self) -> Cell | None:
        """The cell the nodes' deploy records name (read afresh: a deploy in place may have
        switched it), None if the deploy is incomplete."""
        cell = deployed_cell(self.lab)
        if cell is not None and cell.stack != self.stack:
            raise LabError(f"the cluster was redeployed with the {cell.stack} stack: open it again")
        return cell

    def cell(self) -> Cell:
        """The deployed cell; LabError when the nodes carry no complete deploy record."""
        cell = self.deployed_cell()
        if cell is None:
            raise LabError("the nodes carry no complete deploy record: deploy (make deploy) first")
        return cell

    def any_node(self) -> str:
        """A node that answers (the first, unless it is down)."""
        for node in self.lab.nodes:
            if self.lab.reachable(node.name, timeout=5):
                return node.name
        raise LabError("no node answers over management")

    def settled(self) -> str | None:
        """The director when the cluster is whole and quiet: director_when_whole(), and
        every real server in the director's IPVS table with a weight above 0 on every port.
        Else None."""
        found = self._settled_table()
        return None if found is None else found[0]

    def idle(self) -> str | None:
        """The director when the cluster is settled, no connection is active in IPVS on any
        port, and the reals' InActConn differ by at most IDLE_INACTIVE_SKEW (lc weighs an
        active connection as 256 inactive ones and picks the smallest sum: an earlier
        suite's leftovers would otherwise decide where the next connections go). Else None."""
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

    def _settled_table(self) -> tuple[str, list[VirtualService]] | None:
        """settled()'s director and the IPVS table it judged, in two round trips (suites
        poll this)."""
        director = self.director_when_whole()
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

    def ipvs(self, director: str) -> list[VirtualService]:
        return parse_ipvsadm(self.lab.ssh(director, "ipvsadm -Ln").stdout)

    def connections(self, director: str) -> str:
        """The director's IPVS connection table, as ipvsadm prints it (for the record)."""
        return self.lab.ssh(director, "ipvsadm -Lnc").stdout

    def scheduled_ports(self, port: int, skip: Sequence[str] = ()) -> dict[int, str]:
        """Which real server (node name) IPVS scheduled each of the client side's
        connections to VIP:port, by source port, from the connection table of every
        reachable node but `skip` (only a director has entries; after a failover, old and
        new may both). Every state counts: most failed attempts never got past their SYN
        (SYN_RECV), but one that began as a real died can have had its handshake answered
        and then its request lost (ESTABLISHED, then FIN_WAIT once the client gave up),
        and it was sent to that real all the same."""
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

    def reals_by_node(self, director: str, port: int) -> dict[str, RealServer]:
        """The IPVS real servers of the virtual service on port, by node name."""
        return self._reals_in(self.ipvs(director), port)

    def active_by_node(self, director: str, port: int) -> dict[str, int]:
        return {n: r.active for n, r in self.reals_by_node(director, port).items()}

    def inactive_by_node(self, director: str, port: int) -> dict[str, int]:
        return {n: r.inactive for n, r in self.reals_by_node(director, port).items()}

    def weight_by_node(self, director: str, port: int) -> dict[str, int]:
        return {n: r.weight for n, r in self.reals_by_node(director, port).items()}

    def service_mac(self, node: str) -> str:
        nic = self.lab.state.service_ifname
        return self.lab.ssh(node, f"cat /sys/class/net/{nic}/address").stdout.strip().lower()
