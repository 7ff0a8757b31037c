"""Deploying again onto the deployed cluster changes nothing (Ansible's own verdict)."""

from __future__ import annotations

import pytest

from lab import deploy
from lab.control import Lab

pytestmark = pytest.mark.lab


def test_second_deploy_reports_no_changes(lab: Lab) -> None:
    took, recap = deploy.deploy(lab)
    hosts = deploy.parse_recap(recap)
    assert sorted(hosts) == sorted(n.name for n in lab.nodes)
    for name, counters in hosts.items():
        assert counters["failed"] == 0 and counters["unreachable"] == 0, (name, counters)
        assert counters["changed"] == 0, f"{name} changed on a second run: {counters}"
    print(f"second deploy: {took:.0f}s, {recap.strip()}")
