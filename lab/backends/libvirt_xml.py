"""The libvirt XML the libvirt backend reads and writes: a domain's interface by MAC, its
link state, and the isolated service network. Pure functions, unit-tested without libvirt."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from lab.errors import LabError


@dataclass(frozen=True)
class NetworkInfo:
    name: str
    bridge: str | None
    address: IPv4Address | None
    network: IPv4Network | None


def interface_by_mac(domain_xml: str, mac: str) -> ET.Element:
    """The <interface> element of a domain whose MAC is mac."""
    for interface in ET.fromstring(domain_xml).iter("interface"):
        found = interface.find("mac")
        if found is not None and found.get("address", "").lower() == mac.lower():
            return interface
    raise LabError(f"the domain has no interface with MAC {mac}")


def link_is_up(domain_xml: str, mac: str) -> bool:
    """libvirt omits <link> while the link is up; state='down' means the cable is out."""
    link = interface_by_mac(domain_xml, mac).find("link")
    return link is None or link.get("state", "up") == "up"


def with_link_state(domain_xml: str, mac: str, state: str) -> str:
    """The interface's XML with its link set to state ('up' or 'down'), ready for
    virDomain.updateDeviceFlags (libvirt matches the device by its MAC)."""
    if state not in ("up", "down"):
        raise ValueError(f"link state {state!r}")
    interface = interface_by_mac(domain_xml, mac)
    link = interface.find("link")
    if link is None:
        link = ET.SubElement(interface, "link")
    link.set("state", state)
    return ET.tostring(interface, encoding="unicode")


def network_info(network_xml: str) -> NetworkInfo:
    root = ET.fromstring(network_xml)
    bridge = root.find("bridge")
    ip = root.find("ip")
    address = network = None
    if ip is not None and ip.get("address"):
        address = IPv4Address(ip.get("address", ""))
        if ip.get("prefix"):
            network = IPv4Network(f"{address}/{ip.get('prefix')}", strict=False)
        elif ip.get("netmask"):
            network = IPv4Network(f"{address}/{ip.get('netmask')}", strict=False)
    return NetworkInfo(
        name=root.findtext("name", ""),
        bridge=bridge.get("name") if bridge is not None else None,
        address=address,
        network=network,
    )


def isolated_network_xml(name: str, bridge: str, address: IPv4Address, net: IPv4Network) -> str:
    """An isolated network (no <forward>: no NAT, nothing leaves it) without DHCP: the
    nodes' service addresses are static, and the VIP must never be leased to anyone."""
    root = ET.Element("network")
    ET.SubElement(root, "name").text = name
    ET.SubElement(root, "bridge", name=bridge, stp="off", delay="0")
    ET.SubElement(root, "ip", address=str(address), prefix=str(net.prefixlen))
    return ET.tostring(root, encoding="unicode")
