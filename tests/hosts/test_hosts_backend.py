"""`pytest --lab=hosts --inventory=PATH`, for real: an inventory points at the deployed lab's
nodes as if they were the user's own servers (ssh to their management addresses as root
with the lab's key), and the validation suites run against them from the lab's namespace,
the client side, with no lab backend at all. A harness self-test (make check), not a
validation suite: it needs the embedded lab deployed, as the root `cluster` fixture makes it."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lab import deploy
from lab.cluster import deployed_cell
from lab.control import Lab
from lab.remote import netns_argv

pytestmark = [pytest.mark.lab, pytest.mark.disruptive]
ROOT = Path(__file__).parents[2]
SUITES = [
    "tests/functional/test_cluster_state.py",
    "tests/functional/test_distribution.py",
    "tests/functional/test_garp.py::test_only_the_director_answers_arp_for_the_vip",
    # An in-guest NIC fault over ssh, with its self-heal timer on the node; the kill needs
    # power commands this inventory does not name, so it must skip and say so.
    "tests/failover/test_real_server_faults.py",
]


def hosts_inventory(lab: Lab, path: Path) -> Path:
    """The lab's nodes as a user would describe their own servers: ssh to the management
    addresses, and the variables a deploy onto them needs (the same as the lab's deploy
    gets, so that a deploy from this inventory finds nothing to change)."""
    topo = lab.topology
    # A user's hosts are in their known_hosts already: here, the lab's keys under the
    # addresses the inventory names (Ansible checks host keys strictly).
    known_hosts = path.parent / "known_hosts"
    by_name = {n.name: str(n.mgmt_ip) for n in lab.nodes}
    lines = (lab.state.ssh_config.parent / "known_hosts").read_text().splitlines()
    known_hosts.write_text(
        "".join(
            f"{by_name[name]} {key}\n"
            for name, _, key in (line.partition(" ") for line in lines)
            if name in by_name
        )
    )
    lines = ["[nodes]"]
    lines += [
        f"{n.name} ip={n.service_ip} mgmt_ip={n.mgmt_ip} ansible_host={n.mgmt_ip} "
        f"ansible_user=root ansible_ssh_private_key_file={lab.ssh_key}"
        for n in lab.nodes
    ]
    lines += ["[nodes:vars]", f"vip={topo.vip}", f"port={topo.port}"]
    lines += [f"ssh_port={topo.ssh_port}"] if topo.ssh_port else []
    lines += [
        f"service_nic={lab.state.service_ifname}",
        *(f"{key}={value}" for key, value in deploy.lab_group_vars(lab).items()),
        f"ansible_ssh_common_args='-o UserKnownHostsFile={known_hosts}'",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_lvslab_deploys_onto_hosts_from_an_inventory(lab: Lab, tmp_path: Path) -> None:
    """`lvslab deploy --lab hosts`: the playbook over ssh as the inventory says, the secrets
    from the environment, no lab state. Against the cluster it deployed as a lab, with the
    same variables and secrets, every task runs and none changes anything."""
    deployed = deployed_cell(lab)
    assert deployed is not None
    inventory = hosts_inventory(lab, tmp_path / "hosts")
    argv = netns_argv(
        lab.state.netns,
        [sys.executable, "-m", "lab.cli", "deploy", "--lab", "hosts",
         f"--inventory={inventory}", f"--profile={deployed.profile}",
         f"--corosync-links={deployed.corosync_links}"],
    )  # fmt: skip
    env = dict(
        os.environ,
        LVSLAB_HOME=str(tmp_path / "home"),  # no state of the real lab
        LVSLAB_HACLUSTER_PASSWORD=deploy.hacluster_password(lab),
        LVSLAB_COROSYNC_AUTHKEY=deploy.corosync_authkey(lab),
    )
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    recap = deploy.parse_recap(proc.stdout)
    assert sorted(recap) == sorted(n.name for n in lab.nodes), proc.stdout
    for node, counters in recap.items():
        assert counters["ok"] > 20 and counters["failed"] == counters["unreachable"] == 0, node
        assert counters["changed"] == 0, (node, proc.stderr[-4000:])
    assert (tmp_path / "home" / "hosts-deploy" / deploy.TASK_TIMINGS).exists()


def test_the_validation_suites_run_against_hosts_from_an_inventory(
    lab: Lab, tmp_path: Path
) -> None:
    inventory = hosts_inventory(lab, tmp_path / "hosts")
    junit, reports = tmp_path / "junit.xml", tmp_path / "reports"
    argv = netns_argv(
        lab.state.netns,
        [sys.executable, "-m", "pytest", "--lab=hosts", f"--inventory={inventory}",
         "--require-lab", "-p", "no:cacheprovider", "-rs",
         f"--reports-dir={reports}", f"--junitxml={junit}", *SUITES],
    )  # fmt: skip
    env = dict(os.environ, LVSLAB_HOME=str(tmp_path / "home"))  # no state of the real lab
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    skipped = {c.get("name"): c.find("skipped") for c in cases if c.find("skipped") is not None}
    assert list(skipped) == ["test_a_killed_real_server_is_taken_out_and_back"], skipped
    assert "lacks the power capability" in (skipped[next(iter(skipped))].get("message") or "")
    assert len(cases) - len(skipped) >= 11, [c.get("name") for c in cases]
    facts = (reports / "facts.json").read_text()
    assert "(hosts backend)" in facts and str(inventory) in facts
