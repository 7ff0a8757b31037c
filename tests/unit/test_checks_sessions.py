from __future__ import annotations

from checks.sessions import (
    held_sessions_answer,
    lc_count_reaching_every_node,
    lc_short_connection_counts,
    lc_spread,
    least_connection,
    sessions_outlive_failover,
    spread,
)
from checks.verdict import Verdict, compose


def test_lc_placement_on_a_least_loaded_node_is_valid() -> None:
    placements = [
        {"node": "node1", "active": {"node1": 0, "node2": 0, "node3": 0}},
        {"node": "node3", "active": {"node1": 1, "node2": 0, "node3": 0}},
        {"node": "node2", "active": {"node1": 1, "node2": 0, "node3": 1}},
    ]
    verdict = least_connection(placements)
    assert verdict.valid is True, verdict
    assert verdict.details["per_node"] == {"node1": 1, "node3": 1, "node2": 1}


def test_lc_placement_on_a_busier_node_or_a_failed_open_is_invalid() -> None:
    busier = [{"node": "node1", "active": {"node1": 1, "node2": 0}}]
    assert least_connection(busier).valid is False
    failed = [{"node": None, "active": {"node1": 0}}]
    assert least_connection(failed).valid is False
    assert least_connection([]).valid is None


def test_held_sessions() -> None:
    good = [{"id": 0, "ok": True, "node": "node1", "held_by": "node1"}]
    assert held_sessions_answer(good).valid is True
    moved = [*good, {"id": 1, "ok": False, "node": "node3", "held_by": "node2"}]
    verdict = held_sessions_answer(moved)
    assert verdict.valid is False and verdict.details["failures"][0]["held_by"] == "node2"
    assert held_sessions_answer([]).valid is None


def ping(session: int, held_by: str, ok: bool) -> dict:
    record = {"id": session, "held_by": held_by, "ok": ok, "node": held_by if ok else None}
    return record if ok else {**record, "error": "ConnectionResetError: [Errno 104]"}


def test_sessions_to_surviving_reals_must_answer_after_a_failover() -> None:
    pings = [ping(0, "node1", False), ping(1, "node2", True), ping(2, "node3", True)]
    verdict = sessions_outlive_failover(pings, lost_node="node1")
    assert verdict.valid is True, verdict
    assert verdict.details["to_the_lost_node"] == 1 and verdict.details["judged"] == 2


def test_a_reset_session_to_a_surviving_real_fails_the_check() -> None:
    pings = [ping(0, "node1", False), ping(1, "node2", True), ping(2, "node3", False)]
    verdict = sessions_outlive_failover(pings, lost_node="node1")
    assert verdict.valid is False
    assert verdict.details["failures"] == [
        {"id": 2, "held_by": "node3", "node": None, "error": "ConnectionResetError: [Errno 104]"}
    ]


def test_sessions_only_to_the_lost_node_judge_nothing() -> None:
    assert sessions_outlive_failover([ping(0, "node1", False)], lost_node="node1").valid is None
    assert sessions_outlive_failover([], lost_node="node1").valid is None


def test_spread() -> None:
    nodes = ["node1", "node2", "node3"]
    assert spread(nodes * 2, nodes, max_skew=0).valid is True
    assert spread(["node1", "node2", "node1"], nodes, max_skew=2).valid is False  # node3 missed
    assert spread([*nodes, None], nodes, max_skew=1).valid is False
    assert spread(["node1"] * 3 + ["node2", "node3"], nodes, max_skew=1).valid is False
    unexpected = spread(nodes, ["node1", "node2"], max_skew=1)
    assert unexpected.valid is False and "reached ['node3']" in unexpected.problems[0]


def test_compose_and_summary() -> None:
    ok = Verdict.judge("a", [], {"n": 1})
    bad = Verdict.judge("b", ["broke"], {})
    unknown = Verdict.unknown("c", "no data")
    assert compose("all", [ok, ok]).valid is True
    assert compose("all", [ok, unknown]).valid is None
    both = compose("all", [unknown, bad])
    assert both.valid is False and both.problems == ("c: no data", "b: broke")
    twice = compose("moves", [ok, bad, ok])
    assert list(twice.details) == ["a #1", "b", "a #2"]
    assert "b: INVALID\n  - broke" in str(bad)
    assert bad.to_json() == {"name": "b", "valid": False, "problems": ["broke"], "details": {}}


def test_lc_fills_the_emptiest_nodes_first_then_rotates() -> None:
    assert lc_short_connection_counts({"a": 0, "b": 0, "c": 0}, 30) == {"a": 10, "b": 10, "c": 10}
    assert lc_short_connection_counts({"a": 6, "b": 0, "c": 0}, 15) == {"a": 1, "b": 7, "c": 7}
    assert lc_short_connection_counts({"a": 20, "b": 0, "c": 0}, 10) == {"a": 0, "b": 5, "c": 5}


def test_lc_count_reaching_every_node_levels_the_leftovers_first() -> None:
    # The CI run where nc never reached node2: 30 connections against {7, 20, 3} all
    # went to node1 and node3; lc needs 30 to level them, then 10 each.
    before = {"node1": 7, "node2": 20, "node3": 3}
    assert lc_short_connection_counts(before, 30)["node2"] == 0
    count = lc_count_reaching_every_node(before, each=10)
    assert count == 60
    assert min(lc_short_connection_counts(before, count).values()) >= 10
    assert lc_count_reaching_every_node({"a": 4, "b": 4}, each=3) == 6
    assert lc_count_reaching_every_node({}, each=10) == 0


def test_lc_spread_against_leftover_entries() -> None:
    before = {"node1": 6, "node2": 0, "node3": 0}
    answers = ["node2", "node3"] * 6 + ["node1", "node2", "node3"]
    assert lc_spread(answers, before, tolerance=0).valid is True
    even = ["node1", "node2", "node3"] * 5  # what a round-robin would do: not lc here
    verdict = lc_spread(even, before, tolerance=1)
    assert verdict.valid is False and "differ from lc's" in verdict.problems[0]
    assert lc_spread([*answers[:-1], None], before, tolerance=2).valid is False
    assert lc_spread([*answers[:-1], "node9"], before, tolerance=2).valid is False


def test_lc_spread_allows_what_expired_entries_explain_and_no_more() -> None:
    # The hosts run's failure: node3 took 5 in a row when its older entries expired.
    before = {"node1": 35, "node2": 35, "node3": 34}
    answers = ["node3", "node1", "node2"] * 7 + ["node3"] * 5 + ["node2", "node3", "node1", "node2"]
    assert lc_spread(answers, before, tolerance=2).valid is False  # 13 against lc's 10
    four_expired = {"node1": 35 + 8, "node2": 35 + 9, "node3": 34 + 13 - 4}
    verdict = lc_spread(answers, before, tolerance=2, entries_after=four_expired)
    assert verdict.valid is True, verdict
    assert verdict.details["expired_meanwhile"] == {"node1": 0, "node2": 0, "node3": 4}
    # Expiries on node1 do not excuse an excess on node3.
    elsewhere = {"node1": 35 + 8 - 4, "node2": 35 + 9, "node3": 34 + 13}
    assert lc_spread(answers, before, tolerance=2, entries_after=elsewhere).valid is False


def test_nothing_to_judge_is_unknown_never_valid() -> None:
    from checks.sessions import lc_spread, spread
    from checks.verdict import compose

    assert compose("nothing", []).valid is None
    assert lc_spread([], {"node1": 0}, tolerance=1).valid is None
    assert lc_spread(["node1"], {}, tolerance=1).valid is None
    assert spread([], [], max_skew=0).valid is None
    assert spread([], ["node1"], max_skew=0).valid is None
