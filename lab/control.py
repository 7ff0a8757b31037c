"""The lab as the CLI and pytest see it: nodes, commands on a node or on the client side,
power and cable control through the backend, and the lab's life cycle."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from lab.backends import backend_class
from lab.backends.base import Backend
from lab.errors import LabError
from lab.releases import DEFAULT_RELEASE, find_release
from lab.remote import netns_argv, run_argv, ssh_argv
from lab.shell import say
from lab.state import DEFAULT_LAB_NAME, LabState, lab_dir
from lab.topology import Node, Topology

BOOT_DEADLINE = 300  # s; three UML nodes measured reachable in ~20-40 s


class Lab:
    def __init__(self, state: LabState) -> None:
        self.state = state
        self.backend: Backend = backend_class(state.backend)(state)

    @classmethod
    def find(cls, name: str = DEFAULT_LAB_NAME) -> Lab:
        return cls(LabState.find(name))

    @property
    def topology(self) -> Topology:
        return self.state.topology

    @property
    def nodes(self) -> tuple[Node, ...]:
        return self.state.topology.nodes

    def node(self, name: str) -> Node:
        return self.topology.node(name)

    def ssh(
        self, node: str, command: Sequence[str] | str, *, timeout: float = 60, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a command on a node over the management network (as root: through sudo where
        the inventory logs in as a user and says ansible_become)."""
        self.node(node)
        become = bool(self.state.backend_data.get("become"))
        return run_argv(
            ssh_argv(self.state.ssh_config, node, command, become=become),
            timeout=timeout,
            check=check,
            what=f"{node}: {command}",
        )

    def copy_to(self, node: str, source: Path, dest: str, *, timeout: float = 60) -> None:
        """Copy a file from the host onto a node."""
        self.node(node)
        argv = ["scp", "-q", "-F", str(self.state.ssh_config), str(source), f"{node}:{dest}"]
        run_argv(argv, timeout=timeout, check=True, what=f"copy {source} to {node}:{dest}")

    def client(
        self, command: Sequence[str], *, timeout: float = 60, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a command on the client side of the service network."""
        return run_argv(
            netns_argv(self.state.netns, command),
            timeout=timeout,
            check=check,
            what=f"client: {' '.join(command)}",
        )

    def client_popen(self, command: Sequence[str]) -> subprocess.Popen[bytes]:
        """Start a long-running probe on the client side, talking over binary pipes."""
        return subprocess.Popen(
            netns_argv(self.state.netns, command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    @property
    def ssh_key(self) -> Path:
        """The private key that logs in to every node (from the lab's ssh_config)."""
        for line in self.state.ssh_config.read_text().splitlines():
            words = line.split()
            if len(words) == 2 and words[0] == "IdentityFile":
                return Path(words[1])
        raise LabError(f"{self.state.ssh_config} names no IdentityFile")

    @property
    def client_ip(self) -> str:
        """The client side's address on the service network (the probes' source)."""
        return str(self.state.backend_data.get("client_ip") or self.topology.client_ip)

    @property
    def client_ifname(self) -> str:
        if not self.state.client_ifname:
            raise LabError(f"lab {self.state.name} records no client-side interface; recreate it")
        return self.state.client_ifname

    def reachable(self, node: str, timeout: float = 10) -> bool:
        try:
            return self.ssh(node, "true", timeout=timeout, check=False).returncode == 0
        except LabError:
            return False

    def wait_reachable(self, nodes: Sequence[str], deadline: float = BOOT_DEADLINE) -> float:
        """Poll until every node answers over ssh; return the seconds it took."""
        started = time.monotonic()
        waiting = list(nodes)
        last_report = started
        while waiting:
            waiting = [n for n in waiting if not self.reachable(n)]
            elapsed = time.monotonic() - started
            if not waiting:
                break
            dead = [n for n in waiting if not self.backend.alive(n)]
            if dead:
                raise LabError(
                    f"{', '.join(dead)} died while booting; "
                    f"see {self.state.run_dir}/<node>.console.log"
                )
            if elapsed > deadline:
                raise LabError(f"{', '.join(waiting)} not reachable over ssh after {deadline}s")
            if time.monotonic() - last_report >= 10:
                say(f"waiting for ssh on {', '.join(waiting)} ({elapsed:.0f}s)")
                last_report = time.monotonic()
            time.sleep(1)
        return time.monotonic() - started


def running(name: str, backend: str) -> Lab | None:
    """The lab of that name if any of its nodes runs; None if there is no such lab or none
    of it runs (up() then replaces it). A node that is down may have been killed on purpose
    by someone else (`lvslab fault kill`, a benchmark): callers boot it (boot_dead), never
    rebuild the lab under them. A lab of another backend is an error: tests asked for one
    backend must never run against the other."""
    try:
        existing = Lab.find(name)
    except LabError:
        return None
    if existing.state.backend != backend:
        raise LabError(
            f"lab {name} is a {existing.state.backend} lab, not {backend}: "
            f"take it down (lvslab --name {name} down) or pick another lab name"
        )
    return existing if any(existing.backend.alive(n.name) for n in existing.nodes) else None


def boot_dead(lab: Lab) -> list[str]:
    """Boot every node of the lab that is down and wait for ssh; the nodes it booted."""
    dead = [n.name for n in lab.nodes if not lab.backend.alive(n.name)]
    for node in dead:
        say(f"{node} is down: booting it")
        lab.backend.start(node)
    if dead:
        lab.wait_reachable(dead)
    return dead


def up(
    inventory: Path,
    *,
    name: str = DEFAULT_LAB_NAME,
    backend: str = "uml",
    mgmt_network: str | None = None,
    release: str = DEFAULT_RELEASE,
) -> Lab:
    cls = backend_class(backend)
    debian = find_release(release)  # an unknown name fails before anything is made
    if cls.NEEDS_ROOT and os.geteuid() != 0:  # before Ansible reads its config (HOME)
        raise LabError(f"lvslab up needs root (the {backend} lab makes namespaces and taps)")
    topology = Topology.from_inventory(
        inventory, **({"mgmt_network": mgmt_network} if mgmt_network else {})
    )
    run_dir = lab_dir(name)
    if (run_dir / "state.json").exists():
        existing = Lab.find(name)
        if existing.state.backend == backend == "hosts":
            down(name)  # attaching again is cheap and picks up a changed inventory
        elif all(existing.backend.alive(n.name) for n in existing.nodes):
            raise LabError(
                f"lab {name} is already up ({existing.state.backend}); "
                "see lvslab status, or lvslab down first"
            )
        else:
            say(f"lab {name} exists but is not whole; removing it first")
            down(name)
    elif run_dir.exists():
        say(f"removing leftovers of lab {name}")
        down(name, backend=backend)
    started = time.monotonic()
    try:
        state = cls.up(name, topology, run_dir, inventory, debian)
        lab = Lab(state)
        took = lab.wait_reachable([n.name for n in topology.nodes], cls.REACH_DEADLINE)
        say(
            f"{len(topology.nodes)} nodes reachable {took:.1f}s after boot "
            f"({time.monotonic() - started:.1f}s in all)"
        )
        return lab
    except BaseException:
        # Ctrl-C or any failure: leave nothing behind.
        say("lab-up failed; removing what it made")
        cls.down(name, run_dir)
        raise


def down(name: str = DEFAULT_LAB_NAME, *, backend: str | None = None) -> list[str]:
    run_dir = lab_dir(name)
    if backend is None:
        try:
            backend = LabState.find(name).backend
        except LabError:
            backend = "uml"  # no readable state: clean up what the default backend makes
    cls = backend_class(backend)
    if cls.NEEDS_ROOT and os.geteuid() != 0:
        raise LabError("lvslab down needs root")
    return cls.down(name, run_dir)
