"""The deployed cluster as the suites see it: open_cluster(lab) reads which stack the nodes
run, once, and returns that stack's reader (lab.cluster.reader.ClusterReader). Actions that
change the cluster are lab.cluster.actions; the nodes' clocks and journals are
lab.cluster.journal; the tools' output is parsed by lab.cluster.parse."""

from __future__ import annotations

from lab.cluster.cell import Cell, deployed_cell
from lab.cluster.keepalived import KeepalivedCluster
from lab.cluster.pacemaker import PacemakerCluster
from lab.cluster.reader import ClusterReader
from lab.control import Lab

READERS: dict[str, type[ClusterReader]] = {
    reader.stack: reader for reader in (PacemakerCluster, KeepalivedCluster)
}

__all__ = [
    "Cell",
    "ClusterReader",
    "KeepalivedCluster",
    "PacemakerCluster",
    "deployed_cell",
    "open_cluster",
]


def open_cluster(lab: Lab, cell: Cell | None = None) -> ClusterReader:
    """The reader of the stack the lab's nodes are deployed with (given, or read from their
    deploy records; a lab with no complete record is read as pacemaker's, the article's
    stack, so that its state can still be shown)."""
    if cell is None:
        cell = deployed_cell(lab)
    return READERS[cell.stack if cell is not None else "pacemaker"](lab)
