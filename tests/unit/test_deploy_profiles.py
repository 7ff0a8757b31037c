"""The deploy's profile and corosync layout: what corosync.conf each cell gets, how they
reach ansible-playbook, and how Ansible is told to run (Mitogen or stock)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import jinja2
import pytest
import yaml

from lab.deploy import DeploySettings, playbook_argv, strategy_env
from lab.errors import LabError

TEMPLATES = Path(__file__).parents[2] / "ansible" / "templates"


PLAY_VARS = yaml.safe_load((TEMPLATES.parent / "lvs.yml").read_text())[0]["vars"]


def corosync_conf(profile: str, links: str) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True,
        undefined=jinja2.StrictUndefined,
    )  # fmt: skip
    names = ["node1", "node2", "node3"]
    return env.get_template("corosync.conf.j2").render(
        cluster_name="lvscluster",
        lvs_profile=profile,
        corosync_links=links,
        # The play's own values, so the test follows the playbook.
        corosync_token_ms=PLAY_VARS["corosync_token_ms"],
        corosync_token_coefficient_ms=PLAY_VARS["corosync_token_coefficient_ms"],
        groups={"nodes": names},
        hostvars={
            n: {"ip": f"192.168.122.{110 + i}", "mgmt_ip": f"192.168.121.{110 + i}"}
            for i, n in enumerate(names, 1)
        },
    )


def test_service_layout_has_one_link_on_the_service_network() -> None:
    conf = corosync_conf("seed", "service")
    assert "ring0_addr: 192.168.122.111" in conf
    assert "ring1_addr" not in conf
    assert "token:" not in conf  # seed keeps corosync's default


def test_dual_layout_adds_a_link_on_each_nodes_management_address() -> None:
    conf = corosync_conf("seed", "dual")
    rings = [line.split()[-1] for line in conf.splitlines() if "ring1_addr" in line]
    assert rings == ["192.168.121.111", "192.168.121.112", "192.168.121.113"]


def test_hardened_tunes_the_token_flat_for_three_nodes() -> None:
    lines = corosync_conf("hardened", "service").splitlines()
    assert "    token: 1000" in lines and "    token_coefficient: 0" in lines


def test_settings_reach_the_playbook_as_extra_vars() -> None:
    argv = playbook_argv([Path("hosts"), Path("lab.ini")], DeploySettings("hardened", "dual"))
    assert argv[-1].endswith("lvs.yml")
    assert argv[5:9] == ["-e", "lvs_profile=hardened", "-e", "corosync_links=dual"]


@pytest.mark.parametrize(
    ("field", "value"), [("profile", "paranoid"), ("corosync_links", "triple"), ("strategy", "x")]
)
def test_unknown_settings_are_refused_with_the_choices(field: str, value: str) -> None:
    with pytest.raises(LabError, match=f"unknown {field} '{value}'"):
        DeploySettings(**{field: value})


def test_mitogen_strategy_points_ansible_at_mitogens_plugins() -> None:
    env = strategy_env("mitogen")
    assert env["ANSIBLE_STRATEGY"] == "mitogen_linear"
    assert (Path(env["ANSIBLE_STRATEGY_PLUGINS"]) / "mitogen_linear.py").is_file()
    assert strategy_env("stock") == {"ANSIBLE_STRATEGY": "linear"}


def test_the_play_names_no_strategy_of_its_own() -> None:
    # A play's `strategy:` overrides ANSIBLE_STRATEGY: the deploy would silently run stock.
    play = (TEMPLATES.parent / "lvs.yml").read_text()
    assert not [line for line in play.splitlines() if line.strip().startswith("strategy:")]


def initial_cib(schemas: list[str]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True,
        undefined=jinja2.StrictUndefined,
    )  # fmt: skip
    env.filters["basename"] = lambda path: Path(path).name  # Ansible's filter
    files = [{"path": f"/usr/share/pacemaker/{name}"} for name in schemas]
    return env.get_template("initial-cib.xml.j2").render(
        cib_schemas={"files": files}, pacemaker_dc_deadtime=PLAY_VARS["pacemaker_dc_deadtime"]
    )


def test_a_new_nodes_cib_validates_with_the_newest_schema_by_version_not_by_name() -> None:
    cib = ET.fromstring(
        initial_cib(["pacemaker-1.0.rng", "pacemaker-3.10.rng", "pacemaker-3.9.rng"])
    )
    assert cib.get("validate-with") == "pacemaker-3.10"  # never "none": validation stays on
    deadtime = cib.find("configuration/crm_config/cluster_property_set/nvpair[@name='dc-deadtime']")
    assert deadtime is not None and deadtime.get("value") == PLAY_VARS["pacemaker_dc_deadtime"]
    assert [child.tag for child in cib.find("configuration")] == [
        "crm_config", "nodes", "resources", "constraints",
    ]  # fmt: skip
