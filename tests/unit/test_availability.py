"""The availability check on hand-made prober histories."""

from __future__ import annotations

import pytest

from checks.availability import (
    answering_again,
    attribute,
    availability,
    balanced_again,
    failure_windows,
    failures_only_sent_to,
    one_outage,
)

FAULT = 100.0


def attempts(pattern: str, start: float = 99.0, period: float = 0.05) -> list[dict]:
    """One attempt per character: '.' answered by node1, 'x' failed (timeout), '2' node2."""
    out = []
    for i, c in enumerate(pattern):
        t = round(start + i * period, 3)
        if c == "x":
            out.append({"t": t, "ok": False, "node": None, "error": "timeout"})
        else:
            out.append({"t": t, "ok": True, "node": "node2" if c == "2" else "node1"})
    return out


def test_one_window_closes_at_the_first_attempt_of_the_settling_run() -> None:
    history = attempts("....." + "x" * 10 + "22222")
    (window,) = failure_windows(history, settle=5)
    assert window.start == 99.25 and window.end == 99.75 and window.failed == 10
    assert window.outage_s == 0.5
    assert window.errors == {"timeout": 10}


def test_failures_separated_by_fewer_than_settle_successes_are_one_window() -> None:
    history = attempts("x2xx22xx2222")
    assert [w.failed for w in failure_windows(history, settle=3)] == [5]
    assert [w.failed for w in failure_windows(history, settle=2)] == [3, 2]


def test_a_window_that_never_closes_has_no_end() -> None:
    (window,) = failure_windows(attempts("...xxx22"), settle=3)
    assert window.end is None and window.outage_s is None


def test_attempts_before_the_fault_are_not_windows() -> None:
    history = attempts("x....", start=90) + attempts("xx22222", start=FAULT)
    windows = failure_windows(history, after=FAULT)
    assert len(windows) == 1 and windows[0].start == FAULT


def test_every_window_after_the_fault_counts_and_the_last_decides_the_bound() -> None:
    # The VIP moves (first window), then lc feeds the dead real (second window, later).
    history = attempts("....", start=99) + attempts("xxxx22222", start=FAULT)
    history += attempts("222xx22222", start=FAULT + 20)
    verdict = availability(history, fault_at=FAULT, bound_s=10)
    assert verdict.valid is False
    assert "2 failure window(s)" in verdict.problems[0]
    assert verdict.details["answering_after_s"] == 0.2
    assert verdict.details["recovered_after_s"] == 20.25
    assert verdict.details["failed_after_fault"] == 6
    assert availability(history, fault_at=FAULT, bound_s=25).valid is True


def test_never_recovered_is_its_own_outcome() -> None:
    history = attempts("....") + attempts("xxxxxxxx", start=FAULT)
    verdict = availability(history, fault_at=FAULT, bound_s=60)
    assert verdict.valid is False and verdict.problems[0].startswith("never recovered")


def test_no_window_at_all_is_valid_and_says_so() -> None:
    verdict = availability(
        attempts("....") + attempts("22222", start=FAULT), fault_at=FAULT, bound_s=5
    )
    assert verdict.valid is True and verdict.details["windows"] == []


@pytest.mark.parametrize(
    ("history", "why"),
    [
        ([], "no answered attempt before the fault"),
        (attempts("xxxx", start=90) + attempts("2222", start=FAULT), "no answered attempt"),
        (attempts("....", start=90), "no attempt after the fault"),
    ],
)
def test_nothing_to_judge_is_unknown(history: list[dict], why: str) -> None:
    verdict = availability(history, fault_at=FAULT, bound_s=10)
    assert verdict.valid is None and why in verdict.problems[0]


def test_answering_again_judges_the_first_window_and_reports_the_rest() -> None:
    history = attempts("....", start=99) + attempts("xxxx22222", start=FAULT)
    history += attempts("222xx22222", start=FAULT + 20)
    verdict = answering_again(history, fault_at=FAULT, bound_s=10)
    assert verdict.valid is True and len(verdict.details["windows"]) == 2
    assert answering_again(history, fault_at=FAULT, bound_s=0.1).valid is False
    never = attempts("....", start=99) + attempts("xxxx", start=FAULT)
    assert "never answered again" in answering_again(never, fault_at=FAULT, bound_s=9).problems[0]
    assert answering_again([], fault_at=FAULT, bound_s=9).valid is None


def test_a_fault_on_the_clients_path_that_failed_nothing_is_unknown() -> None:
    """The director's fault must fail some attempts (the VIP moves): none failed means the
    client's packets went another way (keepalived: a backup it still had in its ARP
    cache), and the scenario judged nothing."""
    untouched = attempts("....", start=99) + attempts("2222222222", start=FAULT)
    for check in (availability, answering_again):
        assert check(untouched, fault_at=FAULT, bound_s=9).valid is True  # a real's fault
        verdict = check(untouched, fault_at=FAULT, bound_s=9, on_the_path=True)
        assert verdict.valid is None and "missed it" in verdict.problems[0]
        hit = attempts("....", start=99) + attempts("xxx22222", start=FAULT)
        assert check(hit, fault_at=FAULT, bound_s=9, on_the_path=True).valid is True


def test_one_outage_fails_a_second_window_even_inside_the_bound() -> None:
    once = attempts("....", start=99) + attempts("xxxx22222", start=FAULT)
    assert one_outage(once, fault_at=FAULT).valid is True
    # seed on Debian 11: answering again, then a second outage that ends inside the bound
    twice = once + attempts("222xxxxxx22222", start=FAULT + 15)
    assert availability(twice, fault_at=FAULT, bound_s=20).valid is True
    verdict = one_outage(twice, fault_at=FAULT)
    assert verdict.valid is False
    assert "6 attempts failed in 1 more window(s)" in verdict.problems[0]
    assert "the first from +15.15s" in verdict.problems[0]
    assert one_outage(attempts("....", start=90), fault_at=FAULT).valid is None


def test_a_stray_failure_after_answering_again_is_reported_not_an_outage() -> None:
    # hardened, once: one refused attempt 4.6 s after the VIP answered again
    stray = attempts("....", start=99) + attempts("xxxx22222", start=FAULT)
    refused = attempts("222x22222", start=FAULT + 8)
    refused[3] = {**refused[3], "error": "refused"}  # not a lone timeout: a failure
    stray += refused
    verdict = one_outage(stray, fault_at=FAULT)
    assert verdict.valid is True and verdict.details["stray_failures"] == 1


def test_a_lone_timeout_between_answers_is_slow_not_an_outage() -> None:
    history = attempts("....") + attempts("222x2222", start=FAULT)
    assert failure_windows(history, after=FAULT) == []
    verdict = availability(history, fault_at=FAULT, bound_s=5)
    assert verdict.valid is True and verdict.details["slow_attempts"] == 1


def test_two_timeouts_in_a_row_or_a_refusal_are_an_outage() -> None:
    assert len(failure_windows(attempts("22xx22222"), settle=5)) == 1
    refused = attempts("22x22222")
    refused[2]["error"] = "refused"
    assert len(failure_windows(refused, settle=5)) == 1


def test_balanced_again_is_when_every_live_node_answers_within_a_span() -> None:
    history = attempts("....", start=99) + attempts("xxxx2222", start=FAULT)
    history += [{"t": FAULT + 1.5, "ok": True, "node": "node3"}]
    assert balanced_again(history, fault_at=FAULT, nodes=["node2", "node3"]) == 1.5
    assert balanced_again(history, fault_at=FAULT, nodes=["node2", "node3"], span_s=1) is None
    assert balanced_again(history, fault_at=FAULT, nodes=["node2"]) == 0.2


def test_failed_attempts_are_attributed_to_the_real_ipvs_scheduled_them_to() -> None:
    # First window: no director (nothing in any connection table). Second: lc feeding the
    # dead node3, as the new director's table lists those source ports.
    history = attempts("..xxx22222xxxx22222", start=FAULT)
    for i, a in enumerate(history):
        a["cport"] = 40000 + i
    scheduled = {40010: "node3", 40011: "node3", 40012: "node3", 40005: "node2"}
    first, second = failure_windows(attribute(history, scheduled), after=FAULT)
    assert first.scheduled_to == {}
    assert second.scheduled_to == {"node3": 3} and second.failed == 4
    assert second.to_json()["scheduled_to"] == {"node3": 3}
    answered = attribute(history, scheduled)[5]
    assert "scheduled_to" not in answered, "only failed attempts are attributed"


def test_a_source_port_used_twice_is_not_attributed() -> None:
    history = attempts("xx22222", start=FAULT)
    history[0]["cport"] = history[1]["cport"] = 40000  # the port came round again
    assert all("scheduled_to" not in a for a in attribute(history, {40000: "node3"}))


def traced(pattern: str, sent: dict[int, str]) -> list[dict]:
    history = attempts(pattern, start=FAULT)
    for i, a in enumerate(history):
        a["cport"] = 40000 + i
    return attribute(history, {40000 + i: node for i, node in sent.items()})


def test_failures_all_sent_to_the_dead_real_are_what_a_real_failure_costs() -> None:
    history = traced("..x.x..", {2: "node3", 4: "node3"})
    verdict = failures_only_sent_to(history, fault_at=FAULT, node="node3")
    assert verdict.valid is True, verdict
    assert verdict.details["sent_to_it"] == 2


def test_a_failure_sent_to_a_live_real_or_to_nowhere_fails() -> None:
    elsewhere = traced("..x.x..", {2: "node3", 4: "node2"})
    assert failures_only_sent_to(elsewhere, fault_at=FAULT, node="node3").problems == (
        "1 failed attempts were sent to node2",
    )
    nowhere = traced("..x.xx..", {2: "node3"})
    verdict = failures_only_sent_to(nowhere, fault_at=FAULT, node="node3")
    assert verdict.valid is False and "2 failed attempts no director" in verdict.problems[0]
    refused = traced("..x.x..", {2: "node3"})
    refused[4]["error"] = "refused"
    verdict = failures_only_sent_to(refused, fault_at=FAULT, node="node3")
    assert verdict.valid is False and "1 failed attempts no director" in verdict.problems[0]


def test_an_untraced_lone_timeout_is_a_slow_answer_counted_not_blamed() -> None:
    # Measured on the lab: attempts given up after 2 ms and answered later by a live real
    # left CLOSE entries in the director's table, gone 10 s on; the two in a trixie run
    # fell between answered attempts and were missing from the table read at +25 s.
    history = traced("..x.x..", {2: "node3"})
    verdict = failures_only_sent_to(history, fault_at=FAULT, node="node3")
    assert verdict.valid is True, verdict
    assert verdict.details["untraced_slow_answers"] == 1


def test_a_failure_on_a_reused_port_is_counted_not_blamed() -> None:
    history = attempts("..x.x..", start=FAULT)
    for i, a in enumerate(history):
        a["cport"] = 40000 + i
    history[4]["cport"] = history[0]["cport"]  # that port came round again
    marked = attribute(history, {40002: "node3", 40000: "node3"})
    verdict = failures_only_sent_to(marked, fault_at=FAULT, node="node3")
    assert verdict.valid is True
    assert verdict.details["untraceable"] == {"source port used again": 1}


def test_a_port_used_again_after_the_table_was_read_is_still_traced() -> None:
    history = attempts("..x.x..", start=FAULT)
    for i, a in enumerate(history):
        a["cport"] = 40000 + i
    history[6]["cport"] = history[2]["cport"]  # again, but after the reading
    read_at = history[5]["t"]
    marked = attribute(history, {40002: "node3", 40004: "node3"}, read_at)
    assert marked[2]["scheduled_to"] == "node3"
    history[5]["ok"] = False  # failed, begun after the reading: the table cannot know it
    marked = attribute(history, {40002: "node3", 40004: "node3"}, read_at)
    assert marked[5]["untraceable"] == "begun after the table was read"
    verdict = failures_only_sent_to(marked, fault_at=FAULT, node="node3")
    assert verdict.valid is True and verdict.details["untraced"] == 0


def test_no_attempt_after_the_fault_is_unknown() -> None:
    assert failures_only_sent_to(attempts("..", start=90), fault_at=FAULT, node="n").valid is None
