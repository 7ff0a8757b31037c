"""docs/figures.md from saved reports: for each run folder, what it ran against, its
outcomes, the suites' time, the first deploy's time, and each failover scenario's outage;
then the benches' tables where their outputs are saved beside the runs. Every figure in it
comes from a saved record, with the folder it was read from.

    python -m report.figures reports/20261205-170102 [more runs ...] > docs/figures.md
    make figures RUNS="reports/<run> ..."
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from report.html import junit_rows, outage_figures
from report.paths import folder_name

FACTS = ("lab", "deployed (at the start of the run)", "release", "pacemaker", "corosync")
OUTAGES = ("answering_after_s", "recovered_after_s", "balanced_again_s")
HEADINGS = ("answering again (s)", "recovered (s)", "balanced again (s)")
BENCHES = ("stacks.md", "releases.md")


def seconds(value: Any) -> str:
    if value is None:
        return "never"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def run_section(run: Path) -> list[str]:
    """One run's figures as markdown lines; a folder without JUnit XML says so."""
    lines = [f"## Run `{run.name}`", ""]
    junit = run / "junit.xml"
    if not junit.exists():
        return [*lines, "No JUnit XML in this folder: nothing to report.", ""]
    rows = junit_rows(junit)
    facts = json.loads((run / "facts.json").read_text()) if (run / "facts.json").exists() else {}
    for key in FACTS:
        if key in facts:
            lines.append(f"- {key}: {facts[key]}")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.outcome] = counts.get(row.outcome, 0) + 1
    outcomes = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    lines.append(f"- tests: {outcomes}; {sum(r.seconds for r in rows) / 60:.1f} min in tests")
    tasks = run / "deploy-tasks.json"
    if tasks.exists():
        deployed = json.loads(tasks.read_text()).get("seconds")
        if deployed is not None:
            lines.append(f"- the last deploy before or in the run: {deployed:.0f} s")
    scenarios = []
    for row in rows:
        verdicts = run / folder_name(row.nodeid) / "verdicts.json" if row.nodeid else None
        if verdicts is None or not verdicts.exists():
            continue
        for verdict in json.loads(verdicts.read_text()):
            found = outage_figures(verdict["details"])
            if "answering_after_s" in found:
                scenarios.append((verdict["name"], row.outcome, found))
    if scenarios:
        lines += [
            "",
            "| scenario | outcome | answering again (s) | recovered (s) | balanced again (s) |",
        ]
        lines.append("|---|---|---|---|---|")
        for name, outcome, found in scenarios:
            cells = " | ".join(seconds(found.get(k, "-")) for k in OUTAGES)
            lines.append(f"| {name} | {outcome} | {cells} |")
    return [*lines, ""]


def figures(runs: list[Path]) -> str:
    if not runs:
        raise ValueError("no run folders given")
    missing = [str(r) for r in runs if not r.is_dir()]
    if missing:
        raise ValueError(f"not a run folder: {', '.join(missing)}")
    shown = " ".join(str(r) for r in runs)
    lines = [
        "# Figures",
        "",
        "Generated from saved reports by `python -m report.figures "
        f"{shown}`; each section names the run folder it was read from. Timings are of",
        "the 2-core machine the runs were made on, as measured, not bounds.",
        "",
    ]
    for run in runs:
        lines += run_section(run.resolve())
    for root in sorted({r.resolve().parent for r in runs}):
        for bench in BENCHES:
            if (root / bench).exists():
                lines += [f"## `{bench}` ({root})", "", (root / bench).read_text().strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("runs", type=Path, nargs="+", help="run folders (reports/<date-time>)")
    p.add_argument("--out", type=Path, help="write here instead of stdout")
    args = p.parse_args(argv)
    try:
        text = figures(args.runs)
    except ValueError as exc:
        print(f"report.figures: error: {exc}", file=sys.stderr)
        return 1
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
