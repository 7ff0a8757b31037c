"""The pacemaker stack's cluster: crm_mon's view (fast crm_* tools rather than pcs, ~10 s a
call on UML nodes), corosync as it runs, the lvs agent's parameters, ldirectord's checks;
and its two actions, moving the promoted instance and clearing failed actions."""

from __future__ import annotations

import re
from typing import Any

from lab.cluster.parse import ClusterStatus, agent_default, parse_crm_mon
from lab.cluster.reader import ClusterReader
from lab.errors import LabError
from lab.waiting import wait_for

AGENT = "ocf:lvs-ha-lab:lvs"
CLONE = "lvs-clone"
# crm_mon's view, printed only once the scheduler has nothing left to do: one round trip.
QUIET_STATUS = "crm_resource --wait --timeout=5s && crm_mon -1 --output-as=xml"


def director_beside_ldirectord(status: ClusterStatus) -> str | None:
    """The one node with lvs Promoted and ldirectord Started, if there is exactly that."""
    promoted = status.nodes_in_role("lvs", "Promoted")
    if len(promoted) == 1 and status.nodes_in_role("ldirectord", "Started") == promoted:
        return promoted[0]
    return None


class PacemakerCluster(ClusterReader):
    stack = "pacemaker"

    def status(self) -> ClusterStatus:
        return parse_crm_mon(self.lab.ssh(self.any_node(), "crm_mon -1 --output-as=xml").stdout)

    def quiet_status(self) -> ClusterStatus | None:
        """The cluster's status once the scheduler has nothing left to do (crm_resource
        --wait), in one round trip; None while actions are still pending."""
        got = self.lab.ssh(self.any_node(), QUIET_STATUS, check=False)
        return parse_crm_mon(got.stdout) if got.returncode == 0 else None

    def views(self) -> dict[str, ClusterStatus]:
        """Each reachable node's own view of the cluster (partitions disagree)."""
        seen = {}
        for node in self.lab.nodes:
            try:
                got = self.lab.ssh(node.name, "crm_mon -1 --output-as=xml", check=False, timeout=30)
            except LabError:  # a dead or unreachable node has no view
                continue
            if got.returncode == 0:
                seen[node.name] = parse_crm_mon(got.stdout)
        return seen

    def director(self) -> str:
        promoted = self.status().nodes_in_role("lvs", "Promoted")
        if len(promoted) != 1:
            raise LabError(f"expected one promoted lvs, found {promoted}")
        return promoted[0]

    def director_when_whole(self) -> str | None:
        """Every node online in one quorate partition, no failed actions, one promoted lvs
        with ldirectord beside it, the scheduler idle."""
        status = self.quiet_status()
        if status is None or status.nodes_offline or not status.quorate or status.failures:
            return None
        return director_beside_ldirectord(status)

    def director_when_quiet(self) -> str | None:
        status = self.quiet_status()
        return None if status is None else director_beside_ldirectord(status)

    def directors_seen(self) -> dict[str, dict[str, Any]]:
        """Each reachable node's partition: its quorum and its Promoted lvs."""
        return {
            name: {"quorate": view.quorate, "promoted": view.nodes_in_role("lvs", "Promoted")}
            for name, view in self.views().items()
        }

    def failover_timing(self) -> dict[str, float]:
        """Corosync's token and consensus, as running."""
        return self.corosync_timing()

    def keeps_director(self) -> dict[str, int | bool]:
        """The default resource-stickiness (above 0 keeps it)."""
        return {"resource-stickiness": self.resource_stickiness()}

    def ipvs_sync(self) -> str | None:
        return self.agent_param("sync_interface") or None

    def check_timing(self, node: str) -> tuple[float, float]:
        """ldirectord's checkinterval and checktimeout, as node's ldirectord.cf says."""
        return (
            self.ldirectord_setting(node, "checkinterval"),
            self.ldirectord_setting(node, "checktimeout"),
        )

    def corosync_timing(self) -> dict[str, float]:
        """Corosync's token and consensus timeouts as running (ms), e.g. token 3650 for
        three nodes with the 3000 ms default."""
        timing = {}
        node = self.any_node()
        for key in ("token", "consensus"):
            out = self.lab.ssh(node, f"corosync-cmapctl -g runtime.config.totem.{key}").stdout
            timing[key] = float(out.rsplit("=", 1)[1])
        return timing

    def corosync_links(self, node: str | None = None) -> int:
        """How many knet links corosync runs on node (any node by default), as it runs, not
        as corosync.conf says: a reloaded configuration must have taken effect."""
        out = self.lab.ssh(node or self.any_node(), "corosync-cfgtool -s").stdout
        return sum(1 for line in out.splitlines() if line.startswith("LINK ID"))

    def pacemaker_version(self, node: str) -> tuple[int, int]:
        """The (major, minor) of the pacemaker node runs."""
        out = self.lab.ssh(node, "pacemakerd --version").stdout
        found = re.search(r"Pacemaker (\d+)\.(\d+)", out)
        if found is None:
            raise LabError(f"{node}: pacemakerd --version said {out.strip()[:80]!r}")
        return int(found[1]), int(found[2])

    def resource_stickiness(self) -> int:
        """The cluster's default resource-stickiness (0, pacemaker's default, if unset)."""
        got = self.lab.ssh(
            self.any_node(),
            "crm_attribute --type rsc_defaults --name resource-stickiness --query --quiet",
            check=False,
        )
        value = got.stdout.strip() if got.returncode == 0 else ""
        return int(value) if value.lstrip("-").isdigit() else 0

    def agent_param(self, name: str, resource: str = "lvs") -> str:
        """A parameter of the lvs resource as the agent sees it: the CIB's value if set,
        else the default in the agent's meta-data."""
        node = self.any_node()
        got = self.lab.ssh(
            node, f"crm_resource --quiet --resource {resource} --get-parameter {name}", check=False
        )
        if got.returncode == 0 and got.stdout.strip():
            return got.stdout.strip()
        meta = self.lab.ssh(node, f"crm_resource --show-metadata {AGENT}").stdout
        default = agent_default(meta, name)
        if default is None:
            raise LabError(f"{AGENT} has no parameter {name}")
        return default

    def ldirectord_setting(self, node: str, name: str) -> float:
        """A global numeric setting of ldirectord.cf on node (checkinterval, checktimeout)."""
        out = self.lab.ssh(node, f"grep -E '^{name}=' /etc/ha.d/ldirectord.cf").stdout
        return float(out.strip().split("=", 1)[1])


def move_director(cluster: PacemakerCluster, to: str, deadline: float) -> None:
    """Promote lvs on `to` and wait until it and ldirectord run there; the temporary
    location constraint is removed again (stickiness keeps the new placement)."""
    lab = cluster.lab
    node = cluster.any_node()
    # pacemaker 2.0 (Debian 11) calls the role by its OCF 1.0 name only.
    role = "--promoted" if cluster.pacemaker_version(node) >= (2, 1) else "--master"
    lab.ssh(node, f"crm_resource --move {role} --resource {CLONE} --node {to}")
    try:
        wait_for(
            f"director moves to {to}",
            lambda: True if cluster.director_when_quiet() == to else None,
            deadline,
        )
    finally:
        lab.ssh(node, f"crm_resource --clear --resource {CLONE}")


def clear_failures(cluster: PacemakerCluster) -> None:
    """Failed actions a fault left behind, cleaned up once the nodes are back."""
    if cluster.status().failures:
        cluster.lab.ssh(cluster.any_node(), "crm_resource --cleanup --quiet", check=False)
