"""What every lab backend provides. The core is up/down plus how to power and cable a node;
faults that need a capability a backend lacks check `capabilities` first and say so."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from lab.releases import Release
from lab.state import LabState
from lab.topology import Topology

# Capability names, as faults and tests ask for them.
POWER = "power"  # kill a node outright and boot it again
LINK = "link"  # cut / restore the service NIC's cable on the host or switch side


class Backend(ABC):
    NAME: str
    CAPABILITIES: frozenset[str] = frozenset()
    NEEDS_ROOT = True  # namespaces, taps, a libvirtd
    REACH_DEADLINE = 300.0  # s from boot to every node on ssh (UML: ~15 s measured)
    # In-guest NIC faults schedule their own heal on the node after this long (None: the
    # harness heals them; a lab's management network never goes through the cut NIC).
    SELF_HEAL_S: float | None = None

    def __init__(self, state: LabState) -> None:
        self.state = state

    @classmethod
    @abstractmethod
    def up(
        cls, name: str, topology: Topology, run_dir: Path, inventory: Path, release: Release
    ) -> LabState:
        """Bring every node up, running the Debian release (a lab backend's nodes; real
        hosts run their own), reachable; on failure leave nothing behind."""

    @classmethod
    @abstractmethod
    def down(cls, name: str, run_dir: Path) -> list[str]:
        """Remove everything a lab of this name made, whatever state it is in; say what."""

    @abstractmethod
    def alive(self, node: str) -> bool:
        """Whether the node's machine is running (not whether it answers)."""

    def kill(self, node: str) -> None:
        raise NotImplementedError(f"{self.NAME} cannot power off a node")

    def start(self, node: str) -> None:
        raise NotImplementedError(f"{self.NAME} cannot power on a node")

    def cut_link(self, node: str) -> None:
        raise NotImplementedError(f"{self.NAME} cannot cut a link")

    def restore_link(self, node: str) -> None:
        raise NotImplementedError(f"{self.NAME} cannot restore a link")

    def link_cut(self, node: str) -> bool:
        return False

    def ssh_apart(self, node: str) -> bool:
        """Whether the harness reaches node by another path than its service NIC (so an
        in-guest NIC fault leaves it reachable). Every lab backend has a management network."""
        return True
