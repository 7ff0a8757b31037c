"""The keepalived stack's cluster: each node's VRRP state (the notify script's file), the
settings of keepalived.conf; and its action, moving the VRRP master. A node knows no one
else's state, and there is no quorum: a master cut off from the others stays one."""

from __future__ import annotations

import re
from typing import Any

from lab.cluster.parse import keepalived_setting, vrrp_masters
from lab.cluster.reader import ClusterReader
from lab.errors import LabError
from lab.waiting import wait_for

# The keepalived stack's notify script writes the node's VRRP state here (`STATE since`).
VRRP_STATE = "/run/lvs-ha-lab/vrrp-state"
CONF = "/etc/keepalived/keepalived.conf"


class KeepalivedCluster(ClusterReader):
    stack = "keepalived"

    def vrrp_states(self) -> dict[str, str]:
        """Each reachable node's VRRP state line; "" where none, or where keepalived is not
        running (a stopped one may not have written STOP)."""
        states = {}
        for node in self.lab.nodes:
            if not self.lab.reachable(node.name, timeout=5):
                continue
            command = f"systemctl is-active --quiet keepalived && cat {VRRP_STATE}"
            got = self.lab.ssh(node.name, command, check=False, timeout=30)
            states[node.name] = got.stdout.strip() if got.returncode == 0 else ""
        return states

    def conf(self, node: str | None = None) -> str:
        return self.lab.ssh(node or self.any_node(), f"cat {CONF}").stdout

    def setting(self, name: str, node: str | None = None) -> float:
        """The first numeric value keepalived.conf on node gives `name`."""
        value = keepalived_setting(self.conf(node), name)
        if value is None:
            raise LabError(f"keepalived.conf sets no {name}")
        return value

    def director(self) -> str:
        masters = vrrp_masters(self.vrrp_states())
        if len(masters) != 1:
            raise LabError(f"expected one VRRP master, found {masters}")
        return masters[0]

    def director_when_whole(self) -> str | None:
        """Every node reachable and past VRRP's election (MASTER or BACKUP), exactly one
        MASTER."""
        states = self.vrrp_states()
        whole = len(states) == len(self.lab.nodes) and all(
            line.split()[:1] in (["MASTER"], ["BACKUP"]) for line in states.values()
        )
        masters = vrrp_masters(states)
        return masters[0] if whole and len(masters) == 1 else None

    def director_when_quiet(self) -> str | None:
        # keepalived balances as soon as it is master: quiet is whole here.
        return self.director_when_whole()

    def directors_seen(self) -> dict[str, dict[str, Any]]:
        """Each node's own VRRP state."""
        states = self.vrrp_states()
        return {node: {"vrrp": (line.split() or ["NONE"])[0]} for node, line in states.items()}

    def failover_timing(self) -> dict[str, float]:
        """VRRP's advert interval (ms)."""
        return {"advert_int": self.setting("advert_int") * 1000}

    def keeps_director(self) -> dict[str, int | bool]:
        """nopreempt (set keeps it)."""
        return {"nopreempt": bool(re.search(r"^\s*nopreempt\s*$", self.conf(), re.MULTILINE))}

    def ipvs_sync(self) -> str | None:
        return None  # the keepalived stack syncs no connections

    def check_timing(self, node: str) -> tuple[float, float]:
        """delay_loop and the first TCP_CHECK's connect_timeout."""
        return self.setting("delay_loop", node), self.setting("connect_timeout", node)


def move_director(cluster: KeepalivedCluster, to: str, deadline: float) -> None:
    """keepalived has no move: every other node's keepalived stops, the master's last (it
    sends priority 0, so `to`, the only backup left, takes over at once, and no third node
    is master in between), then starts again and, with nopreempt, stays backup."""
    lab = cluster.lab
    masters = vrrp_masters(cluster.vrrp_states())
    others = sorted((n.name for n in lab.nodes if n.name != to), key=masters.__contains__)
    try:
        for node in others:
            lab.ssh(node, "systemctl stop keepalived")
        # The stopped nodes are past no election: only the master counts here.
        wait_for(
            f"{to} becomes VRRP master",
            lambda: True if vrrp_masters(cluster.vrrp_states()) == [to] else None,
            deadline,
        )
    finally:
        for node in others:
            lab.ssh(node, "systemctl start keepalived")
    stays = lambda: True if cluster.director_when_quiet() == to else None  # noqa: E731
    wait_for(f"{to} stays master", stays, deadline)


def clear_failures(cluster: KeepalivedCluster) -> None:
    """keepalived keeps no failed actions."""
