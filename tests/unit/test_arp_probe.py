"""GARP recognition on crafted scapy frames (what the sniffer records)."""

from __future__ import annotations

import json
import sys
import threading

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Ether

from probes import arp
from probes.arp import BROADCAST, arp_record, is_gratuitous

VIP = "192.168.122.100"
MAC = "52:54:00:7a:00:70"


def frame(op: int, psrc: str, pdst: str, dst: str = BROADCAST) -> Ether:
    packet = Ether(src=MAC, dst=dst) / ARP(op=op, hwsrc=MAC, psrc=psrc, pdst=pdst)
    packet.time = 1000.25
    return packet


@pytest.mark.parametrize(
    ("packet", "gratuitous"),
    [
        (frame(1, VIP, VIP), True),  # gratuitous request (send_arp, arping -U)
        (frame(2, VIP, VIP), True),  # gratuitous reply (send_arp, arping -A)
        (frame(1, "192.168.122.1", VIP), False),  # ordinary who-has from the client
        (frame(2, VIP, "192.168.122.1", dst="52:54:00:00:00:01"), False),  # its answer
        (frame(3, VIP, VIP), False),  # RARP request: not ARP's announce
        (Ether() / IP() / UDP(), False),
    ],
)
def test_is_gratuitous(packet: Ether, gratuitous: bool) -> None:
    assert is_gratuitous(packet) is gratuitous


def test_gratuitous_for_another_ip_is_not_for_the_vip() -> None:
    other = frame(1, "192.168.122.199", "192.168.122.199")
    assert is_gratuitous(other) and not is_gratuitous(other, VIP)
    assert is_gratuitous(frame(1, VIP, VIP), VIP)


def test_record_keeps_what_the_checks_need() -> None:
    record = arp_record(frame(2, VIP, VIP))
    assert record == {
        "t": 1000.25,
        "op": "is-at",
        "psrc": VIP,
        "pdst": VIP,
        "hwsrc": MAC,
        "hwdst": "00:00:00:00:00:00",
        "eth_src": MAC,
        "eth_dst": BROADCAST,
        "gratuitous": True,
    }


class Writes:
    """A stdout that records each write() call."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_each_record_is_one_whole_line_even_from_two_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The capture thread and the asking loop both emit: each record must reach stdout as
    one write of one line, or two records can share a line (print() writes the newline
    separately)."""
    out = Writes()
    monkeypatch.setattr(sys, "stdout", out)
    records = [{"t": float(i), "asked": "192.168.122.100"} for i in range(200)]
    threads = [
        threading.Thread(target=lambda part=part: [arp.emit(r) for r in part])
        for part in (records[::2], records[1::2])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(call.endswith("\n") and call.count("\n") == 1 for call in out.calls)
    assert sorted(json.loads(call)["t"] for call in out.calls) == [r["t"] for r in records]
