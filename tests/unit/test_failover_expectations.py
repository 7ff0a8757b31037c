"""What each failover cell is expected to do, and the bounds derived from corosync's
running timing (tests/failover/expectations.py)."""

from __future__ import annotations

import pytest

from lab.cluster import Deployed
from tests.failover.expectations import (
    HANDOVER_MARGIN_S,
    PACEMAKER_MARGIN_S,
    PING_DETECT_S,
    director_killed,
    director_nic_down,
)

DEFAULTS = {"token": 3650.0, "consensus": 4380.0}  # corosync 3 defaults, three nodes
TUNED = {"token": 1650.0, "consensus": 1980.0}  # hardened: token 1000 + 650


def test_a_lost_node_is_bounded_by_token_consensus_and_pacemakers_part() -> None:
    assert director_killed(DEFAULTS).bound_s == pytest.approx(8.03 + PACEMAKER_MARGIN_S)
    assert director_killed(TUNED).bound_s == pytest.approx(3.63 + PACEMAKER_MARGIN_S)


@pytest.mark.parametrize("profile", ["seed", "hardened"])
def test_service_layout_recovers_as_a_lost_node_under_both_profiles(profile: str) -> None:
    expect = director_nic_down(Deployed(profile, "service"), DEFAULTS)
    assert expect.recovers and expect.bound_s == director_killed(DEFAULTS).bound_s


def test_seed_on_the_dual_layout_is_the_articles_bug() -> None:
    expect = director_nic_down(Deployed("seed", "dual"), DEFAULTS)
    assert not expect.recovers
    assert expect.bound_s == director_killed(DEFAULTS).bound_s  # what a user would expect
    assert "membership and quorum do not change" in expect.why


def test_hardened_on_the_dual_layout_recovers_through_the_ping_rule() -> None:
    expect = director_nic_down(Deployed("hardened", "dual"), TUNED)
    assert expect.recovers and expect.bound_s == PING_DETECT_S + HANDOVER_MARGIN_S
    assert "pingd" in expect.why
