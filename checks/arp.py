"""Checks over ARP records (probes.arp): the announcement a new director makes, and who
answers ARP for the VIP."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from checks.verdict import Verdict

Record = dict[str, Any]
BROADCAST = "ff:ff:ff:ff:ff:ff"


@dataclass(frozen=True)
class SendArp:
    """What `send_arp -i INTERVAL -r REPEAT` sends (resource-agents, Linux): REPEAT pairs of
    gratuitous request + reply, all broadcast, a frame every INTERVAL/2 ms (measured here:
    10 frames 100-101 ms apart for -i 200 -r 5)."""

    interval_ms: int
    repeat: int

    @property
    def frames(self) -> int:
        return 2 * self.repeat

    @property
    def gap_ms(self) -> float:
        return self.interval_ms / 2


@dataclass(frozen=True)
class Pacing:
    """How the gaps between an announcement's frames may differ from send_arp's nominal gap,
    as multiples of it. send_arp sleeps between frames: a frame is never early, but a busy
    node delays one now and then (one gap of 227 ms for 100 nominal, among nine of 100-107,
    in a CI run on 2 cores), so the pacing is judged on the median gap, and single gaps only
    against a burst (too short) or a stall (too long)."""

    shortest: float = 0.5
    median: tuple[float, float] = (0.8, 1.5)
    longest: float = 5.0

    def problems(self, gaps_ms: Sequence[float], nominal_ms: float) -> list[str]:
        if not gaps_ms:
            return []
        found = []
        if min(gaps_ms) < self.shortest * nominal_ms:
            found.append(f"a gap under {self.shortest * nominal_ms:g} ms (a burst, not paced)")
        low, high = (nominal_ms * f for f in self.median)
        middle = statistics.median(gaps_ms)
        if not low <= middle <= high:
            found.append(f"median gap {middle:g} ms outside {low:g}-{high:g} ms")
        if max(gaps_ms) > self.longest * nominal_ms:
            found.append(f"a gap over {self.longest * nominal_ms:g} ms (a stall)")
        return found


def gratuitous_for(records: Sequence[Record], ip: str) -> list[Record]:
    return sorted(
        (r for r in records if r.get("gratuitous") and r.get("psrc") == ip), key=lambda r: r["t"]
    )


def by_sender(
    records: Sequence[Record], vip: str, director_mac: str
) -> tuple[list[Record], list[Record], list[str]]:
    """The gratuitous ARP for the VIP, the director's frames of it, the other senders."""
    garps = gratuitous_for(records, vip)
    mine = [r for r in garps if r["hwsrc"] == director_mac.lower()]
    others = sorted({r["hwsrc"] for r in garps if r["hwsrc"] != director_mac.lower()})
    return garps, mine, others


def sender_problems(mine: Sequence[Record], others: list[str], vip: str, mac: str) -> list[str]:
    problems = [f"gratuitous ARP for {vip} from other MACs: {others}"] if others else []
    if not mine:
        problems.append(f"no gratuitous ARP for {vip} from {mac}")
    return problems


def frame_problems(frames: Sequence[Record], vip: str) -> list[str]:
    """What every announcement frame must be: broadcast, for the VIP, sent by its owner."""
    problems = []
    not_broadcast = [r["eth_dst"] for r in frames if r["eth_dst"] != BROADCAST]
    if not_broadcast:
        problems.append(f"{len(not_broadcast)} frames not broadcast: {sorted(set(not_broadcast))}")
    wrong_sender = [r for r in frames if r["pdst"] != vip or r.get("eth_src") != r["hwsrc"]]
    if wrong_sender:
        problems.append(f"{len(wrong_sender)} frames with pdst != VIP or eth src != ARP sender")
    return problems


def timed(
    name: str,
    problems: list[str],
    details: dict[str, Any],
    frames: Sequence[Record],
    since: float | None,
    start_bound_s: float,
    what: str,
) -> Verdict:
    """The verdict, once the first frame is judged against the moment the node took the
    VIP (`what`: promotion, becoming master); unknown when that moment is."""
    if since is None:
        return Verdict(name, None, details, (*problems, f"time of {what} unknown"))
    delay = frames[0]["t"] - since
    if not 0 <= delay <= start_bound_s:
        problems.append(f"first frame {delay:.3f}s after {what}, bound 0-{start_bound_s}s")
    return Verdict.judge(name, problems, details)


def announcement(
    records: Sequence[Record],
    *,
    vip: str,
    director_mac: str,
    promoted_at: float | None,
    send_arp: SendArp,
    start_bound_s: float,
    pacing: Pacing | None = None,
) -> Verdict:
    """The new director announced the VIP as the agent promises, and nobody else did."""
    name = "gratuitous ARP from the new director"
    garps, mine, others = by_sender(records, vip, director_mac)
    gaps = [round((b["t"] - a["t"]) * 1000, 1) for a, b in itertools.pairwise(mine)]
    details: dict[str, Any] = {
        "garps_for_vip": len(garps),
        "from_director": len(mine),
        "ops": [r["op"] for r in mine],
        "gaps_ms": gaps,
        "other_senders": others,
    }
    if promoted_at is not None and mine:
        details["first_after_promotion_ms"] = round((mine[0]["t"] - promoted_at) * 1000, 1)
    problems = sender_problems(mine, others, vip, director_mac)
    if not mine:
        return Verdict.judge(name, problems, details)
    if len(mine) != send_arp.frames:
        problems.append(f"{len(mine)} frames, send_arp sends {send_arp.frames}")
    expected_ops = ["who-has", "is-at"] * send_arp.repeat
    if details["ops"] != expected_ops[: len(mine)]:
        problems.append("frames do not alternate request/reply starting with a request")
    problems += (pacing or Pacing()).problems(gaps, send_arp.gap_ms)
    problems += frame_problems(mine, vip)
    return timed(name, problems, details, mine, promoted_at, start_bound_s, "promotion")


@dataclass(frozen=True)
class VrrpGarp:
    """What keepalived sends when its VRRP instance becomes master: `repeat` gratuitous ARP
    requests at once (vrrp_garp_master_repeat, 5 by default), as many again `delay_s` later
    (vrrp_garp_master_delay, 5 s), all broadcast. Measured on the UML lab: 5 who-has frames
    within 1 ms, 5 more 5.03-5.06 s after the first."""

    repeat: int = 5
    delay_s: float = 5.0
    burst_s: float = 0.5  # a burst's frames are sent in one go: 1 ms measured
    delay_tolerance_s: float = 1.0  # a busy node's timer may fire late, never early


def vrrp_announcement(
    records: Sequence[Record],
    *,
    vip: str,
    director_mac: str,
    promoted_at: float | None,
    vrrp: VrrpGarp,
    start_bound_s: float,
) -> Verdict:
    """The new VRRP master announced the VIP as keepalived does (VrrpGarp), nobody else."""
    name = "gratuitous ARP from the new VRRP master"
    garps, mine, others = by_sender(records, vip, director_mac)
    first, second = mine[: vrrp.repeat], mine[vrrp.repeat :]
    details: dict[str, Any] = {
        "garps_for_vip": len(garps),
        "from_director": len(mine),
        "ops": sorted({r["op"] for r in mine}),
        "other_senders": others,
    }
    if first and second:
        details["second_burst_after_s"] = round(second[0]["t"] - first[0]["t"], 3)
    if promoted_at is not None and mine:
        details["first_after_promotion_ms"] = round((mine[0]["t"] - promoted_at) * 1000, 1)
    problems = sender_problems(mine, others, vip, director_mac)
    if not mine:
        return Verdict.judge(name, problems, details)
    if len(mine) != 2 * vrrp.repeat:
        problems.append(f"{len(mine)} frames, keepalived sends {vrrp.repeat} + {vrrp.repeat}")
    if details["ops"] != ["who-has"]:
        problems.append(f"ops {details['ops']}, keepalived sends requests only")
    for burst in (first, second):
        if burst and burst[-1]["t"] - burst[0]["t"] > vrrp.burst_s:
            problems.append(f"a burst spread over {burst[-1]['t'] - burst[0]['t']:.3f}s")
    if first and second:
        late = details["second_burst_after_s"] - vrrp.delay_s
        if not 0 <= late <= vrrp.delay_tolerance_s:
            problems.append(
                f"second burst {details['second_burst_after_s']}s after the first, "
                f"keepalived waits {vrrp.delay_s:g}s"
            )
    problems += frame_problems(mine, vip)
    return timed(name, problems, details, mine, promoted_at, start_bound_s, "becoming master")


def one_owner(answers: Sequence[Record], *, vip: str, owner_mac: str) -> Verdict:
    """Exactly one MAC, the director's, answers who-has VIP."""
    macs = sorted({r["hwsrc"] for r in answers if r.get("op") == "is-at" and r["psrc"] == vip})
    details = {"answers": len(answers), "macs": macs, "expected": owner_mac.lower()}
    if not answers:
        return Verdict.judge("one ARP owner", [f"nobody answered who-has {vip}"], details)
    problems = [] if macs == [owner_mac.lower()] else [f"{macs} answered for {vip}"]
    return Verdict.judge("one ARP owner", problems, details)


def owner_per_round(records: Sequence[Record], *, vip: str) -> Verdict:
    """Exactly one MAC answers ARP for the VIP, sampled through a fault: the sniffer asked
    who-has VIP every second (probes.arp --ask); each round's answers are those addressed
    to the asker before the next round. A round nobody answered is the outage, not a
    problem; two MACs answering one round is (two nodes claim the VIP). Details list who
    owned the VIP when, as the asking saw it."""
    name = "one ARP owner at a time (asked every second)"
    rounds = sorted((r for r in records if r.get("asked") == vip), key=lambda r: r["t"])
    if not rounds:
        return Verdict.unknown(name, "the sniffer asked nothing", {})
    asker = rounds[0]["asker"]
    answers = sorted(
        (r for r in records
         if r.get("op") == "is-at" and r.get("psrc") == vip and r.get("eth_dst") == asker),
        key=lambda r: r["t"],
    )  # fmt: skip
    ends = [r["t"] for r in rounds[1:]] + [rounds[-1]["t"] + 1.0]
    owners: list[list[Any]] = []  # [mac or None, first round t, last round t]
    problems = []
    unanswered = 0
    for ask, end in zip(rounds, ends, strict=True):
        macs = sorted({a["hwsrc"] for a in answers if ask["t"] <= a["t"] < end})
        unanswered += not macs
        if len(macs) > 1:
            problems.append(f"{len(macs)} MACs answered at {ask['t']:.1f}: {macs}")
        owner = macs[0] if len(macs) == 1 else (None if not macs else "+".join(macs))
        if owners and owners[-1][0] == owner:
            owners[-1][2] = ask["t"]
        else:
            owners.append([owner, ask["t"], ask["t"]])
    details = {"rounds": len(rounds), "unanswered": unanswered, "owners": owners}
    return Verdict.judge(name, problems, details)
