"""One failover scenario, run once and judged by several tests (Jepsen's way: one history,
many checkers): probes start, a baseline is recorded, the fault is applied to a node and
held for a fixed window, then healed; the prober, the ARP sniffer, the nemesis and the
nodes' journals all write into one History, saved with the report."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checks.availability import attribute, balanced_again
from lab.cluster import ClusterReader, journal
from lab.control import Lab
from lab.faults import Fault
from lab.shell import say
from probes.client_side import ArpSniffer, AvailabilityProber
from probes.history import History

BASELINE_S = 3.0  # answered attempts before the fault: the service was up to begin with
WATCH_PERIOD_S = 0.5  # a watching scenario looks at the cluster this often during the window
AFTER_HEAL_S = 5.0  # keep probing after the heal: a flap on rejoin is recorded too
# Journal lines that tell where the failover's time went, by node, per stack. On keepalived
# becoming master is both the request and the act (the names are the suites' own).
JOURNAL_MARKS = {
    "pacemaker": {
        "promote requested": "Requesting local execution of promote",
        "promoting": "promoting:",
        "membership changed": "A new membership",
        "link down": "link: host: .* link: 0 is down",
        "quorum lost": "This node is within the non-primary component",
        "ping lost": "pingd.*-> 0",
    },
    "keepalived": {
        "promote requested": "Entering MASTER STATE",
        "promoting": "Entering MASTER STATE",
        "vrrp fault": "Entering FAULT STATE",
    },
}


@dataclass
class FaultRun:
    fault: str
    node: str
    director_before: str
    fault_at: float  # when apply() began: the fault may bite before it returns
    applied_at: float  # when apply() returned: the fault has surely bitten
    healed_at: float  # when the heal began
    history: History
    events: dict[str, Any] = field(default_factory=dict)

    @property
    def attempts(self) -> list[dict[str, Any]]:
        return self.history.of("prober")

    def attempts_until_heal(self) -> list[dict[str, Any]]:
        return [a for a in self.attempts if a["t"] < self.healed_at]

    def balanced_again_s(self, lab: Lab) -> float | None:
        """When connections spread over every node but the faulted one again."""
        live = [n.name for n in lab.nodes if n.name != self.node]
        return balanced_again(self.attempts_until_heal(), fault_at=self.fault_at, nodes=live)


def hold(seconds: float, what: str, tick: Callable[[], None] | None = None) -> None:
    """Sleep through a fault window, saying every 10 s that it is still held; with a tick,
    call it about every WATCH_PERIOD_S meanwhile (a scenario watching the cluster)."""
    end = time.monotonic() + seconds
    next_say = time.monotonic()
    while (left := end - time.monotonic()) > 0:
        if time.monotonic() >= next_say:
            say(f"{what}: {left:.0f}s of the window left")
            next_say = time.monotonic() + 10.0
        if tick is not None:
            tick()
        nap = WATCH_PERIOD_S if tick is not None else 10.0
        time.sleep(max(0.0, min(nap, end - time.monotonic())))


def run_fault(
    lab: Lab,
    cluster: ClusterReader,
    history: History,
    fault: Fault,
    node: str,
    *,
    hold_s: float,
    watch: Callable[[], None] | None = None,
    at_window_end: Callable[[], None] | None = None,
) -> FaultRun:
    """Probes up, baseline, fault held for hold_s (calling watch about every
    WATCH_PERIOD_S), at_window_end called once while the fault still holds, heal."""
    topo = lab.topology
    bound = BASELINE_S + hold_s + AFTER_HEAL_S + 120  # the probes stop by themselves
    director = cluster.director()
    # Journal times are turned into the host's clock (lab.cluster.journal.log_times); the offsets
    # measured now are kept with the history so a reader can check that correction.
    offsets = {n.name: journal.clock_offset(lab, n.name) for n in lab.nodes}
    for name, offset in offsets.items():
        history.event(
            "clock offset", node=name, seconds=offset.seconds, uncertainty=offset.uncertainty
        )
    prober = AvailabilityProber(lab, str(topo.vip), topo.port, max_seconds=bound)
    # The sniffer also asks who-has VIP every second: who owns the VIP, through the fault.
    with prober, ArpSniffer(lab, max_seconds=bound, ask=str(topo.vip)) as sniffer:
        time.sleep(BASELINE_S)
        # The fault starts to bite while apply() runs (an ssh round trip, ~0.4 s under
        # UML): it is dated when apply() begins; its own record keeps when it returned.
        fault_at = time.time()
        applied = fault.apply(node)
        history.add("nemesis", t=fault_at, **applied)
        try:
            hold(hold_s, f"{fault.name} on {node}", tick=watch)
            promoted = cluster.directors_seen()
            history.event("views at the end of the window", views=promoted)
            if at_window_end is not None:
                at_window_end()
            # Failed attempts that reached a director are in its connection table (60 s or
            # more, whatever state the attempt left behind): read now, before the heal
            # changes who directs, so that each failure window can name its real.
            dead = [node] if fault.name == "kill" else []  # nothing to read, 5 s to find out
            read_at = time.time()  # an attempt begun later may be missing from the tables
            scheduled = cluster.scheduled_ports(topo.port, skip=dead)
            history.event("ipvs connections", scheduled=len(scheduled))
        finally:
            # Judged up to here: what the heal brings back is not a recovery.
            heal_started = history.event("heal requested", node=node)["t"]
            history.add("nemesis", **fault.heal(node))
        time.sleep(AFTER_HEAL_S)
        history.extend("prober", attribute(prober.stop(), scheduled, read_at))
        history.extend("arp-sniffer", sniffer.stop())
    run = FaultRun(fault.name, node, director, fault_at, applied["time"], heal_started, history)
    run.events["views"] = promoted
    for n in lab.nodes:
        if n.name == node and fault.name == "kill":
            continue  # its journal ends at the kill (and begins again at the boot)
        # One read per node, in the clock offset measured before the fault (a node that was
        # not killed keeps its clock).
        found = journal.log_times(
            lab, n.name, JOURNAL_MARKS[cluster.stack], run.fault_at, offsets[n.name]
        )
        for what, at in found.items():
            if at < run.healed_at:
                history.event(what, t=at, node=n.name)
                run.events.setdefault(what, {})[n.name] = at
    return run
