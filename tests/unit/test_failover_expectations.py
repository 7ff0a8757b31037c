"""What each failover cell is expected to do, and the bounds derived from corosync's
running timing (tests/failover/expectations.py)."""

from __future__ import annotations

import pytest

from lab.cluster import Cell
from scenarios.expectations import (
    HANDOVER_MARGIN_S,
    KILL_WINDOW_S,
    PACEMAKER_MARGIN_S,
    PAST_BOUND_S,
    PING_DETECT_S,
    SEED_LDIRECTORD_START_S,
    VRRP_MARGIN_S,
    director_killed,
    director_nic_down,
    fault_window,
    kill_window,
)

SEED = Cell("seed", "service")
HARDENED = Cell("hardened", "dual")
KEEPALIVED = Cell("fwmark", "none", "keepalived")
DEFAULTS = {"token": 3650.0, "consensus": 4380.0}  # corosync 3 defaults, three nodes
TUNED = {"token": 1650.0, "consensus": 1980.0}  # hardened: token 1000 + 650


def test_a_lost_node_is_bounded_by_token_consensus_and_pacemakers_part() -> None:
    assert director_killed(DEFAULTS, SEED).bound_s == pytest.approx(8.03 + PACEMAKER_MARGIN_S)
    assert director_killed(TUNED, HARDENED).bound_s == pytest.approx(3.63 + PACEMAKER_MARGIN_S)


def test_seed_answers_again_once_ldirectord_restored_a_real_and_hardened_at_once() -> None:
    seed = director_killed(DEFAULTS, SEED)
    assert seed.answering_s == pytest.approx(seed.bound_s + SEED_LDIRECTORD_START_S)
    assert seed.window_bound_s == seed.answering_s  # the window holds past both bounds
    hardened = director_killed(TUNED, HARDENED)
    assert hardened.answering_s == hardened.window_bound_s == hardened.bound_s
    seed_nic = director_nic_down(Cell("seed", "service"), DEFAULTS)
    assert seed_nic.answering_s == pytest.approx(seed.answering_s)
    hardened_nic = director_nic_down(Cell("hardened", "service"), DEFAULTS)
    assert hardened_nic.answering_s == hardened_nic.bound_s


@pytest.mark.parametrize("profile", ["seed", "hardened"])
def test_service_layout_recovers_as_a_lost_node_under_both_profiles(profile: str) -> None:
    expect = director_nic_down(Cell(profile, "service"), DEFAULTS)
    assert (
        expect.recovers
        and expect.bound_s == director_killed(DEFAULTS, Cell(profile, "service")).bound_s
    )


def test_seed_on_the_dual_layout_is_the_articles_bug() -> None:
    expect = director_nic_down(Cell("seed", "dual"), DEFAULTS)
    assert not expect.recovers
    # What a user would expect of a NIC failure, and no seed allowance: it never answers.
    assert expect.answering_s == expect.bound_s == director_killed(DEFAULTS, SEED).bound_s
    assert "membership and quorum do not change" in expect.why


def test_hardened_on_the_dual_layout_recovers_through_the_ping_rule() -> None:
    expect = director_nic_down(Cell("hardened", "dual"), TUNED)
    assert expect.recovers and expect.bound_s == PING_DETECT_S + HANDOVER_MARGIN_S
    assert "pingd" in expect.why


def test_a_fault_is_held_past_its_bound_by_default_and_never_less() -> None:
    assert fault_window(16.0, None) == 16.0 + PAST_BOUND_S
    assert fault_window(16.0, 60.0) == 60.0  # a longer window, as asked
    assert fault_window(16.0, 10.0) == 16.0 + PAST_BOUND_S  # never shorter than the bound
    assert kill_window(None) == KILL_WINDOW_S and kill_window(25.0) == 25.0


def test_keepalived_is_bounded_by_vrrps_master_down_interval_in_every_case() -> None:
    # advert_int 1 s: master-down 3 s + a skew under 1 s, then the margin.
    kill = director_killed({"advert_int": 1000.0}, KEEPALIVED)
    assert kill.bound_s == pytest.approx(4.0 + VRRP_MARGIN_S) and kill.answering_s == kill.bound_s
    nic = director_nic_down(KEEPALIVED, {"advert_int": 1000.0})
    assert nic.recovers and nic.bound_s == kill.bound_s and "split brain" in nic.why
