"""The failover figures of one run per Debian release side by side: a scenario per row, a
release per column (the VIP answering again after the fault, or what happened instead),
under a header naming the stack each release ran. Read from each run's failover.json and
facts.json (report/html.py writes both).

Usage: python -m report.releases reports/bullseye/latest reports/bookworm/latest ...
       (a run's release is the folder above it, or say it: bookworm=reports/20261129-203642)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The facts each column starts with: what was run, and on which cell the scenarios that do
# not switch cells (the first ones) ran.
STACK = {
    "debian": "debian",
    "pacemaker": "pacemaker",
    "corosync": "corosync",
    "pcs": "pcs",
    "resource-agents": "resource-agents",
    "deployed cell": "deployed (at the start of the run)",
}


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
    outage = scenario["outage"]
    if "answering_after_s" not in outage:
        figure = "-"  # a scenario judged by other figures (a real server's, say)
    elif outage["answering_after_s"] is None:
        figure = "never"
    else:
        figure = f"{outage['answering_after_s']} s"
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
    for label, fact in STACK.items():
        lines.append(
            f"| *{label}* | " + " | ".join(r.facts.get(fact, "unknown") for r in runs) + " |"
        )
    for name in rows:
        by_release = [next((s for s in r.scenarios if s["name"] == name), None) for r in runs]
        lines.append(f"| {name} | " + " | ".join(cell(s) for s in by_release) + " |")
    return "\n".join(lines) + "\n"


def named_run(argument: str) -> tuple[str, Path]:
    """RELEASE=FOLDER, or REPORTS/<release>/<run> (the release is the folder above)."""
    release, sep, folder = argument.partition("=")
    if sep:
        return release, Path(folder)
    path = Path(argument)
    return path.resolve().parent.name, path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("runs", nargs="+", help="REPORTS/<release>/<run> or RELEASE=FOLDER")
    args = p.parse_args(argv)
    runs = [read_run(*named_run(argument)) for argument in args.runs]
    print(table(runs), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
