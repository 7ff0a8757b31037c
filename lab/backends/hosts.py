"""Existing machines as the lab: the cluster's own hosts, named by an Ansible inventory shaped
like ansible/hosts. Nothing is booted or cabled; "up" attaches (an ssh_config from the
inventory, checks that every node answers and that this machine is on the service network,
which it must be: it is the client side), "down" detaches (removes only what attaching made
here, never anything on the hosts).

Per host the inventory may set, as Ansible would read them: ansible_host, ansible_user,
ansible_port, ansible_ssh_private_key_file, ansible_become (commands then run through
`sudo -n`), and for power faults power_off / power_on: command lines run on this machine
(a fence agent's, say); `kill` is offered only when every node has both. NIC faults run
in-guest (ifdown, drop) and only where ssh reaches the node by another address than its
service one, so that cutting the service NIC does not cut the harness off; each carries a
timed self-heal on the node (lab.faults), so a lost link cannot leave a node cut for good."""

from __future__ import annotations

import ipaddress
import shlex
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

from lab.backends.base import POWER, Backend
from lab.errors import LabError
from lab.releases import Release
from lab.remote import LAB_MASTER, control_dir
from lab.shell import run, say
from lab.state import LabState
from lab.topology import Topology, read_inventory

# A NIC fault heals itself on the node after this long, whatever happens to the harness.
SELF_HEAL_S = 300
SSH_OPTIONS = [
    "    StrictHostKeyChecking accept-new",  # the hosts' keys are learnt once, then checked
    "    ConnectTimeout 10",
    "    ServerAliveInterval 5",
    "    ServerAliveCountMax 6",
    "    LogLevel ERROR",
    "    BatchMode yes",
    "    ControlMaster auto",
    "    ControlPersist 60",
]


def truthy(value: str | None) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


def host_entry(name: str, hostvars: dict[str, str], sockets: Path, known_hosts: Path) -> str:
    """One Host block of the ssh_config, from what the inventory says of the host."""
    lines = [f"Host {name}", f"    HostName {hostvars.get('ansible_host', name)}"]
    if "ansible_user" in hostvars:
        lines.append(f"    User {hostvars['ansible_user']}")
    if "ansible_port" in hostvars:
        lines.append(f"    Port {int(hostvars['ansible_port'])}")
    if "ansible_ssh_private_key_file" in hostvars:
        key = Path(hostvars["ansible_ssh_private_key_file"]).expanduser()
        lines += [f"    IdentityFile {key}", "    IdentitiesOnly yes"]
    lines += [
        f"    UserKnownHostsFile {known_hosts}",
        f"    ControlPath {sockets}/{LAB_MASTER}",
        *SSH_OPTIONS,
    ]
    return "\n".join(lines)


def local_interface_in(network: ipaddress.IPv4Network) -> tuple[str, str] | None:
    """This machine's (interface, address) on network, if it has one."""
    out = run(["ip", "-o", "-4", "addr", "show"], check=False).stdout
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 4 and words[2] == "inet":
            iface = ipaddress.IPv4Interface(words[3])
            if iface.ip in network:
                return words[1], str(iface.ip)
    return None


def ssh_address(hostvars: dict[str, str], name: str) -> ipaddress.IPv4Address | None:
    """The address ssh reaches the host by, if the inventory's ansible_host (or the name)
    resolves to one here."""
    target = hostvars.get("ansible_host", name)
    try:
        return ipaddress.IPv4Address(socket.gethostbyname(target))
    except (OSError, ValueError):
        return None


class HostsBackend(Backend):
    NAME = "hosts"
    NEEDS_ROOT = False  # ssh and probes from this machine (the ARP probes need raw sockets)
    REACH_DEADLINE = 30.0  # hosts are up already: one that does not answer is an error
    SELF_HEAL_S = SELF_HEAL_S

    def __init__(self, state: LabState) -> None:
        super().__init__(state)
        powered = all(d.get("power_off") and d.get("power_on") for d in state.node_data.values())
        self.CAPABILITIES = frozenset({POWER}) if powered and state.node_data else frozenset()
        self.powered_off: set[str] = set()  # by this harness, through power_off

    @classmethod
    def up(
        cls, name: str, topology: Topology, run_dir: Path, inventory: Path, release: Release
    ) -> LabState:
        hosts, group_vars = read_inventory(inventory)
        found = local_interface_in(topology.service_net)
        if found is None:
            raise LabError(
                f"this machine has no address in the service network {topology.service_net}: "
                "run the suites from a machine on it (it is the client side)"
            )
        client_ifname, client_ip = found
        run_dir.mkdir(parents=True, exist_ok=True)
        ssh_dir = run_dir / "ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        sockets = control_dir(ssh_dir)
        sockets.mkdir(mode=0o700, parents=True, exist_ok=True)
        config = ssh_dir / "config"
        entries = [
            host_entry(n.name, {**group_vars, **hosts[n.name]}, sockets, ssh_dir / "known_hosts")
            for n in topology.nodes
        ]
        config.write_text("\n".join(entries) + "\n")
        node_data: dict[str, dict[str, Any]] = {}
        for node in topology.nodes:
            hostvars = {**group_vars, **hosts[node.name]}
            reached_by = ssh_address(hostvars, node.name)
            node_data[node.name] = {
                "power_off": hostvars.get("power_off", ""),
                "power_on": hostvars.get("power_on", ""),
                # NIC faults cut the service NIC: only safe when ssh goes another way.
                "ssh_apart": reached_by is not None and reached_by not in topology.service_net,
            }
        become = {
            truthy({**group_vars, **hosts[n.name]}.get("ansible_become")) for n in topology.nodes
        }
        state = LabState(
            name=name,
            backend=cls.NAME,
            topology=topology,
            run_dir=run_dir,
            netns=None,  # the client side is this machine
            ssh_config=config,
            ssh_user=group_vars.get("ansible_user", "root"),
            service_ifname=group_vars.get("service_nic", "eth0"),
            mgmt_ifname=group_vars.get("ipvs_sync_nic"),
            client_ifname=client_ifname,
            node_data=node_data,
            backend_data={"inventory": str(inventory.resolve()), "client_ip": client_ip,
                          "become": True in become},
        )  # fmt: skip
        state.save()
        return state

    @classmethod
    def down(cls, name: str, run_dir: Path) -> list[str]:
        """Detach: close the ssh masters and remove the run dir; the hosts are left alone."""
        removed = []
        sockets = control_dir(run_dir / "ssh")
        for master in sockets.glob("cm-*"):
            run(["ssh", "-o", f"ControlPath={master}", "-O", "exit", "x"], check=False)
        if sockets != run_dir / "ssh":
            shutil.rmtree(sockets, ignore_errors=True)
        if run_dir.exists():
            shutil.rmtree(run_dir)
            removed.append(f"{run_dir} (ssh config, state; the hosts are untouched)")
        return removed

    def alive(self, node: str) -> bool:
        # A host's power is not ours to see: it is on unless we turned it off (one that does
        # not answer is judged by ssh, as anywhere).
        return node not in self.powered_off

    def _power(self, node: str, which: str) -> None:
        command = self.state.node_data.get(node, {}).get(which)
        if not command:
            raise LabError(f"the inventory names no {which} command for {node}")
        say(f"{node}: {which}: {command}")
        proc = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise LabError(f"{node}: {which} exited {proc.returncode}: {proc.stderr.strip()}")

    def kill(self, node: str) -> None:
        self._power(node, "power_off")
        self.powered_off.add(node)

    def start(self, node: str) -> None:
        self._power(node, "power_on")
        self.powered_off.discard(node)

    def ssh_apart(self, node: str) -> bool:
        return bool(self.state.node_data.get(node, {}).get("ssh_apart"))
