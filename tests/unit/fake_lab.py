"""One fake lab for the unit tests: the inventory's topology, ssh and client-side commands
answered from canned output (by command prefix; a callable answers afresh each time), every
command kept in order, and a backend with the capabilities and live nodes a test gives."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lab.deploy import ANSIBLE_DIR
from lab.topology import Topology

INVENTORY = ANSIBLE_DIR / "hosts"
SEED_RECORD = '{"stack": "pacemaker", "profile": "seed", "corosync_links": "service"}'
DEPLOY_RECORD = "cat /etc/lvs-ha-lab/deployed.json"

Answer = tuple[int, str | Callable[[], str]]


class FakeBackend:
    """A backend whose nodes are alive unless named dead, and come alive when started."""

    NAME = "fake"

    def __init__(self, capabilities: frozenset[str] = frozenset(), dead: tuple[str, ...] = ()):
        self.CAPABILITIES = capabilities
        self.dead = set(dead)
        self.started: list[str] = []

    def alive(self, node: str) -> bool:
        return node not in self.dead

    def start(self, node: str) -> None:
        self.started.append(node)
        self.dead.discard(node)


class FakeLab:
    def __init__(
        self,
        answers: dict[str, Answer] | None = None,
        *,
        client: dict[str, Answer] | None = None,
        backend: FakeBackend | None = None,
        run_dir: Path = Path("/nonexistent/run"),
        service_ifname: str = "eth0",
    ) -> None:
        self.topology = Topology.from_inventory(INVENTORY)
        self.nodes = self.topology.nodes
        self.client_ip = str(self.topology.client_ip)
        self.backend = backend or FakeBackend()
        self.state = SimpleNamespace(
            service_ifname=service_ifname, mgmt_ifname="eth1", ssh_user="root",
            ssh_config=Path("/l/ssh/config"), run_dir=run_dir,
        )  # fmt: skip
        # A seed deploy record unless a test says otherwise (open_cluster reads it).
        self.answers: dict[str, Answer] = {DEPLOY_RECORD: (0, SEED_RECORD), **(answers or {})}
        self.client_answers = client or {}
        self.commands: list[str] = []
        self.client_commands: list[list[str]] = []
        self.waited: list[list[str]] = []

    def node(self, name: str) -> Any:
        return self.topology.node(name)

    def reachable(self, node: str, timeout: float = 10) -> bool:
        return self.backend.alive(node)

    def wait_reachable(self, nodes: list[str]) -> float:
        self.waited.append(nodes)
        return 0.0

    def ssh(self, node: str, command: str, *, timeout: float = 60, check: bool = True):
        self.commands.append(command)
        return answer(self.answers, command, command)

    def client(self, command: list[str], *, timeout: float = 60, check: bool = True):
        self.client_commands.append(command)
        return answer(self.client_answers, " ".join(command), command, default=(0, ""))


def answer(
    answers: dict[str, Answer], text: str, command: Any, default: Answer | None = None
) -> subprocess.CompletedProcess[str]:
    for prefix, (rc, out) in answers.items():
        if text.startswith(prefix):
            return subprocess.CompletedProcess(command, rc, out() if callable(out) else out, "")
    if default is not None:
        return subprocess.CompletedProcess(command, default[0], str(default[1]), "")
    raise AssertionError(f"unexpected command {text}")
