from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from lab.deploy import hacluster_password, parse_recap, render_lab_inventory
from tests.unit.fake_lab import FakeLab

ANSIBLE = Path(__file__).parents[2] / "ansible"


def render_ldirectord(nodes: int, services: list[int]) -> str:
    # Ansible renders templates with trim_blocks on; do the same.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ANSIBLE / "templates"),
        trim_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    names = [f"node{i}" for i in range(1, nodes + 1)]
    return env.get_template("ldirectord.cf.j2").render(
        vip="192.168.122.100",
        lvs_ports=services,
        groups={"nodes": names},
        hostvars={n: {"ip": f"192.168.122.{110 + i}"} for i, n in enumerate(names, 1)},
    )


@pytest.mark.parametrize("nodes", [3, 5])
def test_ldirectord_cf_has_one_gate_real_per_node(nodes: int) -> None:
    cf = render_ldirectord(nodes, [80])
    reals = [line.strip() for line in cf.splitlines() if line.strip().startswith("real=")]
    assert reals == [f"real=192.168.122.{110 + i}:80 gate" for i in range(1, nodes + 1)]
    for setting in (
        "checktimeout=3",
        "checkinterval=10",
        "autoreload=yes",
        "quiescent=yes",
        "virtual=192.168.122.100:80",
        "checkport=80",
        "checktype=connect",
        "service=simpletcp",
        "scheduler=lc",
        "protocol=tcp",
    ):
        assert setting in cf.split(), setting


def test_ldirectord_cf_one_virtual_per_service() -> None:
    cf = render_ldirectord(3, [80, 22])
    assert [w for w in cf.split() if w.startswith("virtual=")] == [
        "virtual=192.168.122.100:80",
        "virtual=192.168.122.100:22",
    ]
    assert "real=192.168.122.113:22" in cf


def fake_lab(tmp_path: Path) -> FakeLab:
    lab = FakeLab(run_dir=tmp_path, service_ifname="eth1")
    lab.state.mgmt_ifname = "eth0"
    return lab


def test_lab_inventory_adds_how_to_reach_nodes_and_their_service_nic(tmp_path: Path) -> None:
    text = render_lab_inventory(fake_lab(tmp_path))
    assert text.splitlines() == [
        "[nodes:vars]",
        "ping_hosts=192.168.122.1",
        "pacemaker_load_threshold=400%",
        "ipvs_sync_nic=eth0",
        "[nodes]",
        *(
            f"node{i} ansible_host=node{i} ansible_user=root "
            f"ansible_ssh_common_args='-F /l/ssh/config' service_nic=eth1 "
            f"mgmt_ip=192.168.121.11{i}"
            for i in (1, 2, 3)
        ),
    ]


def test_lab_inventory_names_no_sync_nic_when_the_lab_does_not_know_one(tmp_path: Path) -> None:
    lab = fake_lab(tmp_path)
    lab.state.mgmt_ifname = None
    assert not any("ipvs_sync_nic" in line for line in render_lab_inventory(lab).splitlines())


def test_deploy_multiplexes_over_the_labs_socket_dir_with_a_long_persist(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("Host *\n    User root\n    ControlPath /run/lvs-ha-lab/abc/cm-%n\n")
    lab = fake_lab(tmp_path)
    lab.state.ssh_config = config
    lines = render_lab_inventory(lab).splitlines()
    line = lines[lines.index("[nodes]") + 1]
    assert (
        "ansible_ssh_args='-C -o ControlMaster=auto -o ControlPersist=30m "
        "-o ControlPath=/run/lvs-ha-lab/abc/cm-a-%n' " in line
    )
    assert line.endswith("service_nic=eth1 mgmt_ip=192.168.121.111")


def test_hacluster_password_is_per_lab_private_and_stable(tmp_path: Path) -> None:
    lab = fake_lab(tmp_path)
    first = hacluster_password(lab)
    assert len(first) >= 16 and first == hacluster_password(lab)
    assert (tmp_path / "secrets" / "hacluster").stat().st_mode & 0o777 == 0o600
    assert hacluster_password(fake_lab(tmp_path / "other")) != first


def test_playbook_keeps_no_secret_in_the_repo() -> None:
    playbook = (ANSIBLE / "lvs.yml").read_text()
    assert "123456" not in playbook and "$6$" not in playbook


def test_parse_recap() -> None:
    recap = (
        "PLAY RECAP ***\n"
        "node1                      : ok=30   changed=2    unreachable=0    failed=0    "
        "skipped=5    rescued=0    ignored=0\n"
        "node2                      : ok=28   changed=0    unreachable=1    failed=0\n"
    )
    hosts = parse_recap(recap)
    assert hosts["node1"]["changed"] == 2 and hosts["node1"]["skipped"] == 5
    assert hosts["node2"] == {"ok": 28, "changed": 0, "unreachable": 1, "failed": 0}
