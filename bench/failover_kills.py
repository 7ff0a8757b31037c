"""Director kills, N times, on the deployed cluster as it is: per kill, when the VIP answered
again, when the last failure window closed, how many attempts failed after the VIP first
answered again (the second outage), and when connections spread over every live node
again. Figures, not asserts; a table on stdout and JSON in reports/failover-kills.json.

Usage (as root, lab up and deployed, from the checkout):
    python -m bench.failover_kills [--kills 10]        (or: make bench-kills KILLS=10)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from pathlib import Path

from checks.availability import balanced_again, failure_windows
from lab.cluster import ClusterReader, actions, open_cluster
from lab.control import Lab
from lab.faults import NodeKill
from probes.history import History
from report import timeline
from scenarios.runner import run_fault


def one_kill(lab: Lab, cluster: ClusterReader, hold_s: float, folder: Path) -> dict[str, object]:
    director, _ = actions.settle(cluster)
    history = History()
    run = run_fault(lab, cluster, history, NodeKill(lab), director, hold_s=hold_s)
    timeline.save(history, folder)
    attempts = run.attempts_until_heal()
    windows = failure_windows(attempts, after=run.fault_at)
    closed = [w for w in windows if w.end is not None]
    live = [n.name for n in lab.nodes if n.name != director]
    return {
        "killed": director,
        "answering_again_s": round(closed[0].end - run.fault_at, 2) if closed else None,
        "recovered_s": round(windows[-1].end - run.fault_at, 2)
        if windows and windows[-1].end
        else None,
        "windows": len(windows),
        "failed_after_first_recovery": sum(w.failed for w in windows[1:]),
        # Where IPVS sent them (the director's connection table): the dead real, or not.
        "failed_after_first_recovery_sent_to": dict(
            sum((Counter(w.scheduled_to) for w in windows[1:]), Counter())
        ),
        "balanced_again_s": balanced_again(attempts, fault_at=run.fault_at, nodes=live),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--kills", type=int, default=10)
    p.add_argument("--hold", type=float, default=35.0, help="s each node stays dead")
    p.add_argument("--name", default="lvslab")
    p.add_argument("--reports", type=Path, default=Path("reports"))
    args = p.parse_args(argv)
    if not 1 <= args.kills <= 50:
        p.error("--kills must be 1..50 (each takes ~2 min)")
    lab = Lab.find(args.name)
    cluster = open_cluster(lab)
    cell = cluster.deployed_cell()
    rows = []
    for i in range(args.kills):
        folder = args.reports / "failover-kills" / f"kill-{i + 1:02d}"
        rows.append(one_kill(lab, cluster, args.hold, folder))
        print(json.dumps(rows[-1]), flush=True)
    actions.settle(cluster)
    answering = [r["answering_again_s"] for r in rows if r["answering_again_s"] is not None]
    result = {
        "cell": cell.name if cell else None,
        "kills": rows,
        "answering_again_median_s": statistics.median(answering) if answering else None,
        "failed_after_first_recovery_total": sum(r["failed_after_first_recovery"] for r in rows),
    }
    out = args.reports / "failover-kills.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\ncell {result['cell']}: {len(rows)} kills")
    print(f"{'#':>3} {'killed':7} {'answering':>9} {'recovered':>9} {'windows':>7} "
          f"{'failed after':>12} {'balanced':>8}")  # fmt: skip
    for i, r in enumerate(rows, 1):
        print(
            f"{i:>3} {r['killed']:7} {r['answering_again_s']!s:>9} {r['recovered_s']!s:>9} "
            f"{r['windows']:>7} {r['failed_after_first_recovery']:>12} "
            f"{r['balanced_again_s']!s:>8}"
        )
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
