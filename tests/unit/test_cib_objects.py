"""The CIB objects the deploy writes with cibadmin (ansible/templates/cib/), rendered and
validated against pacemaker's own schema (pacemaker-common's RelaxNG, unpacked by make
setup), so a typo is caught here and not by a cluster that refuses the object."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import jinja2
import pytest

from tests.unit.test_ocf_agent import RA_ROOT

CIB_TEMPLATES = Path(__file__).parents[2] / "ansible" / "templates" / "cib"
SCHEMAS = RA_ROOT / "root/usr/share/pacemaker"
RESOURCES = ["lvs-clone", "ldirectord", "ping-clone"]
CONSTRAINTS = ["ldirectord-with-director", "ldirectord-after-promote", "lvs-needs-service-net"]
# With seed's symmetrical promote/start order this one would be an ordering loop.
HARDENED_CONSTRAINTS = ["ldirectord-stops-after-demote"]


# The role names the playbook picks by pacemaker's version (lvs.yml: cib_roles), with the
# newest CIB schema that version knows: 2.0 (Debian 11) only the OCF 1.0 names.
ROLES = {
    "ocf-1.1": ({"promoted_role": "Promoted", "unpromoted_role": "Unpromoted"}, "pacemaker-3.9"),
    "ocf-1.0": ({"promoted_role": "Master", "unpromoted_role": "Slave"}, "pacemaker-3.5"),
}


def render(name: str, profile: str = "hardened", roles: str = "ocf-1.1") -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(CIB_TEMPLATES), undefined=jinja2.StrictUndefined
    )
    return env.get_template(f"{name}.xml.j2").render(
        lvs_nic="eth0", vip="192.168.122.100", lvs_monitor_mode="full",
        ping_hosts="192.168.122.1", lvs_profile=profile, ipvs_sync_nic="eth1", **ROLES[roles][0],
    )  # fmt: skip


def cib_with_every_object(profile: str = "hardened", roles: str = "ocf-1.1") -> str:
    resources = "".join(render(n, profile, roles) for n in RESOURCES)
    names = CONSTRAINTS + (HARDENED_CONSTRAINTS if profile == "hardened" else [])
    constraints = "".join(render(n, profile, roles) for n in names)
    return (
        f'<cib validate-with="{ROLES[roles][1]}" epoch="1" num_updates="0" admin_epoch="0">'
        "<configuration><crm_config/><nodes/>"
        f"<resources>{resources}</resources><constraints>{constraints}</constraints>"
        "</configuration><status/></cib>"
    )


def test_every_template_is_used_by_the_test() -> None:
    found = sorted(p.name.removesuffix(".xml.j2") for p in CIB_TEMPLATES.glob("*.xml.j2"))
    assert found == sorted(RESOURCES + CONSTRAINTS + HARDENED_CONSTRAINTS)


def test_objects_carry_what_the_playbook_looks_them_up_by() -> None:
    cib = ET.fromstring(cib_with_every_object())
    ids = [e.get("id") for e in cib.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), "ids must be unique in a CIB"
    lvs = cib.find(".//primitive[@id='lvs']")
    assert lvs is not None and lvs.get("type") == "lvs"
    params = {n.get("name"): n.get("value") for n in lvs.iter("nvpair")}
    assert params == {
        "nic": "eth0", "vip": "192.168.122.100", "monitor_mode": "full", "sync_interface": "eth1",
    }  # fmt: skip
    rule = cib.find(".//rsc_location[@id='lvs-needs-service-net']/rule")
    assert rule is not None and rule.get("role") == "Promoted"
    assert rule.get("score") == "-INFINITY" and rule.get("boolean-op") == "or"


@pytest.mark.parametrize("roles", sorted(ROLES))
@pytest.mark.parametrize("profile", ["seed", "hardened"])
def test_the_cib_validates_against_pacemakers_schema(
    profile: str, roles: str, tmp_path: Path, needs: Callable[[object, str], None]
) -> None:
    schema = SCHEMAS / f"{ROLES[roles][1]}.rng"
    needs(schema.exists() and shutil.which("xmllint"), f"needs {schema} and xmllint (make setup)")
    document = tmp_path / "cib.xml"
    document.write_text(cib_with_every_object(profile, roles))
    lint = subprocess.run(
        ["xmllint", "--noout", "--relaxng", str(schema), str(document)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stderr


def test_pacemaker_2_0s_newest_schema_refuses_the_new_role_names(
    tmp_path: Path, needs: Callable[[object, str], None]
) -> None:
    # Why the playbook picks the names by version: Debian 11's pacemaker would refuse them.
    schema = SCHEMAS / f"{ROLES['ocf-1.0'][1]}.rng"
    needs(schema.exists() and shutil.which("xmllint"), f"needs {schema} and xmllint (make setup)")
    document = tmp_path / "cib.xml"
    cib = cib_with_every_object(roles="ocf-1.1")
    document.write_text(cib.replace(ROLES["ocf-1.1"][1], ROLES["ocf-1.0"][1]))
    lint = subprocess.run(
        ["xmllint", "--noout", "--relaxng", str(schema), str(document)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert lint.returncode != 0


def test_ldirectord_runs_as_the_article_says_on_seed_and_stops_at_once_on_hardened() -> None:
    seed = ET.fromstring(render("ldirectord", "seed"))
    assert (seed.get("class"), seed.get("type")) == ("systemd", "ldirectord")
    hardened = ET.fromstring(render("ldirectord", "hardened"))
    assert (hardened.get("class"), hardened.get("provider")) == ("ocf", "lvs-ha-lab")
    params = {n.get("name"): n.get("value") for n in hardened.iter("nvpair")}
    assert params["prestart"] == "/usr/local/sbin/lvs-ipvs-seed"
    # Created stopped: the deploy lets it run once its constraints exist.
    assert (
        params["target-role"] == "Stopped"
        and seed.find(".//nvpair[@name='target-role']") is not None
    )


def test_on_hardened_a_failed_director_monitor_only_demotes() -> None:
    """In place, the director's recovery (demote, stop, start) held the promote elsewhere."""

    def promoted_monitor(profile: str, roles: str) -> ET.Element:
        clone = ET.fromstring(render("lvs-clone", profile, roles))
        role = ROLES[roles][0]["promoted_role"]
        return next(op for op in clone.iter("op") if op.get("role") == role)

    for roles in ROLES:
        assert promoted_monitor("hardened", roles).get("on-fail") == "demote"
        assert promoted_monitor("seed", roles).get("on-fail") is None


def test_seed_runs_no_connection_sync() -> None:
    lvs = ET.fromstring(render("lvs-clone", "seed")).find(".//primitive[@id='lvs']")
    assert lvs is not None
    assert "sync_interface" not in {n.get("name") for n in lvs.iter("nvpair")}


def test_ldirectord_starts_after_the_promote_and_on_hardened_the_order_holds_one_way() -> None:
    # On pacemaker 2.0 too (OCF 1.0 names): it once blocked the demote order's stop when lvs
    # recovered in place; with on-fail=demote and the Optional kind it no longer does
    # (docs/nic-down.md).
    for roles in ROLES:
        seed = ET.fromstring(render("ldirectord-after-promote", "seed", roles=roles))
        hardened = ET.fromstring(render("ldirectord-after-promote", "hardened", roles=roles))
        for order in (seed, hardened):
            assert (order.get("first-action"), order.get("then-action")) == ("promote", "start")
        assert seed.get("symmetrical") is None  # the article's: stop ldirectord, then demote
        assert hardened.get("symmetrical") == "false"


def test_on_hardened_ldirectord_stops_after_the_demote_one_way() -> None:
    order = ET.fromstring(render("ldirectord-stops-after-demote"))
    assert (order.get("first"), order.get("first-action")) == ("lvs-clone", "demote")
    assert (order.get("then"), order.get("then-action")) == ("ldirectord", "stop")
    # Symmetrical, it would also order ldirectord's start before the promote: a loop with
    # the promote-then-start order.
    assert order.get("symmetrical") == "false"
    # Optional: a stop with no demote in its transition (the cluster stopped on every node
    # at once) must not wait for one; mandatory, pacemaker's stop hung 20 min.
    assert order.get("kind") == "Optional"


def test_the_playbook_finds_each_order_by_its_first_action() -> None:
    """Both orders run from lvs-clone to ldirectord: a lookup by first and then alone
    would find the other one and replace it."""
    playbook = (CIB_TEMPLATES.parents[1] / "lvs.yml").read_text()
    cib = ET.fromstring(cib_with_every_object())
    finds = re.findall(r'find: "(\.//rsc_order[^"]*)"', playbook)
    assert len(finds) == 2
    found = [cib.findall(f) for f in finds]
    assert [len(f) for f in found] == [1, 1] and found[0][0] is not found[1][0]


def test_the_ping_run_with_no_answer_is_short_and_still_three_pings() -> None:
    ping = ET.fromstring(render("ping-clone")).find(".//primitive[@id='ping']")
    assert ping is not None
    params = {n.get("name"): n.get("value") for n in ping.iter("nvpair")}
    assert params["attempts"] == "3"
    # ping reads options after the agent's own -W (whole seconds): the last -W is the one.
    assert params["options"].split()[-2:] == ["-W", "0.4"]
