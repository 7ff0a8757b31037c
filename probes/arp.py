"""ARP probes with scapy, run on the client side of the service network.

- `sniff IFACE --seconds N`: records every ARP frame seen on IFACE as one JSON line (op,
  psrc, pdst, hwsrc, eth dst, time, whether it is gratuitous) until N seconds have passed
  or it is told to stop (SIGINT/SIGTERM). Prints {"ready": true} once capturing.
  With `--ask IP --every S` it also asks who-has IP every S seconds, as an ARP probe (sender
  IP 0.0.0.0, sender MAC ASKER_MAC): only the VIP's owner answers (arp_ignore keeps the real
  servers quiet), its answer goes to ASKER_MAC, which no host has, so no node and not the
  client side's own neighbour table learns anything from the asking. Each ask is a line
  {"asked": IP, "t": ...}; the answers are ordinary records with eth_dst ASKER_MAC.
- `query VIP IFACE`: broadcasts who-has VIP and records every answer (one line per MAC).

Run inside the lab's namespace: `ip netns exec NS python -m probes.arp ...`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from typing import Any

from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet

Record = dict[str, Any]
BROADCAST = "ff:ff:ff:ff:ff:ff"
OPS = {1: "who-has", 2: "is-at"}
ASKER_MAC = "02:00:00:00:a5:4b"  # locally administered: belongs to no interface


def is_gratuitous(packet: Packet, ip: str | None = None) -> bool:
    """A gratuitous ARP announces the sender's own address: sender IP == target IP, as a
    request or a reply (send_arp and arping -U/-A send both kinds)."""
    if ARP not in packet:
        return False
    arp = packet[ARP]
    if arp.op not in OPS or arp.psrc != arp.pdst:
        return False
    return ip is None or arp.psrc == ip


def arp_record(packet: Packet) -> Record:
    arp = packet[ARP]
    return {
        "t": round(float(packet.time), 6),
        "op": OPS.get(arp.op, str(arp.op)),
        "psrc": arp.psrc,
        "pdst": arp.pdst,
        "hwsrc": arp.hwsrc.lower(),
        "hwdst": arp.hwdst.lower(),
        "eth_src": packet[Ether].src.lower() if Ether in packet else None,
        "eth_dst": packet[Ether].dst.lower() if Ether in packet else None,
        "gratuitous": is_gratuitous(packet),
    }


def ask_frame(ip: str) -> Packet:
    """who-has ip as an ARP probe from ASKER_MAC: its answer teaches nobody anything."""
    return Ether(src=ASKER_MAC, dst=BROADCAST) / ARP(op=1, hwsrc=ASKER_MAC, psrc="0.0.0.0", pdst=ip)


_OUT = threading.Lock()


def emit(record: Record) -> None:
    """One JSON line on stdout, written whole: the capture thread and the asking loop both
    write, and print() writes the text and its newline separately, so two records could
    share a line (seen once in CI: '...}{...')."""
    line = json.dumps(record) + "\n"
    with _OUT:
        sys.stdout.write(line)
        sys.stdout.flush()


def sniff(iface: str, seconds: float, ask: str | None = None, every: float = 1.0) -> None:
    from scapy.sendrecv import AsyncSniffer, sendp

    stop = threading.Event()
    ready = threading.Event()  # asking starts once the capture can see the answers
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    sniffer = AsyncSniffer(
        iface=iface,
        filter="arp",
        store=False,
        prn=lambda packet: emit(arp_record(packet)),
        started_callback=lambda: (emit({"ready": True}), ready.set()),
    )
    sniffer.start()
    deadline = time.monotonic() + seconds
    next_ask = time.monotonic()
    # A capture that dies (no libpcap for the filter, the interface gone) ends the probe
    # with its error instead of leaving the caller waiting for a "ready" that never comes.
    while True:
        now = time.monotonic()
        if now >= deadline or not sniffer.running:
            break
        if ask is not None and now >= next_ask and ready.is_set():
            asked = {"t": round(time.time(), 3), "asked": ask, "asker": ASKER_MAC}
            emit(asked)
            sendp(ask_frame(ask), iface=iface, verbose=False)
            next_ask = now + every
        wake = min(0.5, deadline - now, *([next_ask - now] if ask is not None else []))
        if stop.wait(max(0.0, wake)):
            break
    # Let frames the kernel has already queued reach us before the capture closes.
    time.sleep(0.2)
    sniffer.stop()


def query(ip: str, iface: str, timeout: float) -> list[Record]:
    from scapy.sendrecv import srp

    request = Ether(dst=BROADCAST) / ARP(op=1, pdst=ip)
    answered, _ = srp(request, iface=iface, timeout=timeout, multi=True, verbose=False)
    return [arp_record(reply) for _, reply in answered]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    commands = p.add_subparsers(dest="command", required=True)
    s = commands.add_parser("sniff", help="record every ARP frame on an interface")
    s.add_argument("iface")
    s.add_argument("--seconds", type=float, default=60.0)
    s.add_argument("--ask", metavar="IP", help="also ask who-has IP (an ARP probe) every --every s")
    s.add_argument("--every", type=float, default=1.0)
    q = commands.add_parser("query", help="list every MAC answering who-has IP")
    q.add_argument("ip")
    q.add_argument("iface")
    q.add_argument("--timeout", type=float, default=2.0)
    args = p.parse_args(argv)
    if args.command == "sniff":
        if not 0 < args.seconds <= 900:
            p.error("--seconds must be in (0, 900] (probes are bounded)")
        if not 0.1 <= args.every <= 60:
            p.error("--every must be 0.1..60 s")
        sniff(args.iface, args.seconds, args.ask, args.every)
    else:
        for record in query(args.ip, args.iface, args.timeout):
            emit(record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
