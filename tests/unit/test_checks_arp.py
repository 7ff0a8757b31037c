"""The ARP checks on hand-made histories: pass, fail, unknown."""

from __future__ import annotations

from typing import Any

from checks.arp import (
    SendArp,
    VrrpGarp,
    announcement,
    one_owner,
    owner_per_round,
    vrrp_announcement,
)

VIP = "192.168.122.100"
NEW = "52:54:00:7a:00:70"
OLD = "52:54:00:7a:00:6f"
BCAST = "ff:ff:ff:ff:ff:ff"
SEND_ARP = SendArp(interval_ms=200, repeat=5)


def garps(start: float, mac: str = NEW, count: int = 10, gap: float = 0.1) -> list[dict[str, Any]]:
    return [
        {
            "t": start + i * gap,
            "op": "who-has" if i % 2 == 0 else "is-at",
            "psrc": VIP,
            "pdst": VIP,
            "hwsrc": mac,
            "eth_src": mac,
            "eth_dst": BCAST,
            "gratuitous": True,
        }
        for i in range(count)
    ]


def judge(records: list[dict[str, Any]], promoted_at: float | None = 100.0):
    return announcement(
        records,
        vip=VIP,
        director_mac=NEW,
        promoted_at=promoted_at,
        send_arp=SEND_ARP,
        start_bound_s=2.0,
    )


def test_the_promised_announcement_is_valid() -> None:
    verdict = judge(garps(100.3))
    assert verdict.valid is True, verdict
    assert verdict.details["from_director"] == 10
    assert verdict.details["first_after_promotion_ms"] == 300.0


def test_an_ordinary_arp_is_not_counted() -> None:
    who_has = {**garps(100.0, count=1)[0], "psrc": "192.168.122.1", "gratuitous": False}
    assert judge([who_has, *garps(100.3)]).valid is True


def test_missing_frames_fail() -> None:
    verdict = judge(garps(100.3, count=6))
    assert verdict.valid is False
    assert "6 frames, send_arp sends 10" in verdict.problems


def test_a_burst_without_spacing_fails() -> None:
    verdict = judge(garps(100.3, gap=0.001))
    assert verdict.valid is False and any("a burst" in p for p in verdict.problems)


def with_gaps(gaps_ms: list[float]) -> list[dict[str, Any]]:
    records = garps(100.3)
    t = 100.3
    for record, gap in zip(records[1:], gaps_ms, strict=True):
        t += gap / 1000
        record["t"] = t
    return records


def test_one_frame_delayed_by_a_busy_node_keeps_the_pacing() -> None:
    # Measured in CI: one gap of 227 ms among nominal 100 ms ones.
    gaps = [104.3, 101.7, 100.7, 106.6, 227.4, 101.0, 101.0, 105.6, 139.2]
    assert judge(with_gaps(gaps)).valid is True


def test_one_early_frame_fails() -> None:
    verdict = judge(with_gaps([100, 100, 100, 20, 100, 100, 100, 100, 100]))
    assert verdict.valid is False and any("a burst" in p for p in verdict.problems)


def test_a_stall_fails() -> None:
    verdict = judge(with_gaps([100, 100, 100, 100, 800, 100, 100, 100, 100]))
    assert verdict.valid is False and any("a stall" in p for p in verdict.problems)


def test_a_slower_interval_than_the_agent_asks_fails() -> None:
    verdict = judge(garps(100.3, gap=0.2))  # -i 400 instead of 200
    assert verdict.valid is False and any("median gap 200" in p for p in verdict.problems)


def test_another_sender_fails() -> None:
    verdict = judge(garps(100.3) + garps(100.35, mac=OLD, count=2))
    assert verdict.valid is False and verdict.details["other_senders"] == [OLD]


def test_a_frame_whose_ethernet_sender_is_not_its_arp_sender_fails() -> None:
    # A relayed or spoofed announcement: the ARP payload names the director, the frame
    # came from another MAC.
    records = garps(100.3)
    records[4]["eth_src"] = OLD
    verdict = judge(records)
    assert verdict.valid is False
    assert "1 frames with pdst != VIP or eth src != ARP sender" in verdict.problems


def test_a_frame_for_another_target_ip_fails() -> None:
    records = garps(100.3)
    records[2]["pdst"] = "192.168.122.1"
    assert judge(records).problems == ("1 frames with pdst != VIP or eth src != ARP sender",)


def test_unicast_frames_fail() -> None:
    records = garps(100.3)
    records[3]["eth_dst"] = OLD
    assert judge(records).valid is False


def test_late_or_early_announcement_fails() -> None:
    assert judge(garps(103.0)).valid is False
    assert judge(garps(99.0)).valid is False


def test_no_announcement_fails_and_unknown_promotion_time_is_unknown() -> None:
    assert judge([]).valid is False
    verdict = judge(garps(100.3), promoted_at=None)
    assert verdict.valid is None and "time of promotion unknown" in verdict.problems


def answer(mac: str) -> dict[str, Any]:
    return {"t": 1.0, "op": "is-at", "psrc": VIP, "pdst": "192.168.122.1", "hwsrc": mac}


def test_one_owner() -> None:
    assert one_owner([answer(NEW)], vip=VIP, owner_mac=NEW).valid is True
    two = one_owner([answer(NEW), answer(OLD)], vip=VIP, owner_mac=NEW)
    assert two.valid is False and two.details["macs"] == [OLD, NEW]
    assert one_owner([answer(OLD)], vip=VIP, owner_mac=NEW).valid is False
    silent = one_owner([], vip=VIP, owner_mac=NEW)
    assert silent.valid is False and "nobody answered" in silent.problems[0]


ASKER = "02:00:00:00:a5:4b"


def asked_and_answered(owners: list[list[str]]) -> list[dict[str, Any]]:
    """One round a second; owners[i] = the MACs answering round i."""
    records: list[dict[str, Any]] = []
    for i, macs in enumerate(owners):
        t = 100.0 + i
        records.append({"t": t, "asked": VIP, "asker": ASKER})
        records += [
            {"t": t + 0.01, "op": "is-at", "psrc": VIP, "pdst": "0.0.0.0", "hwsrc": mac,
             "eth_src": mac, "eth_dst": ASKER, "gratuitous": False}
            for mac in macs
        ]  # fmt: skip
    return records


def test_the_owner_moves_with_an_outage_between() -> None:
    verdict = owner_per_round(asked_and_answered([[OLD], [OLD], [], [], [NEW]]), vip=VIP)
    assert verdict.valid is True, verdict
    assert verdict.details["owners"] == [
        [OLD, 100.0, 101.0],
        [None, 102.0, 103.0],
        [NEW, 104.0, 104.0],
    ]
    assert verdict.details["unanswered"] == 2


def test_two_owners_in_one_round_fail() -> None:
    verdict = owner_per_round(asked_and_answered([[OLD], [OLD, NEW], [NEW]]), vip=VIP)
    assert verdict.valid is False
    assert verdict.problems == (f"2 MACs answered at 101.0: {sorted([OLD, NEW])}",)


def test_answers_to_someone_else_are_not_the_askers() -> None:
    records = asked_and_answered([[NEW]])
    records.append({**records[-1], "hwsrc": OLD, "eth_dst": BCAST})  # a reply to another host
    assert owner_per_round(records, vip=VIP).valid is True


def test_no_asking_is_unknown() -> None:
    assert owner_per_round(garps(100.0), vip=VIP).valid is None


# keepalived: 5 who-has at once, 5 more 5 s later (measured on the lab: 1 ms, 5.03 s).
VRRP = VrrpGarp()


def vrrp_burst(start: float, mac: str = NEW, count: int = 5) -> list[dict[str, Any]]:
    return [{**frame, "op": "who-has"} for frame in garps(start, mac, count, gap=0.0003)]


def judge_vrrp(records: list[dict[str, Any]], promoted_at: float | None = 100.0):
    return vrrp_announcement(
        records, vip=VIP, director_mac=NEW, promoted_at=promoted_at, vrrp=VRRP, start_bound_s=2.0
    )


def test_keepalived_announces_in_two_bursts_the_delay_apart() -> None:
    verdict = judge_vrrp([*vrrp_burst(100.2), *vrrp_burst(105.23)])
    assert verdict.valid is True, verdict
    assert verdict.details["second_burst_after_s"] == 5.03


def test_keepalived_without_its_second_burst_or_with_replies_fails() -> None:
    only_first = judge_vrrp(vrrp_burst(100.2))
    assert only_first.valid is False
    assert "5 frames, keepalived sends 5 + 5" in only_first.problems
    replies = [{**f, "op": "is-at"} for f in vrrp_burst(105.2)]
    mixed = judge_vrrp([*vrrp_burst(100.2), *replies])
    assert "ops ['is-at', 'who-has'], keepalived sends requests only" in mixed.problems


def test_keepalived_second_burst_early_or_another_sender_fails() -> None:
    early = judge_vrrp([*vrrp_burst(100.2), *vrrp_burst(103.0)])
    assert early.valid is False and "keepalived waits 5s" in early.problems[0]
    stray = judge_vrrp([*vrrp_burst(100.2), *vrrp_burst(105.2), *vrrp_burst(100.1, mac=OLD)])
    assert stray.valid is False and OLD in stray.problems[0]
    assert judge_vrrp([*vrrp_burst(100.2), *vrrp_burst(105.2)], promoted_at=None).valid is None
