"""libvirt lab: the nodes are libvirt domains that Vagrant (vagrant-libvirt, lab/vagrant/)
brings up; the harness then drives them with libvirt-python: kill = virDomain.destroy(),
start = create(), cable pull = a live updateDeviceFlags with <link state='down'/> on the
service interface, so the guest really sees carrier loss.

The client side is the host end of the service network (the libvirt network's bridge);
the harness reaches nodes over vagrant's management network with `vagrant ssh-config`.
With LVSLAB_LIBVIRT_NETNS set, libvirtd lives in that network namespace (lab/
libvirt_sandbox.py): vagrant, ssh and the client side then run inside it too."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from lab.backends import libvirt_xml
from lab.backends.base import LINK, POWER, Backend
from lab.errors import LabError
from lab.releases import Release, find_release
from lab.remote import LAB_MASTER, close_masters, control_dir, make_lab_key, netns_argv
from lab.shell import run, run_logged, say
from lab.state import LabState, home
from lab.topology import Topology

VAGRANT_DIR = Path(__file__).parents[1] / "vagrant"
DEFAULT_URI = "qemu:///system"
SERVICE_IFNAME = "eth1"  # vagrant-libvirt: eth0 is vagrant's management network
MGMT_IFNAME = "eth0"
UP_TIMEOUT = 1800  # s; TCG boots are slow


def open_libvirt(uri: str) -> Any:
    """A libvirt connection, or one clear error line."""
    try:
        import libvirt  # optional: only this backend needs it
    except ImportError:
        raise LabError(
            "libvirt-python is not installed (pip install '.[libvirt]'; needs libvirt-dev)"
        ) from None
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise LabError(f"libvirt at {uri} is unreachable: {exc.get_error_message()}") from None


def check_vagrant(box: str, vagrant: Callable[..., Any] = run) -> None:
    """vagrant with the libvirt provider and the box: each missing piece, one clear line."""
    if shutil.which("vagrant") is None:
        raise LabError("vagrant is not installed (Debian: apt-get install vagrant vagrant-libvirt)")
    plugins = vagrant(["vagrant", "plugin", "list"], check=False).stdout
    if "vagrant-libvirt" not in plugins:
        raise LabError("the vagrant-libvirt plugin is missing (apt-get install vagrant-libvirt)")
    boxes = vagrant(["vagrant", "box", "list", "--machine-readable"], check=False).stdout
    names = {line.split(",")[3] for line in boxes.splitlines() if ",box-name," in line}
    if box not in names:
        raise LabError(
            f"vagrant box {box} is not installed: vagrant box add {box} --provider libvirt"
        )


def nodes_env(topology: Topology) -> str:
    return ",".join(f"{n.name}={n.service_ip}={n.service_mac}" for n in topology.nodes)


def parse_ssh_config(text: str) -> dict[str, dict[str, str]]:
    """`vagrant ssh-config` output, by host."""
    hosts: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        words = line.split(None, 1)
        if len(words) != 2:
            continue
        key, value = words
        if key == "Host":
            current = hosts.setdefault(value.strip(), {})
        elif current is not None:
            current[key] = value.strip().strip('"')
    return hosts


def render_ssh_config(
    hosts: dict[str, dict[str, str]],
    user: str,
    *,
    key: Path | None,
    netns: str | None,
    sockets: Path,
) -> str:
    """ssh_config for the nodes vagrant reports; key (the lab's own, for every node) replaces
    the per-node key vagrant inserted."""
    lines = []
    for name, options in hosts.items():
        lines += [
            f"Host {name}",
            f"    HostName {options['HostName']}",
            f"    Port {options.get('Port', '22')}",
            f"    User {user}",
            f"    IdentityFile {key or options['IdentityFile']}",
            "    IdentitiesOnly yes",
            # Boxes get new host keys per lab; the known_hosts dies with the lab.
            "    StrictHostKeyChecking no",
            "    UserKnownHostsFile /dev/null",
            "    LogLevel ERROR",
            "    BatchMode yes",
            "    ConnectTimeout 10",
            "    ServerAliveInterval 5",
            "    ServerAliveCountMax 6",
            # One multiplexed connection per node: tests and probes run many commands.
            "    ControlMaster auto",
            f"    ControlPath {sockets}/{LAB_MASTER}",
            "    ControlPersist 60",
        ]
        if netns:
            lines.append(f"    ProxyCommand ip netns exec {netns} nc %h %p")
    return "\n".join(lines) + "\n"


def own_network_name(lab: str) -> str:
    return f"{lab}-service"


def is_lab_domain(domain: str, prefix: str, nodes: list[str] | None) -> bool:
    """Whether a domain is one of this lab's nodes: prefix + node name. Without the lab's
    state (nodes None), any prefix + a name without '-', so that lab `lvslab` never takes
    the domains of lab `lvslab-selftest` with it."""
    if not domain.startswith(prefix):
        return False
    rest = domain[len(prefix) :]
    return rest in nodes if nodes is not None else bool(rest) and "-" not in rest


def with_mgmt_addresses(topology: Topology, hosts: dict[str, dict[str, str]]) -> Topology:
    nodes = tuple(
        dataclasses.replace(n, mgmt_ip=IPv4Address(hosts[n.name]["HostName"]))
        if n.name in hosts
        else n
        for n in topology.nodes
    )
    return dataclasses.replace(topology, nodes=nodes)


class LibvirtBackend(Backend):
    NAME = "libvirt"
    CAPABILITIES = frozenset({POWER, LINK})

    @staticmethod
    def settings(name: str, release: Release | None = None) -> dict[str, str]:
        """The lab's libvirt settings: the environment's, else the defaults (the box:
        Debian's own for the release)."""
        release = release or find_release(None)
        return {
            "uri": os.environ.get("LVSLAB_URI", DEFAULT_URI),
            "box": os.environ.get("LVSLAB_BOX", release.vagrant_box),
            "driver": os.environ.get("LVSLAB_DRIVER", "kvm"),
            "memory": os.environ.get("LVSLAB_MEMORY", "1024"),
            "prefix": f"{name}-",
            "netns": os.environ.get("LVSLAB_LIBVIRT_NETNS", ""),
        }

    @classmethod
    def vagrant_env(cls, state_like: dict[str, str], topology: Topology) -> dict[str, str]:
        root_key = Path(state_like.get("root_key") or "/nonexistent")
        return {
            **os.environ,
            # Absent once the lab's files are gone (down): only `up` needs it.
            "LVSLAB_ROOT_KEY": root_key.read_text().strip() if root_key.is_file() else "",
            "LVSLAB_NODES": nodes_env(topology),
            "LVSLAB_BOX": state_like["box"],
            "LVSLAB_DRIVER": state_like["driver"],
            "LVSLAB_MEMORY": state_like["memory"],
            "LVSLAB_NETWORK": state_like["network"],
            "LVSLAB_PREFIX": state_like["prefix"],
            "LVSLAB_URI": state_like["uri"],
            "VAGRANT_DOTFILE_PATH": state_like["dotfile"],
        }

    @classmethod
    def ensure_service_network(cls, conn: Any, name: str, topology: Topology) -> tuple[str, bool]:
        """The libvirt network for the service subnet: an active one that already has it
        (libvirt's `default` is 192.168.122.0/24), else an isolated one of our own.
        Returns (network name, whether we made it)."""
        for network in conn.listAllNetworks():
            info = libvirt_xml.network_info(network.XMLDesc(0))
            if info.network == topology.service_net and network.isActive():
                if info.address != topology.client_ip:
                    raise LabError(
                        f"libvirt network {info.name} has {topology.service_net} with the host "
                        f"at {info.address}, the lab needs the client side at {topology.client_ip}"
                    )
                return info.name, False
        own = own_network_name(name)
        xml = libvirt_xml.isolated_network_xml(
            own, f"{name[:9]}-svc", topology.client_ip, topology.service_net
        )
        network = conn.networkDefineXML(xml)
        network.create()
        return own, True

    @staticmethod
    def vagrant_argv(data: dict[str, Any], *args: str) -> list[str]:
        return netns_argv(data.get("netns") or None, ["vagrant", *args])

    @classmethod
    def up(
        cls, name: str, topology: Topology, run_dir: Path, inventory: Path, release: Release
    ) -> LabState:
        settings = cls.settings(name, release)
        check_vagrant(settings["box"])
        conn = open_libvirt(settings["uri"])
        run_dir.mkdir(parents=True, exist_ok=True)
        network, owned = cls.ensure_service_network(conn, name, topology)
        bridge = libvirt_xml.network_info(conn.networkLookupByName(network).XMLDesc(0)).bridge
        data = {**settings, "network": network, "network_owned": owned}
        data["dotfile"] = str(run_dir / "vagrant")
        # One key for root on every node, as on the UML lab (vagrant inserts one per node).
        key = make_lab_key(run_dir / "ssh", name)
        data["root_key"] = str(key.with_suffix(".pub"))
        state = LabState(
            name=name,
            backend=cls.NAME,
            topology=topology,
            run_dir=run_dir,
            # The client side is the host end of the service network: the host itself, or
            # the namespace libvirtd runs in.
            netns=settings["netns"] or None,
            ssh_config=run_dir / "ssh_config",
            ssh_user="root",
            service_ifname=SERVICE_IFNAME,
            mgmt_ifname=MGMT_IFNAME,
            client_ifname=bridge,
            node_data={n.name: {"domain": f"{settings['prefix']}{n.name}"} for n in topology.nodes},
            backend_data=data,
            release=None if "LVSLAB_BOX" in os.environ else release.name,
        )
        state.save()
        env = cls.vagrant_env(data, topology)
        say(f"vagrant up ({settings['driver']}, box {settings['box']}, network {network})")
        up_argv = cls.vagrant_argv(data, "up", "--provider=libvirt")
        # Outside the run dir, so that it outlives the clean-up of a failed up.
        log = home() / "logs" / f"{name}-vagrant-up.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.unlink(missing_ok=True)
        run_logged(up_argv, log, timeout=UP_TIMEOUT, env=env, cwd=VAGRANT_DIR)
        ssh = run(cls.vagrant_argv(data, "ssh-config"), env=env, cwd=VAGRANT_DIR).stdout
        hosts = parse_ssh_config(ssh)
        sockets = control_dir(run_dir / "ssh")
        sockets.mkdir(mode=0o700, parents=True, exist_ok=True)
        state.ssh_config.write_text(
            render_ssh_config(hosts, "root", key=key, netns=state.netns, sockets=sockets)
        )
        # Management addresses come from vagrant-libvirt's DHCP: record the real ones.
        state.topology = with_mgmt_addresses(topology, hosts)
        state.save()
        return state

    @classmethod
    def down(cls, name: str, run_dir: Path) -> list[str]:
        removed: list[str] = []
        try:
            state = LabState.load(run_dir / "state.json")
        except LabError:
            state = None
        settings = cls.settings(name)
        data = dict(state.backend_data) if state else {}
        conn = open_libvirt(data.get("uri", settings["uri"]))
        if state is not None and shutil.which("vagrant"):
            merged = {**settings, **data}
            env = cls.vagrant_env(merged, state.topology)
            destroy = cls.vagrant_argv(merged, "destroy", "-f")
            run(destroy, env=env, cwd=VAGRANT_DIR, timeout=600, check=False)
        sockets = control_dir(run_dir / "ssh")
        for master in sockets.glob("cm-*"):
            run(["ssh", "-o", f"ControlPath={master}", "-O", "exit", "x"], check=False)
        if sockets != run_dir / "ssh":
            shutil.rmtree(sockets, ignore_errors=True)
        # Whatever vagrant left (or a lab whose state is gone): this lab's domains.
        nodes = [n.name for n in state.topology.nodes] if state else None
        for domain in conn.listAllDomains():
            if is_lab_domain(domain.name(), settings["prefix"], nodes):
                if domain.isActive():
                    domain.destroy()
                domain.undefine()
                removed.append(f"domain {domain.name()}")
        # Only the network this lab defined (by name: the lab never defines another).
        own = own_network_name(name)
        if own in {n.name() for n in conn.listAllNetworks()}:
            network = conn.networkLookupByName(own)
            if network.isActive():
                network.destroy()
            network.undefine()
            removed.append(f"network {own}")
        if run_dir.exists():
            shutil.rmtree(run_dir)
            removed.append(f"{run_dir}")
        return removed

    # --- power and cable, through libvirt-python

    def _conn(self) -> Any:
        return open_libvirt(self.state.backend_data["uri"])

    def _domain(self, node: str) -> Any:
        return self._conn().lookupByName(self.state.node_data[node]["domain"])

    def alive(self, node: str) -> bool:
        try:
            return bool(self._domain(node).isActive())
        except LabError:
            raise
        except Exception:  # libvirt.libvirtError: no such domain
            return False

    def kill(self, node: str) -> None:
        domain = self._domain(node)
        if domain.isActive():
            domain.destroy()
        # The node's ssh master died with it: let the next command open a fresh one.
        close_masters(self.state.ssh_config, node)

    def start(self, node: str) -> None:
        domain = self._domain(node)
        if not domain.isActive():
            domain.create()

    def _set_link(self, node: str, state: str) -> None:
        import libvirt  # present: _domain() opened a connection

        domain = self._domain(node)
        mac = self.state.topology.node(node).service_mac
        xml = libvirt_xml.with_link_state(domain.XMLDesc(0), mac, state)
        domain.updateDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)

    def cut_link(self, node: str) -> None:
        self._set_link(node, "down")

    def restore_link(self, node: str) -> None:
        self._set_link(node, "up")

    def link_cut(self, node: str) -> bool:
        mac = self.state.topology.node(node).service_mac
        return not libvirt_xml.link_is_up(self._domain(node).XMLDesc(0), mac)
