"""Timeline pictures of a failover scenario, drawn from its saved history: every prober
attempt on the lane of the node that answered it (failures on their own lane), failure
windows shaded, the fault and the heal as vertical lines, the nodes' journal events and
the gratuitous ARPs as ticks. Time is in seconds from the fault.

    python -m report.timeline reports/latest  # (re)draw every history that holds a fault
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks.availability import failure_windows
from probes.history import History
from report.paths import LATEST

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FAILED = "failed"
EVENT_COLOURS = {
    "promoting": "tab:purple",
    "membership changed": "tab:brown",
    "link down": "tab:olive",
    "quorum lost": "tab:gray",
    "ping lost": "tab:cyan",
    "weight 0": "tab:red",  # a real server quiesced by ldirectord (real-server scenarios)
    "vrrp fault": "tab:gray",  # keepalived saw its NIC go down (Entering FAULT STATE)
}
# The same event seen on several nodes within this long of the first is one label.
LABEL_GROUP_S = 1.0
# Rows of the events lane: labels of events close in time take turns.
EVENT_ROWS = 4
NODE_COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:pink", "tab:olive"]


def event_labels(
    marks: list[dict[str, Any]], within_s: float = LABEL_GROUP_S
) -> list[tuple[float, str, list[str]]]:
    """One label per kind of event and burst: the same line seen on several nodes within
    within_s of its first sighting is one label naming the nodes, at the first time (nine
    labels in 0.6 s, three kinds on three nodes, were unreadable). marks sorted by time."""
    labels: list[tuple[float, str, list[str]]] = []
    for event in marks:
        node = str(event.get("node", ""))
        for t, what, nodes in labels:
            if what == event["what"] and event["t"] - t <= within_s:
                if node not in nodes:
                    nodes.append(node)
                break
        else:
            labels.append((event["t"], event["what"], [node]))
    return labels


def fault_times(history: History) -> tuple[float | None, float | None]:
    """When the first fault was applied and when its heal began (Unix time): the
    scenario's "heal requested" event, else the heal's own record (written when it ends)."""
    applied = [r["t"] for r in history.of("nemesis") if r.get("action") == "apply"]
    healed = [e["t"] for e in history.events("heal requested")] or [
        r["t"] for r in history.of("nemesis") if r.get("action") == "heal"
    ]
    return (applied[0] if applied else None), (healed[0] if healed else None)


def figure(history: History, title: str) -> Figure:
    """The timeline of a history that holds a fault, as a matplotlib figure: an events lane
    on top (journal events' labels), the data below (one lane per answering node, failed
    attempts, GARPs; failure windows shaded and labelled above the lanes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fault_at, healed_at = fault_times(history)
    if fault_at is None:
        raise ValueError(f"{title}: the history holds no applied fault")
    attempts = history.of("prober")
    nodes = sorted({a["node"] for a in attempts if a["ok"]})
    lanes = [*nodes, FAILED, "GARP"]
    y = {lane: i for i, lane in enumerate(lanes)}
    # Labels never share a lane with data: the events' labels have an axes of their own, the
    # windows' labels rows above the top lane (the lanes are densest where both are).
    fig, (events_ax, ax) = plt.subplots(
        2, 1, sharex=True, figsize=(12, 5.2), dpi=110, gridspec_kw={"height_ratios": [1, 4]}
    )

    window_rows = [len(lanes) - 0.45 + 0.3 * row for row in range(3)]
    # Judged as the checks judge them: up to the start of the heal (what the heal brings
    # back is not a recovery); a window still open then is "never recovered".
    judged = [a for a in attempts if healed_at is None or a["t"] < healed_at]
    for i, window in enumerate(failure_windows(judged, after=fault_at)):
        end = window.end if window.end is not None else (healed_at or attempts[-1]["t"])
        ax.axvspan(window.start - fault_at, end - fault_at, color="red", alpha=0.12, lw=0)
        label = f"{window.outage_s:.2f}s" if window.outage_s is not None else "never recovered"
        # Where IPVS sent the window's failed attempts, when a director's table said so.
        label += "".join(f"; {c} sent to {n}" for n, c in sorted(window.scheduled_to.items()))
        row = window_rows[i % len(window_rows)]
        ax.text(window.start - fault_at, row, label, color="darkred", fontsize=8, va="center")
    for i, node in enumerate(nodes):
        xs = [a["t"] - fault_at for a in attempts if a["ok"] and a["node"] == node]
        colour = NODE_COLOURS[i % len(NODE_COLOURS)]
        ax.scatter(xs, [y[node]] * len(xs), s=6, marker="|", color=colour, label=node)
    failed = [a["t"] - fault_at for a in attempts if not a["ok"]]
    ax.scatter(failed, [y[FAILED]] * len(failed), s=10, marker="x", color="red", label="failed")
    garps = [r["t"] - fault_at for r in history.of("arp-sniffer") if r.get("gratuitous")]
    ax.scatter(garps, [y["GARP"]] * len(garps), s=30, marker="|", color="black")

    ax.axvline(0, color="red", lw=1.5)
    ax.text(0, -0.9, " fault", color="red", fontsize=9)
    if healed_at is not None:
        ax.axvline(healed_at - fault_at, color="green", lw=1.5)
        ax.text(healed_at - fault_at, -0.9, " heal", color="green", fontsize=9)
    marks = sorted(
        (e for e in history.of("event") if e.get("what") in EVENT_COLOURS), key=lambda e: e["t"]
    )
    for event in marks:
        # Under the data (zorder), so a dashed line never hides an attempt either.
        colour = EVENT_COLOURS[event["what"]]
        ax.axvline(event["t"] - fault_at, color=colour, lw=1, ls="--", zorder=0.5)
    for i, (t, what, seen_on) in enumerate(event_labels(marks)):
        # Labels of events close in time take turns on the rows of the events lane.
        row = EVENT_ROWS - 1 - i % EVENT_ROWS
        colour = EVENT_COLOURS[what]
        events_ax.plot([t - fault_at] * 2, [row - 0.4, row + 0.1], color=colour, lw=1)
        events_ax.text(t - fault_at, row, f" {what} ({', '.join(seen_on)})", color=colour,
                       fontsize=7, va="center", clip_on=True)  # fmt: skip
    events_ax.set_ylim(-0.6, EVENT_ROWS - 0.4)
    events_ax.set_yticks([])
    events_ax.set_ylabel("events", fontsize=8)
    events_ax.set_title(title, fontsize=10)

    ax.set_yticks(range(len(lanes)), lanes)
    ax.set_ylim(-1.1, window_rows[-1] + 0.3)
    ax.set_xlabel("seconds from the fault")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def draw(history: History, path: Path, title: str) -> Path:
    import matplotlib.pyplot as plt

    fig = figure(history, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def save(history: History, folder: Path) -> list[Path]:
    """The history as history.jsonl in folder, and its timeline.png when it holds a fault."""
    written = [history.save(folder / "history.jsonl")]
    if fault_times(history)[0] is not None and history.of("prober"):
        written.append(draw(history, folder / "timeline.png", folder.name))
    return written


def redraw(reports: Path) -> list[Path]:
    """A timeline.png beside every saved history that holds a fault."""
    drawn = []
    for saved in sorted(reports.rglob("history.jsonl")):
        history = History.load(saved)
        if fault_times(history)[0] is None or not history.of("prober"):
            continue
        drawn.append(draw(history, saved.with_name("timeline.png"), saved.parent.name))
    return drawn


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("reports", type=Path, nargs="?", default=Path("reports") / LATEST)
    args = p.parse_args(argv)
    for path in redraw(args.reports):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
