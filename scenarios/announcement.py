"""How a new director announces itself, as the deployed stack does it: the bound on its
first gratuitous ARP and the check of the whole announcement (the GARP suite and the
director-kill suite judge it alike)."""

from __future__ import annotations

from collections.abc import Callable

from checks.arp import SendArp, VrrpGarp, announcement, vrrp_announcement
from checks.verdict import Verdict
from lab.cluster import ClusterReader

# pacemaker: from its request on the new director to the first gratuitous ARP: the agent
# starts (sourcing ocf-shellfuncs, slow forks on a UML node) and announces before anything
# else; under a second on the lab (docs/suites.md). 5 s is over five times that and within
# every failover bound the announcement is part of; a GARP before the request, or none,
# fails. Both ends are in the host's clock (lab.cluster.journal corrects the journal's by
# the node's measured clock offset, kept in the history), good to ~0.1 s on UML.
ANNOUNCE_BOUND_S = 5.0
# keepalived: from the new master's "Entering MASTER STATE" line, 55-110 ms measured
# (docs/keepalived.md): the same bound holds with more to spare.
# What keepalived sends: its defaults, which keepalived.conf.j2 keeps.
VRRP_GARP = VrrpGarp()


def announcement_check(
    cluster: ClusterReader, vip: str
) -> Callable[[list[dict], str, float | None], Verdict]:
    """How the stack announces a new director: the lvs agent's send_arp (its parameters
    read from the cluster), or keepalived's two bursts of VRRP gratuitous ARP."""
    if cluster.stack == "keepalived":
        return lambda frames, mac, at: vrrp_announcement(
            frames, vip=vip, director_mac=mac, promoted_at=at, vrrp=VRRP_GARP,
            start_bound_s=ANNOUNCE_BOUND_S,
        )  # fmt: skip
    send_arp = SendArp(
        int(cluster.agent_param("arp_interval")), int(cluster.agent_param("arp_count"))
    )
    return lambda frames, mac, at: announcement(
        frames, vip=vip, director_mac=mac, promoted_at=at, send_arp=send_arp,
        start_bound_s=ANNOUNCE_BOUND_S,
    )  # fmt: skip
