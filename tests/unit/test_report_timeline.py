"""The timeline picture shows the data: no label covers an attempt or a GARP."""

from __future__ import annotations

from pathlib import Path

from matplotlib.collections import PathCollection
from matplotlib.transforms import Bbox

from probes.history import History
from report.timeline import draw, figure

FAULT_AT = 100.0


def a_nic_cut() -> History:
    """The shape of a hardened/dual drop cell: attempts every 0.1 s, failed from +2.4 to
    +4.8 s, five kinds of journal event on three nodes inside that window, GARPs after."""
    history = History()
    history.add("nemesis", t=FAULT_AT, action="apply", fault="nic-drop", node="node2")
    for i in range(120):
        t = FAULT_AT - 1 + i * 0.1
        ok = not 2.4 <= t - FAULT_AT < 4.8
        history.add("prober", t=t, ok=ok, node=("node1", "node3")[i % 2] if ok else None, seq=i)
    for k, what in enumerate(["link down", "membership changed", "ping lost", "promoting"]):
        for node in ("node1", "node2", "node3"):
            history.add("event", t=FAULT_AT + 2.5 + 0.5 * k, what=what, node=node)
    for i in range(5):
        history.add("arp-sniffer", t=FAULT_AT + 4.5 + 0.1 * i, gratuitous=True)
    history.add("event", t=FAULT_AT + 8, what="heal requested")
    return history


def test_no_label_covers_a_data_point() -> None:
    fig = figure(a_nic_cut(), "hardened/dual drop")
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    points = []
    for ax in fig.axes:
        for collection in ax.collections:
            if isinstance(collection, PathCollection):
                points += [tuple(p) for p in ax.transData.transform(collection.get_offsets())]
    assert len(points) > 120  # every attempt and GARP is drawn
    labels = [t for ax in fig.axes for t in ax.texts]
    assert len(labels) >= 6  # the events' four, the window's, the fault's
    for text in labels:
        box: Bbox = text.get_window_extent(renderer)
        covered = [p for p in points if box.contains(*p)]
        assert not covered, f"label {text.get_text()!r} covers {len(covered)} data points"


def test_the_picture_is_written(tmp_path: Path) -> None:
    path = draw(a_nic_cut(), tmp_path / "timeline.png", "hardened/dual drop")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
