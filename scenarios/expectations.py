"""What each cell of the failover matrix is expected to do, and the bounds that are part of
that behaviour, each derived from the mechanism that sets it (docs/suites.md, "Failover",
tells the same story with the measured figures).

A cell is the deployed profile x corosync layout, read back from the cluster."""

from __future__ import annotations

from dataclasses import dataclass

from lab.cluster import Cell

# After corosync has declared the node lost (token + consensus), pacemaker elects a DC if
# needed, computes the transition and promotes another instance: the promote op alone took
# 3.6 s on a UML node (forks at ~0.2 s each), the whole failover 9-11 s in all with
# corosync's default token. 12 s covers that with ~2x margin on a busy 2-core host.
PACEMAKER_MARGIN_S = 12.0
# hardened on a layout where membership does not change: the ping clone's monitor (every
# 1 s, ~0.5 s to run under UML) and its pings (three, 0.2 s apart, 0.4 s for the last
# reply: 0.8 s when none comes) drop pingd to 0, the rule bans the Promoted role, pacemaker
# demotes, then stops ldirectord beside the promote elsewhere: measured 1.5-2.4 s from
# pingd 0 to "promoting:" (docs/nic-down.md; 2.4-3.8 s before the one-way orders). 12 s, as
# for a node lost, keeps the margin a busy 2-core host needs (5x the figure).
PING_DETECT_S = 4.0
HANDOVER_MARGIN_S = 12.0

NEVER_DUAL_SEED = (
    "seed + dual: the NIC-down bug. Corosync loses link 0 (service NIC) and carries on over "
    "link 1, so membership and quorum do not change; the seed monitor reads only its state "
    "file and keeps saying Promoted; no transition ever runs and the VIP stays on the dead NIC"
)


# seed: the new director's VIP answers before its service is whole. After the promote the
# VIP is local to it and it answers for itself, if not too busy: pacemaker's systemd reload
# for systemd:ldirectord and ldirectord's start keep a UML node busy ~4 s. The start then
# creates each virtual service empty, adds and quiesces every real one after another (two
# services x three reals, ~1 s each under UML) and only its checks restore the first real:
# measured +21.6 and +23.2 s after a NIC cut, +20-28 s after a kill (docs/nic-down.md). When
# the director answered fewer than SETTLE_SUCCESSES in a row in between, the two windows
# are one, and "answering again" is when ldirectord restored a real: ~10-15 s after the
# promote, which 12 s more than a lost node's bound covers (its own margin, ~8 s of 12 s
# unused in these runs, adds to it).
SEED_LDIRECTORD_START_S = 12.0


@dataclass(frozen=True)
class Expectation:
    recovers: bool  # False: the cell is known not to meet bound_s (a strict xfail)
    bound_s: float  # the VIP serving again, every failure window closed, this long after
    why: str
    # The first failure window closed this long after the fault (checks.availability's
    # answering_again); bound_s unless the profile's hand-over has a known second outage.
    answering_bound_s: float | None = None

    @property
    def answering_s(self) -> float:
        return self.bound_s if self.answering_bound_s is None else self.answering_bound_s

    @property
    def window_bound_s(self) -> float:
        """What a fault window must hold past: the later of the two bounds."""
        return max(self.bound_s, self.answering_s)


def node_lost_bound(timing_ms: dict[str, float]) -> float:
    """Corosync's detection (token + consensus) plus pacemaker's part."""
    return round((timing_ms["token"] + timing_ms["consensus"]) / 1000 + PACEMAKER_MARGIN_S, 2)


def seed_answering_bound(profile: str, bound_s: float) -> float | None:
    return round(bound_s + SEED_LDIRECTORD_START_S, 2) if profile == "seed" else None


# keepalived: a backup declares the master lost when no advert came for VRRP's master-down
# interval, 3 x advert_int plus a skew under one advert_int ((256 - priority) / 256 of it),
# adds the VIP and sends gratuitous ARP at once (55-110 ms after its "Entering MASTER
# STATE", docs/keepalived.md). Its IPVS rules and checkers were running all along. The
# margin is a lost node's for pacemaker (PACEMAKER_MARGIN_S): the same busy 2-core host.
VRRP_MARGIN_S = PACEMAKER_MARGIN_S


def vrrp_master_lost_bound(timing_ms: dict[str, float]) -> float:
    return round(4 * timing_ms["advert_int"] / 1000 + VRRP_MARGIN_S, 2)


def director_killed(timing_ms: dict[str, float], cell: Cell) -> Expectation:
    if cell.stack == "keepalived":
        return Expectation(
            True,
            vrrp_master_lost_bound(timing_ms),
            "no VRRP advert for the master-down interval; the highest backup takes the VIP",
        )
    bound = node_lost_bound(timing_ms)
    return Expectation(
        True,
        bound,
        "membership drops the dead node after token + consensus; another is promoted",
        seed_answering_bound(cell.profile, bound),
    )


def director_nic_down(cell: Cell, timing_ms: dict[str, float]) -> Expectation:
    if cell.stack == "keepalived":
        return Expectation(
            True,
            vrrp_master_lost_bound(timing_ms),
            "the backups hear no advert for the master-down interval and the highest takes "
            "the VIP; the cut master stays MASTER where its NIC still looks up (split brain, "
            "no quorum to stop it) or enters FAULT when the NIC is down",
        )
    if cell.corosync_links == "service":
        bound = node_lost_bound(timing_ms)
        return Expectation(
            True,
            bound,
            "corosync runs only on the service NIC: the cut node is lost to the other two, "
            "which keep quorum and promote one of them; the cut node loses quorum and stops",
            seed_answering_bound(cell.profile, bound),
        )
    if cell.profile == "seed":
        # Judged against the bound a user would expect of a NIC failure: known not to hold.
        return Expectation(False, node_lost_bound(timing_ms), NEVER_DUAL_SEED)
    return Expectation(
        True,
        PING_DETECT_S + HANDOVER_MARGIN_S,
        "membership does not change, but pingd drops to 0 on the cut node and the location "
        "rule moves the Promoted role away from it",
    )


# How long a scenario holds its fault. Past the bound the window runs on PAST_BOUND_S more, so
# that "slow" (recovered by the bound) and "never" (not recovered at the window's end, where
# the views of every node are the evidence) look different; the heal comes after that.
PAST_BOUND_S = 5.0
# A director kill is held longer: on seed the new director's ldirectord start leaves the
# service without a destination again 21-25 s after the kill (the second outage, which the
# kill suite judges), and the window must hold it whole, as on hardened its absence.
KILL_WINDOW_S = 40.0


def fault_window(bound_s: float, asked: float | None) -> float:
    """The window: as asked (--fault-window), but never shorter than bound + PAST_BOUND_S,
    which is the default."""
    least = round(bound_s + PAST_BOUND_S, 2)
    return least if asked is None else max(asked, least)


def kill_window(asked: float | None) -> float:
    return KILL_WINDOW_S if asked is None else asked


# ldirectord notices a failed real at its next check of it: at most checkinterval after the
# fault, plus the check itself (a connect to a dead or cut node waits out checktimeout).
# The margin covers the watcher (every 0.5 s, an ssh + ipvsadm round trip of ~0.3 s under
# UML) and ldirectord's own cycle (two virtual services, three reals each, checked in turn).
WATCH_MARGIN_S = 5.0


def real_server_out_bound(checkinterval_s: float, checktimeout_s: float) -> float:
    return checkinterval_s + checktimeout_s + WATCH_MARGIN_S
