"""The keepalived stack without a lab: its settings, the rendered keepalived.conf and
fwmark rules, and lab.cluster reading a keepalived cluster (VRRP states, FWM services)."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import pytest

from lab.cluster import Cell, KeepalivedCluster, open_cluster
from lab.cluster.parse import keepalived_setting, vrrp_masters
from lab.deploy import DeploySettings, playbook_argv
from lab.errors import LabError
from tests.unit.fake_lab import FakeLab

TEMPLATES = Path(__file__).parents[2] / "ansible" / "templates"
NODES = ["node1", "node2", "node3"]
MACS = {"node1": "52:54:00:7a:00:6f", "node2": "52:54:00:7a:00:70", "node3": "52:54:00:7a:00:71"}
FWM_TABLE = """IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
FWM  1 lc
  -> 192.168.122.111:0            Route   1      0          3
  -> 192.168.122.112:0            Route   0      0          0
  -> 192.168.122.113:0            Route   1      1          4
FWM  2 lc
  -> 192.168.122.111:0            Route   1      2          0
  -> 192.168.122.112:0            Route   1      1          0
  -> 192.168.122.113:0            Route   1      2          0
"""
KEEPALIVED_RECORD = json.dumps(
    {"stack": "keepalived", "profile": "fwmark", "corosync_links": "none"}
)


def render(template: str, node: str, rules: str) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True, lstrip_blocks=False
    )
    hostvars = {n: {"ip": f"192.168.122.11{i + 1}"} for i, n in enumerate(NODES)}
    return env.get_template(template).render(
        inventory_hostname=node,
        groups={"nodes": NODES},
        hostvars=hostvars,
        vip="192.168.122.100",
        lvs_ports=[80, 22],
        lvs_nic="eth0",
        keepalived_rules=rules,
        vrrp_instance="LVS_VIP",
        vrrp_router_id=51,
        vrrp_priority=150,
        vrrp_advert_int=1,
        service_prefix=32,
        keepalived_check_interval=10,
        keepalived_check_timeout=3,
        other_director_macs=[MACS[n] for n in NODES if n != node],
    )


def test_a_keepalived_deploy_runs_its_own_playbook_without_the_clusters_secrets() -> None:
    settings = DeploySettings.asked("keepalived", None, None, "naive")
    argv = playbook_argv([Path("hosts")], settings)
    assert argv[-1].endswith("keepalived.yml")
    assert argv[3:5] == ["-e", "keepalived_rules=naive"]
    assert not settings.needs_secrets
    assert DeploySettings.asked("pacemaker", None, None, None).playbook.name == "lvs.yml"


@pytest.mark.parametrize(
    ("stack", "profile", "links", "rules", "refused"),
    [
        ("keepalived", "hardened", None, None, "--profile"),
        ("keepalived", None, "dual", None, "--corosync-links"),
        ("pacemaker", None, None, "fwmark", "--keepalived-rules"),
    ],
)
def test_a_setting_of_the_other_stack_is_refused_not_ignored(
    stack: str, profile: str | None, links: str | None, rules: str | None, refused: str
) -> None:
    with pytest.raises(LabError, match=f"{refused}: not a setting of the {stack} stack"):
        DeploySettings.asked(stack, profile, links, rules)


def test_fwmark_services_balance_each_port_to_every_node_by_lc_in_dr() -> None:
    conf = render("keepalived.conf.j2", "node1", "fwmark")
    assert "virtual_server fwmark 1 {" in conf and "virtual_server fwmark 2 {" in conf
    assert "virtual_server 192.168.122.100" not in conf
    assert conf.count("lb_algo lc") == 2 and conf.count("lb_kind DR") == 2
    for ip in ("192.168.122.111", "192.168.122.112", "192.168.122.113"):
        assert f"real_server {ip} 80 {{" in conf and f"real_server {ip} 22 {{" in conf
    assert conf.count("inhibit_on_failure") == 6  # quiesced at weight 0, as ldirectord's
    assert "192.168.122.100/32 dev lo scope host" in conf  # a real server everywhere
    assert "nopreempt" in conf and "state BACKUP" in conf


def test_naive_rules_balance_vip_port_on_every_node() -> None:
    conf = render("keepalived.conf.j2", "node2", "naive")
    assert "virtual_server 192.168.122.100 80 {" in conf
    assert "virtual_server 192.168.122.100 22 {" in conf
    assert "fwmark" not in conf.replace("keepalived-fwmark", "")
    rules = render("keepalived-fwmark.rules.j2", "node2", "naive")
    assert not [line for line in rules.splitlines() if line.startswith("-A")]


def test_fwmark_rules_skip_frames_from_the_other_directors_macs() -> None:
    rules = render("keepalived-fwmark.rules.j2", "node1", "fwmark").splitlines()
    marks = [line for line in rules if line.startswith("-A PREROUTING")]
    assert len(marks) == 2
    for mark, (port, number) in zip(marks, [(80, 1), (22, 2)], strict=True):
        assert f"-d 192.168.122.100/32 -p tcp --dport {port}" in mark
        assert mark.endswith(f"-j MARK --set-mark {number}")
        assert f"! --mac-source {MACS['node2']}" in mark
        assert f"! --mac-source {MACS['node3']}" in mark
        assert MACS["node1"] not in mark  # its own frames never come in on its NIC
    assert rules[-1] == "COMMIT"


def test_a_record_without_a_stack_is_the_pacemaker_stacks() -> None:
    old = Cell.from_record({"profile": "seed", "corosync_links": "service"})
    assert old.stack == "pacemaker" and old.name == "seed/service"
    new = Cell.from_record(json.loads(KEEPALIVED_RECORD))
    assert new.name == "keepalived/fwmark" and new.knet_links == 0


def test_the_vrrp_master_is_the_one_node_whose_state_says_so() -> None:
    assert vrrp_masters({"node1": "MASTER 1.0", "node2": "BACKUP 2.0", "node3": ""}) == ["node1"]
    assert vrrp_masters({"node1": "MASTER 1.0", "node2": "MASTER 2.0"}) == ["node1", "node2"]
    assert vrrp_masters({"node1": "FAULT 1.0", "node2": "BACKUP 2.0"}) == []


def keepalived_lab(states: dict[str, str]) -> FakeLab:
    lab = FakeLab(
        {"cat /etc/lvs-ha-lab/deployed.json": (0, KEEPALIVED_RECORD), "ipvsadm -Ln": (0, FWM_TABLE)}
    )
    # Each node answers with its own state: the fake keys answers by command only.
    served = iter(states[n.name] for n in lab.nodes)
    lab.answers["systemctl is-active --quiet keepalived && cat /run/lvs-ha-lab/vrrp-state"] = (
        0,
        lambda: next(served),
    )
    return lab


def test_on_keepalived_the_director_is_the_vrrp_master() -> None:
    cluster = open_cluster(
        keepalived_lab({"node1": "BACKUP 1", "node2": "MASTER 2", "node3": "BACKUP 3"})
    )
    assert cluster.stack == "keepalived" and cluster.director() == "node2"
    two = open_cluster(
        keepalived_lab({"node1": "MASTER 1", "node2": "MASTER 2", "node3": "BACKUP 3"})
    )
    with pytest.raises(LabError, match=r"one VRRP master, found \['node1', 'node2'\]"):
        two.director()
    assert isinstance(two, KeepalivedCluster) and not hasattr(two, "status")


def test_a_keepalived_cluster_is_settled_once_every_node_is_past_the_election() -> None:
    # node2's real is quiesced in FWM_TABLE: not settled, even with one master.
    quiesced = open_cluster(
        keepalived_lab({"node1": "MASTER 1", "node2": "BACKUP 2", "node3": "BACKUP 3"})
    )
    assert quiesced.settled() is None
    whole = keepalived_lab({"node1": "MASTER 1", "node2": "BACKUP 2", "node3": "BACKUP 3"})
    whole.answers["ipvsadm -Ln"] = (0, FWM_TABLE.replace("Route   0", "Route   1"))
    assert open_cluster(whole).settled() == "node1"
    electing = open_cluster(keepalived_lab({"node1": "BACKUP 1", "node2": "BACKUP 2", "node3": ""}))
    assert electing.director_when_quiet() is None


def test_fwm_services_are_found_by_their_mark_the_ports_inventory_order() -> None:
    # ansible/hosts: port 80 then ssh_port 22, so mark 1 is port 80's service, 2 is 22's.
    cluster = open_cluster(keepalived_lab({}))
    assert cluster.weight_by_node("node1", 80) == {"node1": 1, "node2": 0, "node3": 1}
    assert cluster.active_by_node("node1", 22) == {"node1": 2, "node2": 1, "node3": 2}
    with pytest.raises(LabError, match=r"no 192\.168\.122\.100:443"):
        cluster.weight_by_node("node1", 443)


def test_keepalived_check_timing_comes_from_its_configuration() -> None:
    conf = render("keepalived.conf.j2", "node1", "fwmark")
    assert keepalived_setting(conf, "delay_loop") == 10.0
    assert keepalived_setting(conf, "connect_timeout") == 3.0
    assert keepalived_setting(conf, "lb_delay") is None
    cluster = open_cluster(keepalived_lab({}))
    cluster.lab.answers["cat /etc/keepalived/keepalived.conf"] = (0, conf)  # type: ignore[attr-defined]
    assert cluster.check_timing("node1") == (10.0, 3.0)
    with pytest.raises(LabError, match="sets no lb_delay"):
        cluster.setting("lb_delay")  # type: ignore[attr-defined]
