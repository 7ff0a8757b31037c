from __future__ import annotations

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

from probes.syn import answer_record, main, syn


def test_the_syn_comes_from_the_chosen_port_with_the_chosen_sequence() -> None:
    packet = syn("192.168.122.100", 22, 40001, 1234)
    assert (packet[TCP].sport, packet[TCP].dport, str(packet[TCP].flags)) == (40001, 22, "S")
    assert packet[TCP].seq == 1234 and packet[IP].dst == "192.168.122.100"


def test_an_answer_names_the_node_by_its_mac_and_keeps_the_flags() -> None:
    answer = (
        Ether(src="52:54:00:7A:00:71", dst="52:54:00:7a:00:01")
        / IP(src="192.168.122.100", dst="192.168.122.1")
        / TCP(sport=22, dport=40001, flags="SA", ack=1235)
    )
    answer.time = 1796034100.5
    record = answer_record(answer)
    assert record == {
        "answer": True,
        "t": 1796034100.5,
        "eth_src": "52:54:00:7a:00:71",
        "src": "192.168.122.100:22",
        "flags": "SA",
        "ack": 1235,
    }


def test_no_answer_is_said_so() -> None:
    assert answer_record(None) == {"answer": None}


@pytest.mark.parametrize(
    "argv",
    [
        ["192.168.122.100", "22", "--sport", "0", "--iface", "br"],
        ["192.168.122.100", "70000", "--sport", "40001", "--iface", "br"],
        ["192.168.122.100", "22", "--sport", "40001", "--iface", "br", "--timeout", "60"],
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
