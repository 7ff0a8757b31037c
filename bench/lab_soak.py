"""Soak of the lab itself (no cluster): N cycles of up -> kill and start each node -> NIC
down and up in every mode -> down, counting what is left on the host after each cycle
(processes, namespaces, links, run dirs, ssh masters, memory files): 0 is the promise.
Figures per cycle (up, each node's boot, each NIC mode's loss and return, down, the cycle)
in reports/lab-soak.json and a table on stdout. Exits 1 if a cycle failed or left anything.

Usage (as root, from the checkout): python -m bench.lab_soak [--cycles 10]   (make soak)
Runs on a lab of its own (lvslab-soak), never the one the suites use."""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from lab import control, faults, leftovers
from lab.control import Lab
from lab.errors import LabError
from lab.selftest import EFFECT_S, INVENTORY, service_answers
from lab.state import lab_dir
from lab.waiting import until

Row = dict[str, Any]


def seconds(fn: Any) -> float:
    started = time.monotonic()
    fn()
    return round(time.monotonic() - started, 2)


def exercise(lab: Lab, row: Row) -> None:
    """Every fault the lab offers, on a live lab, each healed; figures into row."""
    for node in (n.name for n in lab.nodes):
        kill = faults.NodeKill(lab)
        kill.apply(node)
        row["boot_s"][node] = seconds(lambda n=node, k=kill: k.heal(n))
    names = [n.name for n in lab.nodes]
    for mode, node in zip(sorted(faults.NIC_MODES), itertools.cycle(names)):
        fault = faults.nic_fault(lab, mode)
        fault.apply(node)
        try:
            lost = until(
                f"{mode} on {node}: service lost",
                lambda n=node: not service_answers(lab, n),
                EFFECT_S,
            )
        finally:
            fault.heal(node)
        back = until(
            f"{mode} on {node}: service back", lambda n=node: service_answers(lab, n), EFFECT_S
        )
        row["nic"][mode] = {"node": node, "lost_s": round(lost, 2), "back_s": round(back, 2)}


def one_cycle(name: str) -> Row:
    row: Row = {"boot_s": {}, "nic": {}, "error": None}
    started = time.monotonic()
    try:
        lab = control.up(INVENTORY, name=name, backend="uml")
        row["up_s"] = round(time.monotonic() - started, 2)
        exercise(lab, row)
    except LabError as exc:
        row["error"] = str(exc)
    finally:
        # Always down, and count what down left: the count is the soak's point.
        row["down_s"] = seconds(lambda: control.down(name))
        row["left"] = {k: v for k, v in leftovers.of_lab(name, lab_dir(name)).items() if v}
        row["cycle_s"] = round(time.monotonic() - started, 1)
    return row


def table(rows: list[Row]) -> str:
    modes = sorted(faults.NIC_MODES)
    head = f"{'#':>3} {'up':>6} {'boots (s)':>20} " + " ".join(f"{m:>11}" for m in modes)
    lines = [head + f" {'down':>5} {'cycle':>6} {'left':>4}  error"]
    for i, r in enumerate(rows, 1):
        boots = "/".join(f"{s:.1f}" for s in r["boot_s"].values())
        nic = " ".join(
            f"{r['nic'][m]['lost_s']:>5.1f}/{r['nic'][m]['back_s']:<5.1f}"
            if m in r["nic"]
            else f"{'-':>11}"
            for m in modes
        )
        left = leftovers.count(r["left"])
        lines.append(
            f"{i:>3} {r.get('up_s', '-')!s:>6} {boots:>20} {nic} {r['down_s']:>5} "
            f"{r['cycle_s']:>6} {left:>4}  {r['error'] or ''}"
        )
    return "\n".join(lines)


def summary(rows: list[Row]) -> dict[str, Any]:
    boots = [s for r in rows for s in r["boot_s"].values()]
    return {
        "cycles": len(rows),
        "failed_cycles": sum(1 for r in rows if r["error"]),
        "leftovers_total": sum(leftovers.count(r["left"]) for r in rows),
        "cycle_median_s": statistics.median(r["cycle_s"] for r in rows) if rows else None,
        "boot_median_s": round(statistics.median(boots), 2) if boots else None,
        "boot_max_s": max(boots) if boots else None,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cycles", type=int, default=10)
    p.add_argument("--name", default="lvslab-soak")
    p.add_argument("--reports", type=Path, default=Path("reports"))
    args = p.parse_args(argv)
    if not 1 <= args.cycles <= 50:
        p.error("--cycles must be 1..50 (each takes about a minute)")
    control.down(args.name)  # an interrupted soak's leftovers are not this soak's
    rows = []
    for i in range(args.cycles):
        rows.append(one_cycle(args.name))
        print(f"cycle {i + 1}/{args.cycles}: {json.dumps(rows[-1])}", flush=True)
    result = {"summary": summary(rows), "cycles": rows}
    out = args.reports / "lab-soak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(
        "\nNIC columns: seconds until the service IP was lost / back after the heal (a probe"
        " waits up to 2 s for an answer, so a cut reads as lost after ~2 s)"
    )
    print(table(rows))
    print(json.dumps(result["summary"]))
    print(f"results: {out}")
    ok = result["summary"]["failed_cycles"] == 0 and result["summary"]["leftovers_total"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
