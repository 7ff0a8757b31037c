"""The failover matrix once per Debian release (make failover-matrix RELEASES="bullseye
bookworm trixie"): for each release in turn, the lab is brought up on it (a lab running
another release is taken down first; pytest brings the new one up, deploys and takes it
down again), the suites run with their reports in REPORTS/<release>/, and at the end the
scenarios' outages are tabled side by side (REPORTS/releases.md, report/releases.py).
A release whose run failed still has its column; the exit status is 1 if any failed.

Usage (as root, from the checkout):
    python -m bench.release_matrix --releases "bullseye trixie" -- <pytest arguments>
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from bench.runs import finish
from lab import control
from lab.errors import LabError
from lab.releases import find_release
from lab.shell import say
from lab.state import DEFAULT_LAB_NAME
from report.releases import read_run, table


def pytest_argv(release: str, reports: Path, extra: list[str]) -> list[str]:
    return [
        sys.executable, "-m", "pytest", f"--release={release}",
        f"--reports-root={reports / release}", *extra,
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--releases", required=True, help="space-separated Debian releases")
    p.add_argument("--reports", type=Path, default=Path("reports"))
    p.add_argument("--name", default=DEFAULT_LAB_NAME, help="the lab instance")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- then pytest's arguments")
    args = p.parse_args(argv)
    extra = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
    try:
        releases = [find_release(r).name for r in args.releases.split()]
    except LabError as exc:
        p.error(str(exc))
    if not releases:
        p.error("--releases names no release")
    failed = []
    for release in releases:
        running = control.running(args.name, "uml")
        if running is not None and running.state.release != release:
            say(f"lab {args.name} runs {running.state.release}: taking it down for {release}")
            control.down(args.name)
        say(f"{release}: the failover matrix ({', '.join(extra) or 'pytest defaults'})")
        started = time.monotonic()
        rc = subprocess.run(pytest_argv(release, args.reports, extra)).returncode
        say(f"{release}: pytest exit {rc} after {(time.monotonic() - started) / 60:.1f} min")
        if rc != 0:
            failed.append(release)
    runs = [read_run(r, args.reports / r / "latest") for r in releases]
    return finish(table(runs), args.reports / "releases.md", failed)


if __name__ == "__main__":
    sys.exit(main())
