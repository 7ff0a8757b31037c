"""A lab instance of its own for the tests of the lab itself (and of the agent outside a
cluster), so they never disturb a lab the suites are using. Booted once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.prerequisites import require
from lab import control
from lab.control import Lab
from lab.selftest import INSTANCE, INVENTORY


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    uml = request.config.getoption("--lab") == "uml"
    require(request.config, uml, "these tests drive the UML backend directly (--lab=uml)")
    control.down(INSTANCE)  # leftovers of an interrupted run
    lab = control.up(INVENTORY, name=INSTANCE, backend="uml")
    yield lab
    control.down(INSTANCE)
