"""The deployed cell: what the last completed deploy put on the nodes (stack, profile,
corosync layout), read back from the record every node carries, never assumed."""

from __future__ import annotations

import json
from dataclasses import dataclass

from lab.control import Lab
from lab.deploy import DEPLOYED_RECORD, DeploySettings


@dataclass(frozen=True)
class Cell:
    """One cell of the failover matrix: a stack, a profile and a corosync layout."""

    profile: str  # pacemaker: seed or hardened; keepalived: its IPVS rules, fwmark or naive
    corosync_links: str  # service or dual; "none" on keepalived
    stack: str = "pacemaker"

    @property
    def name(self) -> str:
        """seed/dual, hardened/service, keepalived/fwmark ..."""
        if self.stack != "pacemaker":
            return f"{self.stack}/{self.profile}"
        return f"{self.profile}/{self.corosync_links}"

    @property
    def knet_links(self) -> int:
        """How many knet links corosync runs in this layout (service: 1, dual: 2)."""
        return {"service": 1, "dual": 2, "none": 0}[self.corosync_links]

    def settings(self) -> DeploySettings:
        """The deploy that gives this cell back."""
        if self.stack == "keepalived":
            return DeploySettings(stack="keepalived", keepalived_rules=self.profile)
        return DeploySettings(self.profile, self.corosync_links)

    @classmethod
    def from_record(cls, record: dict[str, str]) -> Cell:
        """From the deploy record (records written before stacks existed are pacemaker's)."""
        return cls(record["profile"], record["corosync_links"], record.get("stack", "pacemaker"))


def deployed_cell(lab: Lab) -> Cell | None:
    """The cell every reachable node's deploy record names; None if any reachable node has
    none or they disagree (a deploy that stopped half-way: its last step writes the
    record)."""
    seen = set()
    for node in lab.nodes:
        if not lab.reachable(node.name, timeout=5):
            continue
        got = lab.ssh(node.name, f"cat {DEPLOYED_RECORD}", check=False)
        if got.returncode != 0:
            return None
        seen.add(Cell.from_record(json.loads(got.stdout)))
    return seen.pop() if len(seen) == 1 else None
