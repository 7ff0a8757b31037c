"""pytest wiring shared by every suite: options, and the gate for tests that need a lab.

Tests marked `lab` need root and the chosen backend's tools. Without them they skip with the
reason, except under --require-lab (CI, make check), where a missing prerequisite fails."""

from __future__ import annotations

import os
import shutil

import pytest

from lab.backends import BACKENDS
from lab.state import DEFAULT_LAB_NAME


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lvs-ha-lab")
    group.addoption("--lab", choices=sorted(BACKENDS), default="uml", help="lab backend")
    group.addoption(
        "--lab-name",
        default=os.environ.get("LVSLAB_NAME", DEFAULT_LAB_NAME),
        help="the lab instance the suites run against",
    )
    group.addoption(
        "--require-lab",
        action="store_true",
        help="fail, instead of skipping, lab tests whose prerequisites are missing",
    )


def lab_prerequisite_problem(backend: str) -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    if backend == "uml" and shutil.which("linux.uml") is None:
        return "needs Debian's user-mode-linux (make setup)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problem = lab_prerequisite_problem(config.getoption("--lab"))
    if problem is None:
        return
    lab_items = [item for item in items if "lab" in item.keywords]
    if lab_items and config.getoption("--require-lab"):
        raise pytest.UsageError(f"--require-lab: {len(lab_items)} lab tests, but the lab {problem}")
    for item in lab_items:
        item.add_marker(pytest.mark.skip(reason=f"lab test {problem}"))
