"""The lab's address plan, derived from the Ansible inventory (the one source of node names,
service addresses, VIP and port) plus the lab's own management network.

>>> topo = Topology.from_inventory("ansible/hosts")
>>> [n.name for n in topo.nodes], str(topo.vip), str(topo.client_ip)
(['node1', 'node2', 'node3'], '192.168.122.100', '192.168.122.1')
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

from lab.errors import LabError

DEFAULT_SERVICE_PREFIX = 24
DEFAULT_MGMT_NETWORK = "192.168.121.0/24"
NODE_GROUP = "nodes"
SERVICE_MAC_BYTE = 0x7A  # 122
MGMT_MAC_BYTE = 0x79  # 121


@dataclass(frozen=True)
class Node:
    name: str
    service_ip: IPv4Address
    mgmt_ip: IPv4Address
    # Locally chosen MACs: the third-from-last byte names the network (0x7a=122, 0x79=121),
    # the last byte is the node's host number, so a MAC in a capture says who sent it.
    service_mac: str
    mgmt_mac: str


@dataclass(frozen=True)
class Topology:
    nodes: tuple[Node, ...]
    vip: IPv4Address
    port: int
    service_net: IPv4Network
    mgmt_net: IPv4Network
    # A second virtual service for SSH on the VIP (the article's long-lived sessions);
    # None when the inventory sets no ssh_port.
    ssh_port: int | None = None

    @property
    def ports(self) -> tuple[int, ...]:
        """Every port the VIP serves."""
        return (self.port,) if self.ssh_port is None else (self.port, self.ssh_port)

    @property
    def client_ip(self) -> IPv4Address:
        """The client side of the service network: its first host address."""
        return next(self.service_net.hosts())

    @property
    def mgmt_host_ip(self) -> IPv4Address:
        """The harness end of the management network: its first host address."""
        return next(self.mgmt_net.hosts())

    @property
    def client_mac(self) -> str:
        """The client side's MAC, in the nodes' scheme (its host number last)."""
        return _mac(SERVICE_MAC_BYTE, int(self.client_ip) - int(self.service_net.network_address))

    @property
    def mgmt_host_mac(self) -> str:
        return _mac(MGMT_MAC_BYTE, int(self.mgmt_host_ip) - int(self.mgmt_net.network_address))

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        known = ", ".join(n.name for n in self.nodes)
        raise LabError(f"no node named {name!r} (nodes: {known})")

    @classmethod
    def from_inventory(
        cls,
        path: str | Path,
        *,
        service_prefix: int = DEFAULT_SERVICE_PREFIX,
        mgmt_network: str = DEFAULT_MGMT_NETWORK,
    ) -> Topology:
        hosts, group_vars = read_inventory(path)
        return cls.build(
            hosts, group_vars, service_prefix=service_prefix, mgmt_network=mgmt_network
        )

    @classmethod
    def build(
        cls,
        hosts: dict[str, dict[str, str]],
        group_vars: dict[str, str],
        *,
        service_prefix: int = DEFAULT_SERVICE_PREFIX,
        mgmt_network: str = DEFAULT_MGMT_NETWORK,
    ) -> Topology:
        if not hosts:
            raise LabError(f"the inventory has no hosts in group [{NODE_GROUP}]")
        try:
            vip = IPv4Address(str(group_vars["vip"]))
            port = int(group_vars["port"])
            ssh_port = int(group_vars["ssh_port"]) if "ssh_port" in group_vars else None
        except KeyError as exc:
            raise LabError(f"the inventory's [{NODE_GROUP}:vars] lacks {exc.args[0]!r}") from exc
        except ValueError as exc:
            raise LabError(f"bad vip, port or ssh_port in the inventory: {exc}") from exc
        for what, number in (("port", port), ("ssh_port", ssh_port)):
            if number is not None and not 0 < number < 65536:
                raise LabError(f"{what} {number} is out of range 1-65535")
        if ssh_port == port:
            raise LabError(f"ssh_port {ssh_port} is the same as port")
        service_net = IPv4Interface(f"{vip}/{service_prefix}").network
        try:
            mgmt_net = IPv4Network(mgmt_network)
        except ValueError as exc:
            raise LabError(f"bad management network {mgmt_network!r}: {exc}") from exc
        if mgmt_net.overlaps(service_net):
            raise LabError(f"management network {mgmt_net} overlaps service network {service_net}")

        client = next(service_net.hosts())
        nodes = []
        seen: dict[IPv4Address, str] = {vip: "the vip", client: "the client side"}
        for name, hostvars in hosts.items():
            if "ip" not in hostvars:
                raise LabError(f"inventory host {name} has no ip=")
            try:
                ip = IPv4Address(str(hostvars["ip"]))
            except ValueError as exc:
                raise LabError(f"inventory host {name}: {exc}") from exc
            if ip not in service_net:
                raise LabError(f"{name}'s ip {ip} is not in the service network {service_net}")
            if ip in seen:
                raise LabError(f"{name}'s ip {ip} is already used by {seen[ip]}")
            seen[ip] = name
            host_part = int(ip) - int(service_net.network_address)
            mgmt_ip = mgmt_net.network_address + host_part
            if mgmt_ip not in mgmt_net or mgmt_ip == mgmt_net.broadcast_address:
                raise LabError(f"{name}: host number {host_part} does not fit in {mgmt_net}")
            nodes.append(
                Node(
                    name=name,
                    service_ip=ip,
                    mgmt_ip=mgmt_ip,
                    service_mac=_mac(SERVICE_MAC_BYTE, host_part),
                    mgmt_mac=_mac(MGMT_MAC_BYTE, host_part),
                )
            )
        return cls(tuple(nodes), vip, port, service_net, mgmt_net, ssh_port)


def _mac(network_byte: int, host_part: int) -> str:
    return f"52:54:00:{network_byte:02x}:{host_part >> 8 & 0xFF:02x}:{host_part & 0xFF:02x}"


def read_inventory(path: str | Path) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Hosts of the node group with their own vars, and the group's vars, read by Ansible's
    own inventory code so every inventory format Ansible accepts works here."""
    path = Path(path)
    if not path.exists():
        raise LabError(f"inventory not found: {path}")
    # Imported here: ansible is slow to import and most of the lab does not need it. Its
    # configuration is read at import time and fails where it cannot make ~/.ansible/tmp
    # (a HOME that is not writable): one line, not a traceback.
    try:
        from ansible.inventory.manager import InventoryManager
        from ansible.parsing.dataloader import DataLoader

        inventory = InventoryManager(loader=DataLoader(), sources=[str(path)])
    except Exception as exc:
        raise LabError(f"reading the inventory {path} with Ansible: {exc}") from None
    group = inventory.groups.get(NODE_GROUP)
    if group is None:
        raise LabError(f"inventory {path} has no group [{NODE_GROUP}]")
    hosts = {
        host.name: {k: str(v) for k, v in host.get_vars().items()} for host in group.get_hosts()
    }
    return hosts, {k: str(v) for k, v in group.get_vars().items()}
