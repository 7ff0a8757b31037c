"""The lvs agent on a real node, outside any cluster: resource-agents' ocf-tester passes,
and each role leaves the node's network as the agent promises."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.control import Lab

pytestmark = pytest.mark.lab

AGENT = Path(__file__).parents[2] / "ocf" / "lvs"
DEST = "/usr/lib/ocf/resource.d/heartbeat/lvs"
NODE = "node1"


@pytest.fixture(scope="module")
def node(lab: Lab) -> str:
    lab.copy_to(NODE, AGENT, DEST)
    lab.ssh(NODE, f"chmod 755 {DEST}")
    return NODE


def run_agent(lab: Lab, action: str, vip: str, **params: str) -> int:
    env = " ".join(f"OCF_RESKEY_{k}={v}" for k, v in {"vip": vip, **params}.items())
    cmd = f"OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=lvs {env} {DEST} {action}"
    return lab.ssh(NODE, cmd, check=False).returncode


def test_ocf_tester_passes(lab: Lab, node: str) -> None:
    vip = str(lab.topology.vip)
    proc = lab.ssh(
        node, f"ocf-tester -n lvs -o vip={vip} -o nic=eth0 {DEST}", check=False, timeout=180
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{DEST} passed all tests" in proc.stdout


def test_validate_all_rejects_a_missing_nic(lab: Lab, node: str) -> None:
    assert run_agent(lab, "validate-all", str(lab.topology.vip), nic="eth9") == 6


def test_roles_shape_the_node(lab: Lab, node: str) -> None:
    vip = str(lab.topology.vip)

    def addr(dev: str) -> str:
        return lab.ssh(node, f"ip -4 -o addr show dev {dev}").stdout

    def sysctl(key: str) -> str:
        return lab.ssh(node, f"sysctl -n {key}").stdout.strip()

    try:
        assert run_agent(lab, "start", vip) == 0
        assert f"{vip}/32" in addr("lo") and vip not in addr("eth0")
        assert sysctl("net.ipv4.conf.all.arp_ignore") == "1"
        assert sysctl("net.ipv4.conf.lo.arp_announce") == "2"
        assert run_agent(lab, "monitor", vip) == 0

        assert run_agent(lab, "promote", vip) == 0
        assert f"{vip}/32" in addr("eth0") and vip not in addr("lo")
        assert sysctl("net.ipv4.conf.all.arp_ignore") == "0"
        assert sysctl("net.ipv4.conf.all.forwarding") == "1"
        assert run_agent(lab, "monitor", vip) == 8  # OCF_RUNNING_PROMOTED

        assert run_agent(lab, "demote", vip) == 0
        assert f"{vip}/32" in addr("lo") and vip not in addr("eth0")

        assert run_agent(lab, "promote", vip, vip_prefix="24") == 0
        assert f"{vip}/24" in addr("eth0"), "vip_prefix must be honoured"
    finally:
        assert run_agent(lab, "stop", vip) == 0
    assert vip not in addr("lo") and vip not in addr("eth0")
    assert sysctl("net.ipv4.conf.all.forwarding") == "0"
    assert run_agent(lab, "monitor", vip) == 7  # OCF_NOT_RUNNING
