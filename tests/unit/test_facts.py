from __future__ import annotations

from lab.facts import parse_versions, summarise

OUTPUT = """6.1.0-28-amd64
debian 12.8
corosync 3.1.7-1 installed
pacemaker 2.1.5-1+deb12u1 installed
ldirectord 1:4.12.0-2 installed
ipvsadm 1:1.31-1+b1 not-installed
"""


def test_versions_from_one_round_trip() -> None:
    assert parse_versions(OUTPUT) == {
        "kernel": "6.1.0-28-amd64",
        "debian": "12.8",
        "corosync": "3.1.7-1",
        "pacemaker": "2.1.5-1+deb12u1",
        "ldirectord": "1:4.12.0-2",
    }
    assert parse_versions("") == {}
    assert "debian" not in parse_versions("6.1\ndebian\n"), "a host without /etc/debian_version"


def test_summary_says_a_version_once_unless_nodes_differ() -> None:
    same = {"kernel": "6.1", "corosync": "3.1.7-1"}
    by_node = {"node1": same, "node2": same, "node3": {"kernel": "6.1"}}
    assert summarise(by_node) == {
        "kernel": "6.1",
        "corosync": "node1: 3.1.7-1, node2: 3.1.7-1, node3: not installed",
    }
