"""Availability over a fault, judged from the prober's attempts (probes.prober).

Definitions (docs/suites.md, "Failover", says the same):
- An attempt is a fresh connection to VIP:port; it succeeds when a node answers.
- A failure window opens at a failed attempt and closes at the first attempt of a run of
  `settle` consecutive successes (default 5: 250 ms of answers at 20 Hz). Failures
  separated by fewer successes belong to one window, so a flapping VIP is one outage.
- A window's outage is from its first failed attempt to that closing attempt. A window
  that never closes within the observation is "never recovered", its own outcome.
- A lone attempt that timed out between answered ones (one attempt, 250 ms on a loaded
  2-core host running three UML nodes) is a slow answer, not an outage: it is counted in
  `slow_attempts` and opens no window. Two or more failures in a row, or any refusal or
  reset, always do.
- Every window after the fault counts (a director failover can have two: the VIP moving,
  then lc sending new connections to the dead real server until its health check fires).
  The scenario's outage is their sum; `answering_after_s` and `recovered_after_s` are
  measured from the fault to the close of the first and of the last window.
- A failed attempt whose connection reached a director carries `scheduled_to`: the real
  server IPVS scheduled it to, read from the director's connection table by its source
  port (attribute()). Each window counts its failed attempts by that real server; attempts
  no director saw (the VIP had no owner) are not attributed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from checks.verdict import Verdict

Record = dict[str, Any]
SETTLE_SUCCESSES = 5


@dataclass(frozen=True)
class Window:
    start: float  # t of its first failed attempt
    end: float | None  # t of the first attempt of the closing run; None: never closed
    failed: int
    errors: dict[str, int]
    scheduled_to: dict[str, int] = field(default_factory=dict)  # failed attempts by real

    @property
    def outage_s(self) -> float | None:
        return None if self.end is None else round(self.end - self.start, 3)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "outage_s": self.outage_s}


def lone_timeouts(ordered: Sequence[Record]) -> set[int]:
    """Indexes of timed-out attempts whose neighbours both succeeded (slow answers)."""
    return {
        i
        for i in range(1, len(ordered) - 1)
        if not ordered[i]["ok"]
        and ordered[i].get("error") == "timeout"
        and ordered[i - 1]["ok"]
        and ordered[i + 1]["ok"]
    }


def failure_windows(
    attempts: Sequence[Record], *, after: float = float("-inf"), settle: int = SETTLE_SUCCESSES
) -> list[Window]:
    """The failure windows among attempts started at or after `after`, in time order."""
    if settle < 1:
        raise ValueError("settle must be at least 1")
    ordered = sorted((a for a in attempts if a["t"] >= after), key=lambda a: a["t"])
    slow = lone_timeouts(ordered)
    ordered = [a for i, a in enumerate(ordered) if i not in slow]
    windows: list[Window] = []
    start: float | None = None
    failed = 0
    errors: Counter[str] = Counter()
    scheduled: Counter[str] = Counter()
    run_start: float | None = None
    run = 0
    for a in ordered:
        if not a["ok"]:
            if start is None:
                start = a["t"]
            failed += 1
            errors[a.get("error") or "?"] += 1
            if a.get("scheduled_to"):
                scheduled[a["scheduled_to"]] += 1
            run, run_start = 0, None
            continue
        if start is None:
            continue
        if run == 0:
            run_start = a["t"]
        run += 1
        if run >= settle:
            windows.append(Window(start, run_start, failed, dict(errors), dict(scheduled)))
            start, failed, errors, scheduled, run, run_start = (
                None,
                0,
                Counter(),
                Counter(),
                0,
                None,
            )
    if start is not None:
        windows.append(Window(start, None, failed, dict(errors), dict(scheduled)))
    return windows


def attribute(
    attempts: Sequence[Record], scheduled: Mapping[int, str], read_at: float | None = None
) -> list[Record]:
    """The attempts, each failed one whose source port the director's connection table
    lists (`scheduled`: source port -> real server, every entry for the service, read at
    read_at) marked with `scheduled_to`. A failed attempt the table cannot speak for is
    marked `untraceable`, with why: its source port was used more than once before the
    reading (the table keeps one entry per port and cannot say whose it is; over ~1000
    attempts a few ports come round again), or it began after the reading. A port's use
    after the reading does not count: it cannot be in the table."""
    read = [a for a in attempts if read_at is None or a["t"] < read_at]
    uses = Counter(a.get("cport") for a in read)
    marked = []
    for a in attempts:
        if a["ok"]:
            marked.append(a)
        elif read_at is not None and a["t"] >= read_at:
            marked.append({**a, "untraceable": "begun after the table was read"})
        elif uses[a.get("cport")] > 1:
            marked.append({**a, "untraceable": "source port used again"})
        elif a.get("cport") in scheduled:
            marked.append({**a, "scheduled_to": scheduled[a["cport"]]})
        else:
            marked.append(a)
    return marked


def answers(attempts: Sequence[Record]) -> dict[str, int]:
    """How many attempts each node answered."""
    return dict(Counter(a["node"] for a in attempts if a["ok"]))


def availability(
    attempts: Sequence[Record],
    *,
    fault_at: float,
    bound_s: float,
    settle: int = SETTLE_SUCCESSES,
    name: str = "VIP serves again within the bound",
    on_the_path: bool = False,
) -> Verdict:
    """Valid when every failure window after the fault closed, the last one within bound_s
    of the fault. Unknown when there is nothing to judge: no attempt before the fault
    succeeded (the service was not up to begin with) or none was made after it, or, for a
    fault on_the_path of the client's traffic (the director's), none failed: the VIP
    must move, so the fault missed the path the client's packets took."""
    before = [a for a in attempts if a["t"] < fault_at]
    after = [a for a in attempts if a["t"] >= fault_at]
    windows = failure_windows(attempts, after=fault_at, settle=settle)
    closed = [w for w in windows if w.end is not None]
    ordered_after = sorted(after, key=lambda a: a["t"])
    details: dict[str, Any] = {
        "attempts": len(attempts),
        "slow_attempts": len(lone_timeouts(ordered_after)),
        "bound_s": bound_s,
        "settle_successes": settle,
        "windows": [w.to_json() for w in windows],
        "failed_after_fault": sum(w.failed for w in windows),
        "outage_total_s": round(sum(w.outage_s or 0 for w in closed), 3),
        "answering_after_s": round(closed[0].end - fault_at, 3) if closed else None,
        "recovered_after_s": (
            round(windows[-1].end - fault_at, 3) if windows and windows[-1].end else None
        ),
        "answers_before": answers(before),
        "answers_after": answers(after),
    }
    if not any(a["ok"] for a in before):
        return Verdict.unknown(name, "no answered attempt before the fault", details)
    if not after:
        return Verdict.unknown(name, "no attempt after the fault", details)
    if on_the_path and not windows:
        return Verdict.unknown(
            name, "no attempt failed after a fault on the client's path: it missed it", details
        )
    problems = []
    if windows and windows[-1].end is None:
        problems.append(
            f"never recovered: {windows[-1].failed} failed attempts from "
            f"+{windows[-1].start - fault_at:.2f}s to the end of the observation"
        )
    elif windows and windows[-1].end - fault_at > bound_s:
        problems.append(
            f"recovered only {windows[-1].end - fault_at:.2f}s after the fault "
            f"(bound {bound_s:g}s) across {len(windows)} failure window(s)"
        )
    return Verdict.judge(name, problems, details)


def answering_again(
    attempts: Sequence[Record],
    *,
    fault_at: float,
    bound_s: float,
    settle: int = SETTLE_SUCCESSES,
    name: str = "VIP answers again within the bound",
    on_the_path: bool = False,
) -> Verdict:
    """Valid when the first failure window after the fault closed within bound_s of the
    fault (or the fault caused none, unless it was on_the_path: see availability()).
    Later windows are reported, not judged: availability() judges them all."""
    verdict = availability(
        attempts, fault_at=fault_at, bound_s=bound_s, settle=settle, name=name,
        on_the_path=on_the_path,
    )  # fmt: skip
    if verdict.valid is None:
        return verdict
    windows = failure_windows(attempts, after=fault_at, settle=settle)
    problems = []
    if windows and windows[0].end is None:
        problems.append(
            f"never answered again: {windows[0].failed} failed attempts from "
            f"+{windows[0].start - fault_at:.2f}s to the end of the observation"
        )
    elif windows and windows[0].end - fault_at > bound_s:
        problems.append(
            f"answered again only {windows[0].end - fault_at:.2f}s after the fault "
            f"(bound {bound_s:g}s)"
        )
    return Verdict.judge(name, problems, verdict.details)


def one_outage(
    attempts: Sequence[Record],
    *,
    fault_at: float,
    settle: int = SETTLE_SUCCESSES,
    name: str = "no second outage after the VIP answers again",
) -> Verdict:
    """Valid when, once the VIP answered again (settle answers in a row), no later failure
    window holds `settle` failed attempts or more: a second outage, as seed's ldirectord
    start makes (docs/suites.md). A bound on the last window cannot say this: the second
    outage can end inside it. Smaller later windows are stray failures (a single refused
    attempt, say), reported, not judged."""
    windows = failure_windows(attempts, after=fault_at, settle=settle)
    later = windows[1:] if windows and windows[0].end is not None else []
    outages = [w for w in later if w.failed >= settle]
    # The windows themselves are availability()'s details, beside these in every suite.
    details = {
        "second_outages": [w.to_json() for w in outages],
        "stray_failures": sum(w.failed for w in later if w.failed < settle),
    }
    if not any(a["t"] >= fault_at for a in attempts):
        return Verdict.unknown(name, "no attempt after the fault", details)
    problems = []
    if outages:
        problems.append(
            f"{sum(w.failed for w in outages)} attempts failed in {len(outages)} more "
            f"window(s) after the VIP answered again at +{windows[0].end - fault_at:.2f}s, "
            f"the first from +{outages[0].start - fault_at:.2f}s"
        )
    return Verdict.judge(name, problems, details)


def balanced_again(
    attempts: Sequence[Record], *, fault_at: float, nodes: Sequence[str], span_s: float = 2.0
) -> float | None:
    """Seconds from the fault until new connections spread over every node in `nodes`
    again: the first answer after the fault at which each of them has answered within
    the last span_s seconds. None if that never happened in the observation.

    A measure for the report (how long the new director served alone), not a verdict:
    lc may rightly prefer one node for a while when others carry leftover connections."""
    want = set(nodes)
    last: dict[str, float] = {}
    for a in sorted((a for a in attempts if a["ok"] and a["t"] >= fault_at), key=lambda a: a["t"]):
        last[a["node"]] = a["t"]
        if want and all(a["t"] - last.get(n, float("-inf")) <= span_s for n in want):
            return round(a["t"] - fault_at, 3)
    return None


def failures_only_sent_to(attempts: Sequence[Record], *, fault_at: float, node: str) -> Verdict:
    """When one real server fails and the director stays: every failed attempt after the
    fault went to that real, as the director's connection table says (attribute()). A
    failed attempt sent elsewhere is a problem, and so is one the table should list (its
    source port used once in the run) but does not: something other than the dead real
    failed it. Attempts attribute() marked untraceable are counted, by reason, and so are
    untraced slow answers: a lone timeout between answered attempts (the module's
    definition) whose answer came after the prober gave up. The client's kernel resets the
    late answer, and IPVS forgets a reset connection within 10 s (its CLOSE timeout), before
    the table is read; a SYN forwarded to a dead real stays there 60 s."""
    name = f"only connections sent to {node} fail"
    after = sorted((a for a in attempts if a["t"] >= fault_at), key=lambda a: a["t"])
    if not after:
        return Verdict.unknown(name, "no attempt after the fault", {})
    failed = [a for a in after if not a["ok"]]
    to_node = [a for a in failed if a.get("scheduled_to") == node]
    elsewhere = Counter(a["scheduled_to"] for a in failed if a.get("scheduled_to", node) != node)
    untraceable = Counter(a["untraceable"] for a in failed if "untraceable" in a)
    slow = lone_timeouts(after)
    unlisted = [
        i for i, a in enumerate(after)
        if not a["ok"] and "scheduled_to" not in a and "untraceable" not in a
    ]  # fmt: skip
    untraced = [after[i] for i in unlisted if i not in slow]
    problems = [f"{n} failed attempts were sent to {other}" for other, n in elsewhere.items()]
    if untraced:
        first = min(a["t"] for a in untraced) - fault_at
        problems.append(
            f"{len(untraced)} failed attempts no director sent anywhere (first +{first:.2f}s)"
        )
    details = {
        "failed_after_fault": len(failed),
        "sent_to_it": len(to_node),
        "sent_elsewhere": dict(elsewhere),
        "untraced": len(untraced),
        "untraced_slow_answers": len(unlisted) - len(untraced),
        "untraceable": dict(untraceable),
    }
    return Verdict.judge(name, problems, details)
