"""The lvs agent on a real node, outside any cluster: resource-agents' ocf-tester passes,
and each role leaves the node's network as the agent promises."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from lab.cluster.parse import IpvsConnection, parse_ipvs_connections
from lab.control import Lab
from lab.selftest import EFFECT_S, PROBE_PORT
from lab.waiting import until
from probes.client_side import python_module

pytestmark = pytest.mark.lab

AGENT = Path(__file__).parents[2] / "ocf" / "lvs"
DEST = "/usr/lib/ocf/resource.d/lvs-ha-lab/lvs"
NODE = "node1"


def install_agent(lab: Lab, node: str) -> str:
    lab.ssh(node, f"mkdir -p {Path(DEST).parent}")
    lab.copy_to(node, AGENT, DEST)
    lab.ssh(node, f"chmod 755 {DEST}")
    return node


@pytest.fixture(scope="module")
def node(lab: Lab) -> str:
    return install_agent(lab, NODE)


def agent_command(action: str, vip: str, **params: str) -> str:
    env = " ".join(f"OCF_RESKEY_{k}={v}" for k, v in {"vip": vip, **params}.items())
    return f"OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=lvs {env} {DEST} {action}"


def run_agent(lab: Lab, action: str, vip: str, on: str = NODE, **params: str) -> int:
    return lab.ssh(on, agent_command(action, vip, **params), check=False).returncode


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
    director function on when promoted, none when stopped; expire_nodest_conn=1 from the
    start on."""
    vip = str(lab.topology.vip)

    def daemons() -> str:
        return lab.ssh(node, "ipvsadm -L --daemon").stdout

    def backup_only() -> str:
        return lab.ssh(node, "sysctl -n net.ipv4.vs.backup_only").stdout.strip()

    def expire_nodest_conn() -> str:
        return lab.ssh(node, "sysctl -n net.ipv4.vs.expire_nodest_conn").stdout.strip()

    try:
        assert run_agent(lab, "start", vip, sync_interface="eth1") == 0
        assert daemons().startswith("backup sync daemon (mcast=eth1, syncid=1")
        assert backup_only() == "1" and expire_nodest_conn() == "1"
        assert run_agent(lab, "promote", vip, sync_interface="eth1") == 0
        assert daemons().startswith("master sync daemon (mcast=eth1, syncid=1")
        assert "backup" not in daemons() and backup_only() == "0"
        assert expire_nodest_conn() == "1"  # a new director meets the dead one's entries
        assert run_agent(lab, "demote", vip, sync_interface="eth1", sync_id="7") == 0
        assert daemons().startswith("backup sync daemon (mcast=eth1, syncid=7")
        # A configuration without sync stops what an earlier one left running.
        assert run_agent(lab, "promote", vip) == 0
        assert daemons().strip() == "" and backup_only() == "0"
    finally:
        assert run_agent(lab, "stop", vip, sync_interface="eth1") == 0
    assert daemons().strip() == ""


def test_a_new_connection_meeting_an_entry_for_a_quiesced_real_gets_a_new_real(
    lab: Lab, node: str
) -> None:
    """expire_nodest_conn (set with sync_interface). The case a director kill showed: the new
    director held a synchronised entry for a connection to the dead node, and a client
    connection from the same port, 51 s later, was sent there (unreachable). Here a held
    connection keeps its entry ESTABLISHED, which conn_reuse_mode alone never reschedules;
    its real goes to weight 0, as ldirectord quiesces a dead one (this one is alive, so
    where the new SYN went shows in who answers); a SYN from the same port must be answered
    by the other real, with a SYN-ACK."""
    topo = lab.topology
    vip, port = str(topo.vip), str(PROBE_PORT)  # sshd: a service with no deploy
    reals = [n for n in lab.nodes if n.name != node][:2]
    sport = random.randint(40000, 60000)
    held = None
    try:
        for real in reals:
            assert run_agent(lab, "start", vip, on=install_agent(lab, real.name)) == 0
        assert run_agent(lab, "start", vip, sync_interface="eth1") == 0
        assert run_agent(lab, "promote", vip, sync_interface="eth1") == 0
        service = f"{vip}:{port}"
        lab.ssh(node, f"ipvsadm -A -t {service} -s rr")
        for real in reals:
            lab.ssh(node, f"ipvsadm -a -t {service} -r {real.service_ip}:{port} -g -w 1")
        held = lab.client_popen(["nc", "-p", str(sport), vip, port])

        def held_entry() -> list[IpvsConnection]:
            table = parse_ipvs_connections(lab.ssh(node, "ipvsadm -Lnc").stdout)
            return [c for c in table if c.client_port == sport and c.state == "ESTABLISHED"]

        until("the held connection's entry", lambda: bool(held_entry()), EFFECT_S)
        held_real = held_entry()[0].real
        lab.ssh(node, f"ipvsadm -e -t {service} -r {held_real} -g -w 0")
        probe = python_module(
            "probes.syn", vip, port, "--sport", str(sport), "--iface", lab.client_ifname
        )
        answer = json.loads(lab.client(probe, timeout=60).stdout)
        other = next(r for r in reals if f"{r.service_ip}:{port}" != held_real)
        assert answer["answer"], f"no SYN-ACK: the SYN went to {held_real} (weight 0)"
        assert (answer["flags"], answer["eth_src"]) == ("SA", other.service_mac), answer
    finally:
        if held is not None:
            held.kill()
            held.wait()
        lab.ssh(node, "ipvsadm -C", check=False)
        run_agent(lab, "stop", vip, sync_interface="eth1")
        for real in reals:
            run_agent(lab, "stop", vip, on=real.name)


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


# Failure injection for the agent's steps: a tool on PATH in front of the real one that,
# for the arguments named, does nothing and exits with the code given (0: a step that says
# it worked and did not, which only a check of the result catches; 1: a step that fails).
BROKEN_TOOLS = "/run/lvs-agent-test/bin"
OCF_ERR_GENERIC = 1


def break_tool(lab: Lab, node: str, tool: str, when: str, rc: int) -> None:
    real = lab.ssh(node, f"command -v {tool}").stdout.strip()
    wrapper = f"""#!/bin/sh
case " $* " in *"{when}"*) exit {rc} ;; esac
exec {real} "$@"
"""
    lab.ssh(node, f"mkdir -p {BROKEN_TOOLS} && cat > {BROKEN_TOOLS}/{tool} <<'EOF'\n{wrapper}EOF")
    lab.ssh(node, f"chmod 755 {BROKEN_TOOLS}/{tool}")


def run_broken(lab: Lab, action: str, vip: str, **params: str) -> tuple[int, str]:
    """The agent's action with the broken tools first on PATH: its exit code and its exit
    reason (ocf_exit_reason writes it to stderr with an ocf-exit-reason: prefix)."""
    command = f"PATH={BROKEN_TOOLS}:$PATH {agent_command(action, vip, **params)}"
    got = lab.ssh(NODE, command, check=False)
    reasons = [line for line in got.stderr.splitlines() if "ocf-exit-reason:" in line]
    return got.returncode, " ".join(reasons)


# (the role it starts from, the action, the tool, the arguments that tool ignores, its exit
# code, what the exit reason must say)
DEL_ON_NIC = "addr del {vip}/32 dev eth0"
FAILING_STEPS = {
    "stop-vip-stays-on-the-nic": ("promoted", "stop", "ip", DEL_ON_NIC, 0, "on eth0"),
    "stop-vip-stays-on-lo": ("unpromoted", "stop", "ip", "addr del {vip}/32 dev lo", 0, "on lo"),
    "stop-ipvs-stays": ("promoted", "stop", "ipvsadm", "-C", 0, "IPVS directing"),
    "stop-sysctl-fails": ("promoted", "stop", "sysctl", "forwarding=0", 1, "a step failed"),
    "stop-sync-daemon-stays": ("promoted", "stop", "ipvsadm", "--stop-daemon", 1, "a step failed"),
    "demote-vip-stays-on-the-nic": ("promoted", "demote", "ip", DEL_ON_NIC, 0, "on eth0"),
    "demote-ipvs-stays": ("promoted", "demote", "ipvsadm", "-C", 0, "IPVS directing"),
    "demote-sysctl-fails": ("promoted", "demote", "sysctl", "arp_ignore=1", 1, "a step failed"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(FAILING_STEPS))
def test_a_step_that_fails_fails_the_action(lab: Lab, node: str, case: str) -> None:
    """Stop and demote report failure, with the reason, when one of their steps fails or
    leaves the VIP on a NIC or IPVS directing for it; once the tool works again, the same
    node stops cleanly (stop is idempotent)."""
    role, action, tool, when, rc, reason = FAILING_STEPS[case]
    vip = str(lab.topology.vip)
    params = {"sync_interface": "eth1"} if "sync" in case else {}
    try:
        assert run_agent(lab, "start", vip, **params) == 0
        if role == "promoted":
            assert run_agent(lab, "promote", vip, **params) == 0
        # A virtual service on the VIP, as ldirectord makes one on the director.
        lab.ssh(NODE, f"ipvsadm -A -t {vip}:{PROBE_PORT} -s lc")
        break_tool(lab, NODE, tool, when.format(vip=vip), rc)
        returned, reasons = run_broken(lab, action, vip, **params)
        assert returned == OCF_ERR_GENERIC, f"{action} returned {returned}"
        assert reason in reasons, f"exit reason {reasons!r} does not say {reason!r}"
    finally:
        lab.ssh(NODE, f"rm -rf {BROKEN_TOOLS}", check=False)
        assert run_agent(lab, "stop", vip, **params) == 0
    held = lab.ssh(NODE, "ip -4 -o addr show").stdout
    assert f" {vip}/" not in held
    assert f"{vip}:" not in lab.ssh(NODE, "ipvsadm -Ln").stdout


def test_a_probe_reads_a_missing_tool_as_not_running_a_recurring_monitor_as_an_error(
    lab: Lab, node: str
) -> None:
    """Without ipvsadm on the node: a probe (interval 0) finds the resource not running,
    a recurring monitor reports the tool missing (OCF_ERR_INSTALLED), since an instance
    pacemaker started there has lost what it runs on."""
    vip = str(lab.topology.vip)
    hidden = "/run/lvs-agent-test/ipvsadm.hidden"
    real = lab.ssh(NODE, "command -v ipvsadm").stdout.strip()
    lab.ssh(NODE, f"mkdir -p {Path(hidden).parent} && mv {real} {hidden}")
    try:
        assert run_agent(lab, "monitor", vip) == 7  # OCF_NOT_RUNNING
        recurring = run_agent(lab, "monitor", vip, CRM_meta_interval="10000")
        assert recurring == 5  # OCF_ERR_INSTALLED
    finally:
        lab.ssh(NODE, f"mv {hidden} {real}")
