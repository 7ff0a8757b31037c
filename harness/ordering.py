"""The order the suites run in: the functional suites before the failover suites, shuffled
among themselves on request (a seed replays an order), the ones that leave IPVS entries
last among them. Items are anything with a nodeid (and keywords)."""

from __future__ import annotations

import random
from typing import Any

FUNCTIONAL = "tests/functional/"
FAILOVER = "tests/failover/"


def functional_first(items: list[Any]) -> list[Any]:
    """The functional suites moved in front of the failover suites (pytest collects them
    after, by name). A failover scenario leaves its prober's ~1000 entries in IPVS (closed
    ones stay up to 120 s, and a real cut off skews InActConn as long), and a functional
    test that judges lc first waits for an idle table, which right after the failover suites
    can outlast its deadline. Everything else keeps its order."""
    functional = [item for item in items if item.nodeid.startswith(FUNCTIONAL)]
    rest = [item for item in items if not item.nodeid.startswith(FUNCTIONAL)]
    failover = [i for i, item in enumerate(rest) if item.nodeid.startswith(FAILOVER)]
    if not failover:
        return list(items)
    return rest[: failover[0]] + functional + rest[failover[0] :]


def shuffle_functional(items: list[Any], seed: int) -> list[Any]:
    """The functional suites' items shuffled among their own places in the run; every other
    item keeps its place (the failover suites switch profiles and must stay apart)."""
    slots = [i for i, item in enumerate(items) if item.nodeid.startswith(FUNCTIONAL)]
    chosen = [items[i] for i in slots]
    random.Random(seed).shuffle(chosen)
    shuffled = list(items)
    for slot, item in zip(slots, chosen, strict=True):
        shuffled[slot] = item
    return shuffled


def leftovers_last(items: list[Any]) -> list[Any]:
    """The functional tests marked ipvs_leftovers moved behind the other functional tests,
    in their places; every other item keeps its place. A functional test that judges lc's
    choices first waits for an idle cluster, and would wait out their half-open entries
    (60 s). The failover suites come after them (functional_first)."""
    slots = [i for i, item in enumerate(items) if item.nodeid.startswith(FUNCTIONAL)]
    chosen = [items[i] for i in slots]
    chosen.sort(key=lambda item: "ipvs_leftovers" in item.keywords)  # stable
    ordered = list(items)
    for slot, item in zip(slots, chosen, strict=True):
        ordered[slot] = item
    return ordered
