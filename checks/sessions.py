"""Checks over held sessions (probes.holder) and the director's IPVS counters: lc placed
every new session on a least-loaded node, and held sessions kept working."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from checks.verdict import Verdict

Record = dict[str, Any]


def least_connection(placements: Sequence[Record]) -> Verdict:
    """Each placement is {"node": who took the new session, "active": {node: ActiveConn on
    the director just before}}: lc must pick a node with the fewest active connections."""
    problems = []
    for number, p in enumerate(placements):
        if p["node"] is None:
            problems.append(f"session {number} failed to open")
            continue
        fewest = min(p["active"].values())
        if p["active"].get(p["node"]) != fewest:
            problems.append(f"session {number} went to {p['node']} with active {p['active']}")
    details = {
        "placements": [f"{p['node']} <- {p['active']}" for p in placements],
        "per_node": dict(Counter(p["node"] for p in placements)),
    }
    if not placements:
        return Verdict.unknown("lc placement", "no sessions opened", details)
    return Verdict.judge("lc placement", problems, details)


def held_sessions_answer(pings: Sequence[Record]) -> Verdict:
    """Every held session still answers, from the node that took it."""
    bad = [p for p in pings if not p.get("ok")]
    details = {
        "pinged": len(pings),
        "answered_by_holder": len(pings) - len(bad),
        "failures": [{k: p.get(k) for k in ("id", "held_by", "node", "error")} for p in bad],
    }
    if not pings:
        return Verdict.unknown("held sessions answer", "no held session to ping", details)
    problems = [f"{len(bad)} of {len(pings)} held sessions failed or moved"] if bad else []
    return Verdict.judge("held sessions answer", problems, details)


def spread(nodes: Sequence[str | None], expected: Sequence[str], max_skew: int) -> Verdict:
    """Sessions reached every expected node and no other, none failed, per-node counts
    within max_skew."""
    counts = Counter(nodes)
    problems = []
    if None in counts:
        problems.append(f"{counts[None]} of {len(nodes)} failed")
    missing = sorted(set(expected) - set(counts))
    if missing:
        problems.append(f"never reached {missing}")
    unexpected = sorted(set(counts) - set(expected) - {None})
    if unexpected:
        problems.append(f"reached {unexpected}, expected only {sorted(expected)}")
    per_node = [counts.get(n, 0) for n in expected]
    if per_node and max(per_node) - min(per_node) > max_skew:
        problems.append(f"uneven beyond {max_skew}")
    details = {"per_node": {str(n): c for n, c in counts.items()}, "expected": list(expected)}
    if not nodes or not expected:
        why = "no sessions or no nodes to judge"
        return Verdict.unknown("spread over every node", why, details)
    return Verdict.judge("spread over every node", problems, details)


def lc_short_connection_counts(inactive_before: dict[str, int], count: int) -> dict[str, int]:
    """How lc spreads `count` short connections made one at a time: none stays active, so
    each goes to a node with the fewest inactive entries (lc's overhead is 256 x active +
    inactive), which fills the emptiest nodes first. Ties make the exact node unknowable,
    not the counts."""
    load = dict(inactive_before)
    got = dict.fromkeys(load, 0)
    for _ in range(count):
        node = min(load, key=lambda n: (load[n], n))
        load[node] += 1
        got[node] += 1
    return got


def lc_count_reaching_every_node(inactive_before: dict[str, int], each: int) -> int:
    """How many short connections lc needs before every node has had `each` of them: it
    first levels the nodes up to the fullest one's inactive entries (earlier tests' leftovers
    can leave one node 20 ahead, and lc then skips it for 20 connections), then rotates."""
    if not inactive_before:
        return 0
    fullest = max(inactive_before.values())
    return sum(fullest - c for c in inactive_before.values()) + each * len(inactive_before)


def lc_spread(
    answers: Sequence[str | None],
    inactive_before: dict[str, int],
    tolerance: int,
    entries_after: dict[str, int] | None = None,
) -> Verdict:
    """Short connections reached the nodes lc would pick, given the director's InActConn
    per node before them; each node's count within tolerance of lc's. With the director's
    entries per node after them (entries_after: active + inactive), the entries that
    expired meanwhile are known (before + sent - after): each let its node win one pick
    more than lc's start predicts, and so one fewer for another node; the tolerance
    widens by exactly those, per direction. Earlier tests' entries expire in batches
    (TIME_WAIT, 2 min), and a batch on one node sent it 5 connections in a row once."""
    counts = Counter(answers)
    if not answers or not inactive_before:
        why = "no connections made" if not answers else "no real servers to spread over"
        details = {"per_node": dict(counts), "inactive_before": inactive_before}
        return Verdict.unknown("lc spread of short connections", why, details)
    expected = lc_short_connection_counts(inactive_before, len(answers))
    problems = []
    if None in counts:
        problems.append(f"{counts[None]} of {len(answers)} failed")
    unknown = sorted(set(counts) - set(expected) - {None})
    if unknown:
        problems.append(f"answers from {unknown}, not a real server of the service")
    expired = dict.fromkeys(expected, 0)
    if entries_after is not None:
        for n in expected:
            expired[n] = max(0, inactive_before[n] + counts.get(n, 0) - entries_after.get(n, 0))
    off = {}
    for n, want in expected.items():
        got = counts.get(n, 0)
        more = tolerance + expired[n]  # its own entries expired: lc picks it sooner
        fewer = tolerance + sum(e for m, e in expired.items() if m != n)
        if got - want > more or want - got > fewer:
            off[n] = got
    if off:
        problems.append(
            f"counts {off} differ from lc's {expected} by more than {tolerance} "
            f"(+ entries expired meanwhile: {expired})"
        )
    details = {
        "per_node": {str(n): c for n, c in counts.items()},
        "lc_expects": expected,
        "inactive_before": inactive_before,
        "entries_after": entries_after,
        "expired_meanwhile": expired,
    }
    return Verdict.judge("lc spread of short connections", problems, details)


def sessions_outlive_failover(pings: Sequence[Record], *, lost_node: str) -> Verdict:
    """After a director failover, every held session to a real server that is still up
    answers, from the node that took it. Sessions held by the lost node are not judged
    (nothing can keep them), but a run with none to judge says "unknown"."""
    judged = [p for p in pings if p.get("held_by") != lost_node]
    bad = [p for p in judged if not p.get("ok")]
    details = {
        "held": len(pings),
        "to_the_lost_node": len(pings) - len(judged),
        "judged": len(judged),
        "answered": len(judged) - len(bad),
        "by_node": dict(Counter(p.get("held_by") for p in judged)),
        "failures": [{k: p.get(k) for k in ("id", "held_by", "node", "error")} for p in bad],
    }
    if not judged:
        return Verdict.unknown(
            "sessions outlive failover", "no session held by a surviving real", details
        )
    problems = [f"{len(bad)} of {len(judged)} sessions to surviving reals failed"] if bad else []
    return Verdict.judge("sessions outlive failover", problems, details)
