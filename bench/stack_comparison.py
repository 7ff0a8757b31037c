"""The failover figures of the stacks side by side (make bench-failover): on the running lab,
each stack cell is deployed in place in turn (pacemaker/seed = the article on its corosync
layout; pacemaker/hardened = the fixes on the layout where the NIC-down bug lives;
keepalived = VRRP with its fwmark rules), the director-kill suite and the NIC-down suite
(every mode) run against it with their reports in REPORTS/stacks/<cell>/, and the cells'
figures are tabled side by side (REPORTS/stacks.md, report/stacks.py). The cell deployed
at the start is deployed again at the end. The exit status is 1 if any run failed (a
strict xfail is a pass: seed's known flaws are expected).

Usage (as root, from the checkout, with the lab up):
    python -m bench.stack_comparison [--reports reports] [--name lvslab]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.runs import finish
from lab import deploy
from lab.cluster import deployed_cell
from lab.control import Lab
from lab.errors import LabError
from lab.shell import say
from lab.state import DEFAULT_LAB_NAME
from report.stacks import read_run, table

SUITES = ("tests/failover/test_director_kill.py", "tests/failover/test_nic_down.py")


@dataclass(frozen=True)
class StackCell:
    name: str  # the table's column
    slug: str  # the reports folder
    settings: deploy.DeploySettings


CELLS = (
    StackCell("pacemaker/seed", "pacemaker-seed", deploy.DeploySettings("seed", "service")),
    StackCell(
        "pacemaker/hardened", "pacemaker-hardened", deploy.DeploySettings("hardened", "dual")
    ),
    StackCell("keepalived", "keepalived", deploy.DeploySettings(stack="keepalived")),
)


def pytest_argv(cell: StackCell, reports: Path, lab_name: str) -> list[str]:
    return [
        sys.executable, "-m", "pytest", "--require-lab", f"--lab-name={lab_name}",
        "--nic-modes=all", f"--stack={cell.settings.stack}",
        f"--reports-root={reports / 'stacks' / cell.slug}", *SUITES,
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--reports", type=Path, default=Path("reports"))
    p.add_argument("--name", default=DEFAULT_LAB_NAME, help="the lab instance (running)")
    args = p.parse_args(argv)
    try:
        lab = Lab.find(args.name)
        found = deployed_cell(lab)
    except LabError as exc:
        p.error(f"{exc} (make lab-up first)")
    failed = []
    try:
        for cell in CELLS:
            say(f"{cell.name}: deploying in place")
            deploy.deploy(lab, settings=cell.settings)
            started = time.monotonic()
            rc = subprocess.run(pytest_argv(cell, args.reports, args.name)).returncode
            say(f"{cell.name}: pytest exit {rc} after {(time.monotonic() - started) / 60:.1f} min")
            if rc != 0:
                failed.append(cell.name)
    finally:
        if found is not None:
            say(f"deploying {found.name} again, as found")
            deploy.deploy(lab, settings=found.settings())
    runs = [read_run(c.name, args.reports / "stacks" / c.slug / "latest") for c in CELLS]
    return finish(table(runs), args.reports / "stacks.md", failed)


if __name__ == "__main__":
    sys.exit(main())
