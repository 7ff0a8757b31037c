"""Where a run's records go: reports/<run>/ (reports/latest points at the newest), and in
it one folder per test, named after its pytest node id."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

LATEST = "latest"


def folder_name(nodeid: str) -> str:
    """
    >>> folder_name("tests/failover/test_nic_down.py::test_vip_comes_back[drop]")
    'tests_failover_test_nic_down.py__test_vip_comes_back_drop'
    """
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.replace("::", "__")).strip("_")


def new_run_dir(root: Path, now: datetime | None = None) -> Path:
    """A fresh folder for one run's records under root, named by its start time (a suffix
    when two runs start in the same second); not created here."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    run, n = root / stamp, 1
    while run.exists():
        n += 1
        run = root / f"{stamp}-{n}"
    return run


def mark_latest(run: Path) -> Path:
    """Point <root>/latest at run (relative, replaced in one rename: never missing)."""
    link = run.parent / LATEST
    spare = run.parent / f".{LATEST}.{os.getpid()}"
    spare.unlink(missing_ok=True)
    spare.symlink_to(run.name)
    os.replace(spare, link)
    return link
