"""One TCP SYN with scapy from a chosen client port, run on the client side of the service
network: which node answers it, and how.

The kernel's own connect() cannot do this while a connection from that port is still open,
and that is the case to test: a new connection whose client port matches an entry IPVS
already holds. In direct routing the answer leaves the real server itself, so its Ethernet
source names the node (and the answer's flags say whether it is a new connection, SA, or
the old one's challenge ACK, which `srp1` does not take for an answer).

`python -m probes.syn VIP PORT --sport P --iface IF`: prints one JSON line, the answer's
record or {"answer": null}. Run inside the lab's namespace."""

from __future__ import annotations

import argparse
import json
import random
import sys
from typing import Any

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Packet

Record = dict[str, Any]


def syn(dst: str, dport: int, sport: int, seq: int) -> Packet:
    # Ether() with no dst: scapy resolves dst's MAC over ARP, as the kernel would.
    return Ether() / IP(dst=dst) / TCP(sport=sport, dport=dport, flags="S", seq=seq)


def answer_record(answer: Packet | None) -> Record:
    if answer is None:
        return {"answer": None}
    tcp = answer[TCP]
    return {
        "answer": True,
        "t": round(float(answer.time), 6),
        "eth_src": answer[Ether].src.lower(),
        "src": f"{answer[IP].src}:{tcp.sport}",
        "flags": str(tcp.flags),
        "ack": tcp.ack,
    }


def send_syn(dst: str, dport: int, sport: int, iface: str, timeout: float) -> Record:
    from scapy.sendrecv import srp1

    seq = random.randrange(1, 2**32)
    answer = srp1(syn(dst, dport, sport, seq), iface=iface, timeout=timeout, verbose=False)
    return {"seq": seq, **answer_record(answer)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("dst")
    p.add_argument("dport", type=int)
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--iface", required=True)
    p.add_argument("--timeout", type=float, default=3.0)
    args = p.parse_args(argv)
    for name, port in (("dport", args.dport), ("--sport", args.sport)):
        if not 0 < port < 65536:
            p.error(f"{name} {port} is out of range 1-65535")
    if not 0 < args.timeout <= 30:
        p.error("--timeout must be in (0, 30] s (probes are bounded)")
    record = send_syn(args.dst, args.dport, args.sport, args.iface, args.timeout)
    print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
