"""The state file a running lab leaves for the CLI, pytest and ansible: which backend, which
nodes and addresses, how to reach them. Nothing downstream re-derives these by hand."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

from lab.errors import LabError
from lab.topology import Node, Topology

STATE_VERSION = 1
DEFAULT_LAB_NAME = "lvslab"


def home() -> Path:
    """Where images and running labs live: outside the repo, shared by checkouts."""
    return Path(os.environ.get("LVSLAB_HOME", Path.home() / ".cache" / "lvs-ha-lab"))


def lab_dir(name: str) -> Path:
    return home() / "labs" / name


@dataclass
class LabState:
    name: str
    backend: str
    topology: Topology
    run_dir: Path
    # How the harness reaches the lab: a network namespace holding the client side (or
    # None when the client side is the host itself), and ssh over the management network.
    netns: str | None
    ssh_config: Path
    ssh_user: str = "root"
    service_ifname: str = "eth0"
    # The NIC on the management network (None: not known, e.g. real hosts whose inventory
    # does not say); the hardened profile runs IPVS connection sync over it.
    mgmt_ifname: str | None = "eth1"
    # The client side's interface on the service network (where ARP probes run).
    client_ifname: str | None = None
    # The Debian release the nodes run (lab.releases); None when not known (real hosts).
    release: str | None = None
    # Backend-specific facts per node (pids, tap names, domain names ...).
    node_data: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Backend-specific facts about the whole lab (libvirt URI, network it made ...).
    backend_data: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.run_dir / "state.json"

    def save(self) -> None:
        data = {
            "version": STATE_VERSION,
            "name": self.name,
            "backend": self.backend,
            "run_dir": str(self.run_dir),
            "netns": self.netns,
            "ssh_config": str(self.ssh_config),
            "ssh_user": self.ssh_user,
            "service_ifname": self.service_ifname,
            "mgmt_ifname": self.mgmt_ifname,
            "client_ifname": self.client_ifname,
            "release": self.release,
            "backend_data": self.backend_data,
            "vip": str(self.topology.vip),
            "port": self.topology.port,
            "ssh_port": self.topology.ssh_port,
            "service_net": str(self.topology.service_net),
            "mgmt_net": str(self.topology.mgmt_net),
            "client_ip": str(self.topology.client_ip),
            "nodes": [
                {**{k: str(v) for k, v in asdict(n).items()}, **self.node_data.get(n.name, {})}
                for n in self.topology.nodes
            ],
        }
        self.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        tmp.replace(self.path)  # atomic: readers never see half a file

    @classmethod
    def load(cls, path: Path) -> LabState:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise LabError(f"no lab state at {path}: is the lab up? (make lab-up)") from None
        except json.JSONDecodeError as exc:
            raise LabError(f"corrupt lab state {path}: {exc}") from exc
        if data.get("version") != STATE_VERSION:
            raise LabError(
                f"lab state {path} has version {data.get('version')}, "
                f"expected {STATE_VERSION}; run lvslab down and up again"
            )
        node_keys = set(Node.__dataclass_fields__)
        nodes = tuple(
            Node(
                name=n["name"],
                service_ip=IPv4Address(n["service_ip"]),
                mgmt_ip=IPv4Address(n["mgmt_ip"]),
                service_mac=n["service_mac"],
                mgmt_mac=n["mgmt_mac"],
            )
            for n in data["nodes"]
        )
        topology = Topology(
            nodes=nodes,
            vip=IPv4Address(data["vip"]),
            port=int(data["port"]),
            service_net=IPv4Network(data["service_net"]),
            mgmt_net=IPv4Network(data["mgmt_net"]),
            ssh_port=data.get("ssh_port"),
        )
        return cls(
            name=data["name"],
            backend=data["backend"],
            topology=topology,
            run_dir=Path(data["run_dir"]),
            netns=data["netns"],
            ssh_config=Path(data["ssh_config"]),
            ssh_user=data["ssh_user"],
            service_ifname=data["service_ifname"],
            mgmt_ifname=data.get("mgmt_ifname", "eth1"),
            client_ifname=data.get("client_ifname"),
            release=data.get("release"),
            backend_data=data.get("backend_data", {}),
            node_data={
                n["name"]: {k: v for k, v in n.items() if k not in node_keys} for n in data["nodes"]
            },
        )

    @classmethod
    def find(cls, name: str = DEFAULT_LAB_NAME) -> LabState:
        return cls.load(lab_dir(name) / "state.json")
