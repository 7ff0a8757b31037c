"""What a deploy writes is on disk when it returns: a node powered off the moment `make
deploy` ends comes back with it (the deploy's last step syncs; ext4 would otherwise hold up
to 5 s of it in memory, and UML's page cache more)."""

from __future__ import annotations

import shlex

import pytest

from lab import deploy, faults
from lab.cluster import ClusterReader, actions
from lab.control import Lab

pytestmark = [pytest.mark.lab, pytest.mark.disruptive]

# Files this deploy writes again after the test removes them; their content is the same on
# every run, so the node's copy before the test is the reference.
REWRITTEN = (deploy.DEPLOYED_RECORD, "/etc/ha.d/ldirectord.cf")
# Written by earlier deploys: they must survive the cut too.
KEPT = (
    "/etc/corosync/corosync.conf",
    "/etc/corosync/authkey",
    "/usr/lib/ocf/resource.d/lvs-ha-lab/lvs",
)


def digests(lab: Lab, node: str) -> dict[str, str]:
    files = shlex.join([*REWRITTEN, *KEPT])
    out = lab.ssh(node, f"sha256sum {files}", check=False).stdout
    return {path: digest for digest, path in (line.split(maxsplit=1) for line in out.splitlines())}


def test_a_node_killed_right_after_a_deploy_keeps_what_it_wrote(
    lab: Lab, cluster: ClusterReader, director: str
) -> None:
    node = next(n.name for n in lab.nodes if n.name != director)  # no failover in the way
    reference = digests(lab, node)
    assert sorted(reference) == sorted([*REWRITTEN, *KEPT]), "precondition: a deployed node"
    lab.ssh(node, f"rm -f {shlex.join(REWRITTEN)} && sync")

    _, recap = deploy.deploy(lab)
    assert deploy.parse_recap(recap)[node]["changed"] >= len(REWRITTEN), recap
    kill = faults.NodeKill(lab)
    kill.apply(node)  # the power cut, as soon as the deploy returns
    try:
        assert kill.heal(node)["booted"] is True
        assert digests(lab, node) == reference
    finally:
        actions.settle(cluster)  # the node rejoins, whatever the assertions said
    assert cluster.deployed_cell() is not None, "the deploy record is the same on every node"
