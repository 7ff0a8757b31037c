"""User-Mode Linux backend: each node is a UML kernel (Debian's user-mode-linux, 6.1 with
ip_vs) running as an ordinary process group, booted from the shared image through its own
copy-on-write overlay, its two NICs on tap devices in the lab's namespace. No daemon, no KVM.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from lab import netns
from lab.backends.base import LINK, POWER, Backend
from lab.errors import LabError
from lab.image import ImageCache, ImageRecipe, uml_kernel_release
from lab.releases import Release, find_release
from lab.remote import close_masters, control_dir, make_lab_key, render_ssh_config
from lab.shell import run, say
from lab.state import LabState, home
from lab.topology import Node, Topology

KERNEL = "linux.uml"
XSTATE_SHIM_SOURCE = Path(__file__).with_name("uml_xstate.c")


# The guest NICs lab-identity names from the kernel command line.
SERVICE_IFNAME = "eth0"
MGMT_IFNAME = "eth1"


def xstate_shim(cache: Path) -> Path:
    """The compiled LD_PRELOAD shim every UML node runs with (see uml_xstate.c: on hosts
    with AVX-512 or AMX, Debian's UML dies at its first guest process without it, "ptrace
    set fp regs failed, errno = 14"). Built once per source version into the cache."""
    source = XSTATE_SHIM_SOURCE.read_bytes()
    built = cache / f"uml-xstate-{hashlib.sha256(source).hexdigest()[:16]}.so"
    if built.exists():
        return built
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise LabError("a C compiler is needed for the UML xstate shim (make setup installs gcc)")
    cache.mkdir(parents=True, exist_ok=True)
    partial = built.with_suffix(".tmp")
    argv = [compiler, "-O2", "-Wall", "-shared", "-fPIC", "-o", str(partial), "-x", "c", "-"]
    proc = subprocess.run(argv, input=source, capture_output=True)
    if proc.returncode != 0:
        raise LabError(f"building the UML xstate shim failed: {proc.stderr.decode()[-300:]}")
    partial.rename(built)
    return built


def tap_names(index: int) -> tuple[str, str]:
    return f"tap{index}-svc", f"tap{index}-mgmt"


def kernel_argv(
    node: Node,
    index: int,
    topology: Topology,
    *,
    lab_name: str,
    image: Path,
    run_dir: Path,
    public_key: str,
    memory_mib: int,
) -> list[str]:
    """The UML command line: machine, disks and NICs, then the node's identity for the
    image's lab-identity unit (it renames NICs by MAC and sets addresses and hosts)."""
    svc_tap, mgmt_tap = tap_names(index)
    machine_id = hashlib.sha256(f"{lab_name}/{node.name}".encode()).hexdigest()[:32]
    svc_prefix, mgmt_prefix = topology.service_net.prefixlen, topology.mgmt_net.prefixlen
    argv = [
        KERNEL,
        f"mem={memory_mib}M",
        f"umid={node.name}",
        f"uml_dir={run_dir / 'uml'}",
        f"ubd0={run_dir / (node.name + '.cow')},{image}",
        "root=/dev/ubda",
        "rw",
        "con=null",
        "ssl=null",
        "con0=null,fd:1",
        f"vec0:transport=tap,ifname={svc_tap},mac={node.service_mac}",
        f"vec1:transport=tap,ifname={mgmt_tap},mac={node.mgmt_mac}",
        "net.ifnames=0",
        f"systemd.machine_id={machine_id}",
        f"lab.hostname={node.name}",
        f"lab.nic={node.service_mac},{SERVICE_IFNAME},{node.service_ip}/{svc_prefix}",
        f"lab.nic={node.mgmt_mac},{MGMT_IFNAME},{node.mgmt_ip}/{mgmt_prefix}",
        *(f"lab.host={n.name},{n.service_ip}" for n in topology.nodes),
        f"lab.ssh_key={base64.b64encode(public_key.encode()).decode()}",
    ]
    return argv


def pids_of_lab(run_dir: Path) -> list[int]:
    """Every UML process of this lab, found by its uml_dir, even if the state file is lost."""
    proc = run(["pgrep", "-f", f"uml_dir={run_dir / 'uml'}( |$)"], check=False)
    return [int(p) for p in proc.stdout.split()]


def pids_of_node(run_dir: Path, node: str) -> list[int]:
    """Every process of one node (UML's helper processes carry the same command line)."""
    pattern = f"umid={node} .*uml_dir={run_dir / 'uml'}( |$)"
    return [int(p) for p in run(["pgrep", "-f", pattern], check=False).stdout.split()]


def kill_groups(pids: list[int]) -> None:
    """Kill whole process groups: killing only a UML main pid leaves a guest process spinning."""
    groups = set()
    for pid in pids:
        try:
            groups.add(os.getpgid(pid))
        except ProcessLookupError:
            continue
    for group in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not any(_group_alive(g) for g in groups):
            return
        time.sleep(0.1)
    raise LabError(f"UML process groups {sorted(groups)} survived SIGKILL")


def _group_alive(group: int) -> bool:
    """Whether any non-zombie process is left in the group (a killed node whose parent has
    not reaped it yet is a zombie: gone for every purpose of the lab)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


class UmlBackend(Backend):
    NAME = "uml"
    CAPABILITIES = frozenset({POWER, LINK})

    @classmethod
    def preflight(cls) -> None:
        if os.geteuid() != 0:
            raise LabError("the UML lab needs root (network namespaces and tap devices)")
        for tool in (KERNEL, "ip", "ssh", "ssh-keygen", "nc", "pgrep"):
            if shutil.which(tool) is None:
                raise LabError(f"{tool} is not installed (make setup)")
        if not Path("/dev/net/tun").exists():
            raise LabError("/dev/net/tun is missing: the UML lab needs the tun driver")

    @classmethod
    def up(
        cls, name: str, topology: Topology, run_dir: Path, inventory: Path, release: Release
    ) -> LabState:
        cls.preflight()
        recipe = ImageRecipe(uml_kernel_release(), suite=release.name)
        image = ImageCache(home() / "images").ensure(recipe)
        run_dir.mkdir(parents=True, exist_ok=True)
        ssh_dir = run_dir / "ssh"
        key = make_lab_key(ssh_dir, name)
        ssh_config = ssh_dir / "config"
        sockets = control_dir(ssh_dir)
        sockets.mkdir(mode=0o700, parents=True, exist_ok=True)
        ssh_config.write_text(
            render_ssh_config(
                topology,
                key=key,
                user="root",
                netns=name,
                known_hosts=ssh_dir / "known_hosts",
                sockets=sockets,
            )
        )
        state = LabState(
            name=name,
            backend=cls.NAME,
            topology=topology,
            run_dir=run_dir,
            netns=name,
            ssh_config=ssh_config,
            service_ifname=SERVICE_IFNAME,
            mgmt_ifname=MGMT_IFNAME,
            client_ifname=netns.SERVICE_BRIDGE,
            release=release.name,
        )
        state.node_data = {
            node.name: {
                "service_tap": tap_names(i)[0],
                "mgmt_tap": tap_names(i)[1],
                "image": str(image),
            }
            for i, node in enumerate(topology.nodes, start=1)
        }
        netns.create(name, topology)
        for node in topology.nodes:
            data = state.node_data[node.name]
            netns.add_tap(name, data["service_tap"], netns.SERVICE_BRIDGE)
            netns.add_tap(name, data["mgmt_tap"], netns.MGMT_BRIDGE)
        state.save()
        backend = cls(state)
        for node in topology.nodes:
            backend.start(node.name)
        return state

    @classmethod
    def down(cls, name: str, run_dir: Path) -> list[str]:
        removed = []
        pids = pids_of_lab(run_dir)
        if pids:
            kill_groups(pids)
            removed.append(f"{len(pids)} UML processes")
        sockets = control_dir(run_dir / "ssh")
        for master in sockets.glob("cm-*"):
            # ssh multiplexing masters outlive their node; ask each to exit.
            run(["ssh", "-o", f"ControlPath={master}", "-O", "exit", "x"], check=False)
        if sockets != run_dir / "ssh":
            shutil.rmtree(sockets, ignore_errors=True)
        if netns.exists(name):
            netns.delete(name)
            removed.append(f"namespace {name} with its bridges and taps")
        if run_dir.exists():
            shutil.rmtree(run_dir)
            removed.append(f"{run_dir} (overlays, keys, state)")
        return removed

    def _pid(self, node: str) -> int | None:
        pid = self.state.node_data.get(node, {}).get("pid")
        return int(pid) if pid else None

    def alive(self, node: str) -> bool:
        pid = self._pid(node)
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        # A recycled pid would not carry this lab's uml_dir on its command line.
        return pid in pids_of_lab(self.state.run_dir)

    def start(self, node: str) -> None:
        if self.alive(node):
            return
        topo = self.state.topology
        index = [n.name for n in topo.nodes].index(node) + 1
        run_dir = self.state.run_dir
        public_key = (run_dir / "ssh" / "id_ed25519.pub").read_text().strip()
        argv = kernel_argv(
            topo.node(node),
            index,
            topo,
            lab_name=self.state.name,
            image=Path(self.state.node_data[node]["image"]),
            run_dir=run_dir,
            public_key=public_key,
            memory_mib=find_release(self.state.release).uml_memory_mib,
        )
        shutil.rmtree(run_dir / "uml" / node, ignore_errors=True)  # stale mconsole socket
        (run_dir / "uml").mkdir(exist_ok=True)
        env = dict(os.environ, LD_PRELOAD=str(xstate_shim(home() / "uml-xstate")))
        if Path("/dev/shm").is_dir():
            env["TMPDIR"] = "/dev/shm"  # UML backs guest memory with a file in TMPDIR
        console = (run_dir / f"{node}.console.log").open("ab")
        # start_new_session: the node is its own process group, so kill() can take it whole.
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.state.name, *argv],
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=run_dir,
        )
        console.close()
        self.state.node_data[node]["pid"] = proc.pid
        self.state.save()
        say(f"{node}: booting (pid {proc.pid})")

    def kill(self, node: str) -> None:
        pid = self._pid(node)
        if pid is not None and self.alive(node):
            kill_groups([pid])
        close_masters(self.state.ssh_config, node)

    def cut_link(self, node: str) -> None:
        netns.detach(self.state.name, self.state.node_data[node]["service_tap"])

    def restore_link(self, node: str) -> None:
        netns.attach(
            self.state.name, self.state.node_data[node]["service_tap"], netns.SERVICE_BRIDGE
        )

    def link_cut(self, node: str) -> bool:
        tap = self.state.node_data[node]["service_tap"]
        return netns.bridge_of(self.state.name, tap) != netns.SERVICE_BRIDGE
