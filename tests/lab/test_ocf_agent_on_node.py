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
    assert run_agent(lab, "validate-all", str(lab.topology.vip), sync_interface="eth9") == 6


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


def test_sync_daemons_follow_the_role(lab: Lab, node: str) -> None:
    """sync_interface: backup daemon with backup_only=1 on a real server, master with the
    director function on when promoted, none when stopped."""
    vip = str(lab.topology.vip)

    def daemons() -> str:
        return lab.ssh(node, "ipvsadm -L --daemon").stdout

    def backup_only() -> str:
        return lab.ssh(node, "sysctl -n net.ipv4.vs.backup_only").stdout.strip()

    try:
        assert run_agent(lab, "start", vip, sync_interface="eth1") == 0
        assert daemons().startswith("backup sync daemon (mcast=eth1, syncid=1")
        assert backup_only() == "1"
        assert run_agent(lab, "promote", vip, sync_interface="eth1") == 0
        assert daemons().startswith("master sync daemon (mcast=eth1, syncid=1")
        assert "backup" not in daemons() and backup_only() == "0"
        assert run_agent(lab, "demote", vip, sync_interface="eth1", sync_id="7") == 0
        assert daemons().startswith("backup sync daemon (mcast=eth1, syncid=7")
        # A configuration without sync stops what an earlier one left running.
        assert run_agent(lab, "promote", vip) == 0
        assert daemons().strip() == "" and backup_only() == "0"
    finally:
        assert run_agent(lab, "stop", vip, sync_interface="eth1") == 0
    assert daemons().strip() == ""


LDIRECTORD_AGENT = Path(__file__).parents[2] / "ocf" / "ldirectord"
LDIRECTORD_DEST = "/usr/lib/ocf/resource.d/lvs-ha-lab/ldirectord"
LDIRECTORD_CF = """checktimeout=2
checkinterval=5
quiescent=yes
virtual={vip}:80
\treal={real}:80 gate
\tchecktype=connect
\tscheduler=lc
\tprotocol=tcp
"""


def test_ldirectord_agent_passes_ocf_tester_and_stops_at_once(lab: Lab, node: str) -> None:
    """ocf:lvs-ha-lab:ldirectord: ocf-tester clean; stop kills the daemon and empties IPVS
    even while a check waits out its timeout (the real is an address nobody answers)."""
    lab.ssh(node, f"mkdir -p {Path(LDIRECTORD_DEST).parent}")
    lab.copy_to(node, LDIRECTORD_AGENT, LDIRECTORD_DEST)
    topo = lab.topology
    # A real nobody answers for: the service network's last host address, held by no node,
    # not the VIP and not the client side.
    dead = topo.service_net.broadcast_address - 1
    taken = {topo.vip, topo.client_ip, *(n.service_ip for n in topo.nodes)}
    assert dead not in taken
    cf = LDIRECTORD_CF.format(vip=topo.vip, real=dead)
    lab.ssh(node, f"chmod 755 {LDIRECTORD_DEST} && cat > /tmp/ld-test.cf <<'EOF'\n{cf}EOF")
    env = "OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=ld OCF_RESKEY_configfile=/tmp/ld-test.cf"
    tester = lab.ssh(
        node,
        f"ocf-tester -n ld -o configfile=/tmp/ld-test.cf {LDIRECTORD_DEST}",
        check=False,
        timeout=180,
    )
    assert tester.returncode == 0, tester.stdout + tester.stderr
    try:
        assert lab.ssh(node, f"{env} {LDIRECTORD_DEST} start", check=False).returncode == 0
        assert lab.ssh(node, f"{env} {LDIRECTORD_DEST} monitor", check=False).returncode == 0
        assert f"{lab.topology.vip}:80" in lab.ssh(node, "ipvsadm -Ln").stdout
        stop = lab.ssh(node, f"{env} {LDIRECTORD_DEST} stop", check=False)
        assert stop.returncode == 0
        assert lab.ssh(node, "pgrep -f ld-test.cf", check=False).returncode == 1
        assert "TCP" not in lab.ssh(node, "ipvsadm -Ln").stdout
        assert lab.ssh(node, f"{env} {LDIRECTORD_DEST} monitor", check=False).returncode == 7
    finally:
        lab.ssh(node, f"{env} {LDIRECTORD_DEST} stop; rm -f /tmp/ld-test.cf", check=False)
