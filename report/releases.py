"""The failover figures of one run per Debian release side by side: a scenario per row, a
release per column (the VIP answering again after the fault, or what happened instead),
under a header naming the stack each release ran. Read from each run's failover.json and
facts.json (report/html.py writes both).

Usage: python -m report.releases reports/bullseye/latest reports/bookworm/latest ...
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STACK = ("debian", "pacemaker", "corosync", "pcs", "resource-agents")


@dataclass(frozen=True)
class ReleaseRun:
    release: str
    facts: dict[str, str]
    scenarios: list[dict[str, Any]]


def read_run(release: str, reports: Path) -> ReleaseRun:
    """One release's run; a run that left no failover.json (it stopped before the report)
    has no scenarios, and every cell of its column says so."""
    facts = reports / "facts.json"
    failover = reports / "failover.json"
    return ReleaseRun(
        release,
        json.loads(facts.read_text()) if facts.exists() else {},
        json.loads(failover.read_text()) if failover.exists() else [],
    )


def cell(scenario: dict[str, Any] | None) -> str:
    """What one release did in one scenario: seconds until the VIP answered again, with the
    test's outcome when it was not a pass (an xfail is the expected failure)."""
    if scenario is None:
        return "not run"
    answering = scenario["outage"].get("answering_after_s", "-")
    figure = "never" if answering is None else f"{answering} s"
    outcome = scenario["outcome"]
    return figure if outcome == "passed" else f"{figure} ({outcome})"


def table(runs: list[ReleaseRun]) -> str:
    """A Markdown table: the stack, then one row per scenario in the order first seen."""
    rows: list[str] = []
    for run in runs:
        for s in run.scenarios:
            if s["name"] not in rows:
                rows.append(s["name"])
    head = ["scenario", *(r.release for r in runs)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in STACK:
        lines.append(
            f"| *{name}* | " + " | ".join(r.facts.get(name, "unknown") for r in runs) + " |"
        )
    for name in rows:
        by_release = [next((s for s in r.scenarios if s["name"] == name), None) for r in runs]
        lines.append(f"| {name} | " + " | ".join(cell(s) for s in by_release) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("runs", nargs="+", type=Path, help="REPORTS/<release>/<run> folders")
    args = p.parse_args(argv)
    # reports/<release>/latest: the release is the folder above the run's.
    runs = [read_run(path.resolve().parent.name, path) for path in args.runs]
    print(table(runs), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
