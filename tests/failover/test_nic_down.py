"""The director's service NIC goes down, each way the backend can cut it, on the cluster as
deployed (its profile and corosync layout read back from the nodes). The cell decides what
is expected: the VIP back elsewhere within the cell's bound, or, on seed + dual (the
article's NIC-down bug), never: a strict xfail whose reason is the mechanism, so the day it
starts passing the suite says so. docs/nic-down.md explains each cell."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from checks.verdict import Verdict
from scenarios.runner import FaultRun

pytestmark = [pytest.mark.lab, pytest.mark.disruptive]


def test_vip_comes_back_when_the_directors_nic_goes_down(
    director: str,
    nic_down_on_director: Callable[[str], tuple[FaultRun, Verdict]],
    judge: Callable[[Verdict], Verdict],
    nic_mode: str,
) -> None:
    _, verdict = nic_down_on_director(nic_mode)
    judge(verdict)
    assert verdict.valid is True, verdict
