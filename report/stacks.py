"""The failover figures of the stacks side by side (make bench-failover): a column per
deployed cell (pacemaker/seed, pacemaker/hardened, keepalived), a row per figure: the VIP
answering again after a director kill and after each NIC-down mode, every failure window
closed after the kill, the new director's gratuitous ARP frames, held sessions kept, and
whether two nodes believed they were the director at the end of a NIC-down window (split
brain). Read from each run's verdicts (reports/<run>/*/verdicts.json).

Usage: python -m report.stacks NAME=RUN_FOLDER ...   (e.g. keepalived=reports/keepalived/latest)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NIC_MODES = ("drop", "host", "ifdown")
KILL = "director killed: VIP back elsewhere"
ANSWERING = "VIP answers again within the bound"
ALL_WINDOWS = "VIP serves again within the bound"
SESSIONS = "sessions outlive failover"
GARP_PREFIX = "gratuitous ARP from the new"
AT_END = ("one director at the end of the window", "one VRRP master on the service network")


@dataclass(frozen=True)
class StackRun:
    name: str
    verdicts: list[dict[str, Any]]


def read_run(name: str, folder: Path) -> StackRun:
    verdicts = []
    for path in sorted(folder.glob("*/verdicts.json")):
        verdicts += json.loads(path.read_text())
    return StackRun(name, verdicts)


def seconds(outage: Mapping[str, Any] | None, key: str) -> str:
    if outage is None:
        return "not run"
    value = outage.get(key)
    if value is None and outage.get("windows") == []:
        return "no attempt failed"  # the fault missed the client's path: judged unknown
    return "never" if value is None else f"{value:.2f} s"


def part(run: StackRun, name: str) -> dict[str, Any] | None:
    """The details of the check `name`: a verdict of its own, or a part of a composed one
    (the kill's every-window check is composed with one_outage). None if not run."""
    for verdict in run.verdicts:
        if verdict["name"] == name:
            return verdict["details"]
        if isinstance(verdict["details"].get(name), dict):
            return verdict["details"][name]
    return None


def nic_verdict(run: StackRun, mode: str) -> dict[str, Any] | None:
    prefix = f"NIC down ({mode}) on the director"
    return next((v for v in run.verdicts if v["name"].startswith(prefix)), None)


def directors_believed(at_end: Mapping[str, Any]) -> int:
    """How many nodes believed they directed at the end of a window: VRRP masters, or the
    distinct nodes any partition saw promoted."""
    if "states" in at_end:
        return sum(1 for state in at_end["states"].values() if state == "MASTER")
    return len({node for view in at_end["views"].values() for node in view["promoted"]})


def split_brain(run: StackRun) -> str:
    seen = []
    for mode in NIC_MODES:
        verdict = nic_verdict(run, mode)
        at_end = next(
            (verdict["details"][k] for k in AT_END if verdict and k in verdict["details"]), None
        )
        if at_end is not None:
            count = directors_believed(at_end)
            seen.append(f"{mode}: {'yes' if count > 1 else 'no'} ({count})")
    return ", ".join(seen) if seen else "not run"


def column(run: StackRun) -> dict[str, str]:
    kill = part(run, KILL)
    windows = part(run, ALL_WINDOWS)
    garp = next((v for v in run.verdicts if v["name"].startswith(GARP_PREFIX)), None)
    sessions = part(run, SESSIONS)
    cells = {
        "director killed: VIP answering again": seconds(
            kill.get(ANSWERING) if kill else None, "answering_after_s"
        ),
        "director killed: every failure window closed": seconds(windows, "recovered_after_s"),
    }
    for mode in NIC_MODES:
        verdict = nic_verdict(run, mode)
        cells[f"NIC `{mode}`: VIP answering again"] = seconds(
            verdict["details"].get(ANSWERING) if verdict else None, "answering_after_s"
        )
    cells["gratuitous ARP frames from the new director (kill)"] = (
        str(garp["details"].get("from_director", "-")) if garp else "not run"
    )
    cells["held sessions to surviving reals kept (kill)"] = (
        f"{sessions.get('answered', 0)} of {sessions.get('judged', 0)}" if sessions else "not run"
    )
    cells["split brain at the end of a NIC-down window (directors believed)"] = split_brain(run)
    return cells


def table(runs: Iterable[StackRun]) -> str:
    runs = list(runs)
    columns = [column(r) for r in runs]
    rows = list(columns[0]) if columns else []
    lines = [
        "| | " + " | ".join(r.name for r in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    lines += [f"| {row} | " + " | ".join(c[row] for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("runs", nargs="+", help="NAME=FOLDER, one per stack, in column order")
    args = p.parse_args(argv)
    runs = []
    for spec in args.runs:
        name, sep, folder = spec.partition("=")
        if not sep or not Path(folder).is_dir():
            p.error(f"{spec}: want NAME=FOLDER with FOLDER a run's report folder")
        runs.append(read_run(name, Path(folder)))
    print(table(runs), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
