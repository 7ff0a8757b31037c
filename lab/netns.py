"""The lab's private L2 networks: two bridges inside a network namespace the lab owns.

The service bridge carries 192.168.122.0/24 (the client side's address sits on it), the
management bridge carries ssh/ansible. Nothing is added to the root namespace; deleting the
namespace removes every bridge and tap the lab made in it."""

from __future__ import annotations

from pathlib import Path

from lab.errors import LabError
from lab.shell import run
from lab.topology import Topology

SERVICE_BRIDGE = "br-service"
MGMT_BRIDGE = "br-mgmt"
IFNAMSIZ = 15


def exists(netns: str) -> bool:
    return (Path("/run/netns") / netns).exists()


def all_names() -> list[str]:
    run_netns = Path("/run/netns")
    return sorted(p.name for p in run_netns.iterdir()) if run_netns.is_dir() else []


def ip(netns: str, *args: str, check: bool = True) -> str:
    return run(["ip", "-n", netns, *args], check=check).stdout


def create(netns: str, topology: Topology) -> None:
    if exists(netns):
        raise LabError(f"network namespace {netns} already exists")
    run(["ip", "netns", "add", netns])
    ip(netns, "link", "set", "lo", "up")
    for bridge, address, net, mac in (
        (SERVICE_BRIDGE, topology.client_ip, topology.service_net, topology.client_mac),
        (MGMT_BRIDGE, topology.mgmt_host_ip, topology.mgmt_net, topology.mgmt_host_mac),
    ):
        # A bridge with no address of its own takes its lowest port's and changes it when
        # that port leaves: pulling one node's cable changed the client's MAC, and the other
        # real servers (arp_ignore: they never answer the client's ARP for the VIP, so never
        # relearn it) replied to a MAC nobody had until the cable was back. A set address
        # stays, as on a switch (libvirt pins virbr0's the same way).
        ip(netns, "link", "add", bridge, "address", mac, "type", "bridge")
        ip(netns, "addr", "add", f"{address}/{net.prefixlen}", "dev", bridge)
        ip(netns, "link", "set", bridge, "up")


TAP_GSO_MAX_SIZE = 1514  # one Ethernet frame: no segmentation offload into a guest


def add_tap(netns: str, tap: str, bridge: str) -> None:
    if len(tap) > IFNAMSIZ:
        raise LabError(f"interface name {tap!r} is longer than {IFNAMSIZ} characters")
    ip(netns, "tuntap", "add", "mode", "tap", "name", tap)
    # UML's tap transport asks for TSO frames, then drops every frame over the MTU (its
    # receive buffers are MTU-sized: "Incoming GSO frames and GRO disabled" in the node's
    # log) and bulk transfers to a node crawl on retransmissions (an 8 MiB push: 0.4-0.9 s
    # with this, over 120 s without). The host segments before the tap instead.
    ip(netns, "link", "set", tap, "gso_max_size", str(TAP_GSO_MAX_SIZE))
    ip(netns, "link", "set", tap, "master", bridge, "up")


def detach(netns: str, tap: str) -> None:
    """Pull the cable at the switch: the tap stays up (UML's vector driver wedges for good
    after its tap goes down and up), it just stops being a bridge port."""
    ip(netns, "link", "set", tap, "nomaster")


def attach(netns: str, tap: str, bridge: str) -> None:
    ip(netns, "link", "set", tap, "master", bridge, "up")


def bridge_of(netns: str, tap: str) -> str | None:
    out = ip(netns, "-o", "link", "show", tap)
    words = out.split()
    return words[words.index("master") + 1] if "master" in words else None


def delete(netns: str) -> None:
    if exists(netns):
        run(["ip", "netns", "del", netns])
