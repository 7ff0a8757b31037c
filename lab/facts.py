"""What a run was made against, for its report: the lab backend, the inventory, what was
deployed, and the versions the nodes run (read from the nodes themselves)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lab.control import Lab

PACKAGES = ("corosync", "pacemaker", "pcs", "resource-agents", "ldirectord", "ipvsadm")
# One ssh round trip per node: the kernel, the Debian release, then each package's
# installed version.
VERSIONS_COMMAND = (
    "uname -r; echo debian $(cat /etc/debian_version 2>/dev/null); "
    "dpkg-query -W -f='${Package} ${Version} ${db:Status-Status}\\n' "
    + " ".join(PACKAGES)
    + " 2>/dev/null; true"
)


def parse_versions(text: str) -> dict[str, str]:
    """{'kernel': ..., 'debian': ..., package: version} from VERSIONS_COMMAND's output; a
    package that is not installed is absent, and so is the release of a host without one."""
    lines = text.strip().splitlines()
    found = {"kernel": lines[0].strip()} if lines else {}
    for line in lines[1:]:
        words = line.split()
        if words[:1] == ["debian"] and len(words) == 2:
            found["debian"] = words[1]
        elif len(words) == 3 and words[2] == "installed" and words[0] in PACKAGES:
            found[words[0]] = words[1]
    return found


def versions_by_node(lab: Lab) -> dict[str, dict[str, str]]:
    return {
        n.name: parse_versions(lab.ssh(n.name, VERSIONS_COMMAND, timeout=30).stdout)
        for n in lab.nodes
    }


def summarise(by_node: dict[str, dict[str, str]]) -> dict[str, str]:
    """One line per component: its version, or each node's when they differ."""
    names = sorted({k for v in by_node.values() for k in v}, key=lambda k: (k != "kernel", k))
    out = {}
    for name in names:
        seen = {node: v.get(name, "not installed") for node, v in by_node.items()}
        distinct = set(seen.values())
        out[name] = (
            distinct.pop()
            if len(distinct) == 1
            else ", ".join(f"{node}: {version}" for node, version in sorted(seen.items()))
        )
    return out


def gather(lab: Lab, inventory: Path, deployed: str | None) -> dict[str, Any]:
    topo = lab.topology
    nodes = ", ".join(f"{n.name} {n.service_ip}" for n in topo.nodes)
    services = ", ".join(f"{topo.vip}:{p}" for p in topo.ports)
    return {
        "lab": f"{lab.state.name} ({lab.state.backend} backend)",
        "inventory": f"{inventory}: {nodes}; virtual services {services}",
        "deployed (at the start of the run)": deployed or "unknown: no deploy record",
        **summarise(versions_by_node(lab)),
    }
