"""The nodes' clocks and journals, in the host's clock: a node's clock offset measured over
ssh, and the host-clock times of journal lines, so that probe records (host clock) and
journal events compare on one timeline."""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass

from lab.control import Lab


@dataclass(frozen=True)
class ClockOffset:
    seconds: float  # the node's clock minus the host's
    uncertainty: float  # half the round trip of the exchange that measured it


def offset_from(sent: float, remote: float, received: float) -> ClockOffset:
    """A node's clock offset from one exchange: the node read its clock somewhere between
    the host's send and receive times, so at their midpoint give or take half the span.

    >>> offset_from(100.0, 100.5, 100.2)
    ClockOffset(seconds=0.4, uncertainty=0.1)
    """
    return ClockOffset(round(remote - (sent + received) / 2, 6), round((received - sent) / 2, 6))


def clock_offset(lab: Lab, node: str, tries: int = 3) -> ClockOffset:
    """How far node's clock is from the host's, from timestamp exchanges over ssh (the one
    with the shortest round trip: its uncertainty is half that round trip)."""
    best = None
    for _ in range(tries):
        sent = time.time()
        remote = float(lab.ssh(node, "date +%s.%N").stdout)
        got = offset_from(sent, remote, time.time())
        if best is None or got.uncertainty < best.uncertainty:
            best = got
    assert best is not None
    return best


def log_times(
    lab: Lab, node: str, patterns: dict[str, str], since: float, offset: ClockOffset | None = None
) -> dict[str, float]:
    """Host-clock Unix times of journal lines on node since `since` (host clock), one read
    for several patterns (name -> regular expression): per name, the first matching line's
    time corrected by the node's clock offset (measured now unless given). Names without a
    match are left out. One read a node: each costs ~0.5 s on a UML node."""
    if offset is None:
        offset = clock_offset(lab, node)
    node_since = int(since + offset.seconds) - 1
    either = "|".join(f"({p})" for p in patterns.values())
    lines = lab.ssh(
        node,
        f"journalctl -q -o short-unix --since=@{node_since} --grep={shlex.quote(either)}",
        check=False,
    ).stdout.splitlines()
    found: dict[str, float] = {}
    for name, pattern in patterns.items():
        for line in lines:
            stamp, _, text = line.partition(" ")
            if re.search(pattern, text):
                try:
                    found[name] = round(float(stamp) - offset.seconds, 6)
                except ValueError:
                    continue
                break
    return found
