"""The deploy's CIB sync (ansible/files/lvs-cib-sync.py): which objects it creates, replaces
and deletes for a given live configuration, and what it does when cibadmin refuses."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

from tests.unit.ansible_files import load
from tests.unit.test_cib_objects import render

FIND = ".//primitive[@id='ldirectord']"


@pytest.fixture(scope="module")
def sync() -> ModuleType:
    return load("lvs-cib-sync.py")


def configuration(*resources: str) -> ET.Element:
    return ET.fromstring(
        f"<configuration><resources>{''.join(resources)}</resources><constraints/></configuration>"
    )


def enabled(xml: str) -> str:
    """The object as the CIB holds it once the deploy let it run: target-role deleted, the
    meta_attributes element left empty (what crm_resource --delete-parameter leaves)."""
    element = ET.fromstring(xml)
    for meta in element.iter("meta_attributes"):
        for pair in list(meta):
            meta.remove(pair)
    return "\n  ".join(ET.tostring(element, encoding="unicode").split())  # other whitespace


def wanted(sync: ModuleType, xml: str | None) -> list:
    return [sync.Wanted("ldirectord", "resources", FIND, xml)]


def test_a_missing_object_is_created_from_its_template(sync: ModuleType) -> None:
    xml = render("ldirectord", "hardened")
    [change] = sync.plan(configuration(), wanted(sync, xml))
    assert change.verb == "created"
    assert change.argv == (("cibadmin", "--create", "--scope", "resources", "--xml-text", xml),)


def test_an_enabled_object_equal_to_its_template_is_left_alone(sync: ModuleType) -> None:
    live = configuration(enabled(render("ldirectord", "hardened")))
    assert sync.plan(live, wanted(sync, render("ldirectord", "hardened"))) == []


def test_a_changed_template_replaces_the_object_and_keeps_it_running(sync: ModuleType) -> None:
    live = configuration(enabled(render("ldirectord", "seed")))
    [change] = sync.plan(live, wanted(sync, render("ldirectord", "hardened")))
    assert change.verb == "replaced"
    [(_, verb, _, scope, _, xml)] = change.argv
    assert (verb, scope) == ("--replace", "resources")
    new = ET.fromstring(xml)
    assert new.get("class") == "ocf" and new.get("id") == "ldirectord"
    # The template creates it stopped; replacing a running one must not stop it.
    assert new.find(".//nvpair[@name='target-role']") is None


def test_a_replaced_object_keeps_the_live_target_role(sync: ModuleType) -> None:
    live = configuration(render("ldirectord", "seed"))  # still held Stopped
    [change] = sync.plan(live, wanted(sync, render("ldirectord", "hardened")))
    new = ET.fromstring(change.argv[0][-1])
    [role] = new.findall(".//nvpair[@name='target-role']")
    assert role.get("value") == "Stopped"


def test_an_object_found_under_another_id_is_deleted_then_created(sync: ModuleType) -> None:
    # e.g. a constraint pcs created with an id of its own, found by what it constrains.
    renamed = render("ldirectord", "seed").replace(
        'primitive id="ldirectord"', 'primitive id="ld-old"'
    )
    find_old = ".//primitive[@class='systemd']"
    want = sync.Wanted("ldirectord", "resources", find_old, render("ldirectord", "hardened"))
    [change] = sync.plan(configuration(renamed), [want])
    assert [call[1] for call in change.argv] == ["--delete", "--create"]
    assert change.argv[0][-1] == '<primitive id="ld-old"/>'
    assert 'id="ldirectord"' in change.argv[1][-1]


def test_a_guard_is_deleted_before_its_resource_is_replaced_and_only_then(
    sync: ModuleType,
) -> None:
    rule = render("lvs-needs-service-net")
    live = ET.fromstring(
        f"<configuration><resources>{render('ping-clone')}</resources>"
        f"<constraints>{rule}</constraints></configuration>"
    )
    guard = {"scope": "constraints", "find": ".//rsc_location[@id='lvs-needs-service-net']"}
    changed = render("ping-clone").replace('name="attempts" value="3"', 'name="attempts" value="4"')
    ping = ".//clone[@id='ping-clone']"
    [change] = sync.plan(live, [sync.Wanted("ping-clone", "resources", ping, changed, guard)])
    assert [call[1] for call in change.argv] == ["--delete", "--replace"]
    assert change.argv[0][-1] == '<rsc_location id="lvs-needs-service-net"/>'
    same = render("ping-clone")
    assert sync.plan(live, [sync.Wanted("ping-clone", "resources", ping, same, guard)]) == []


def test_an_unwanted_object_is_deleted_and_an_absent_one_left_absent(sync: ModuleType) -> None:
    live = configuration(render("ldirectord", "seed"))
    [change] = sync.plan(live, wanted(sync, None))
    assert change.verb == "deleted"
    assert change.argv == (
        (
            "cibadmin",
            "--delete",
            "--scope",
            "resources",
            "--xml-text",
            '<primitive id="ldirectord"/>',
        ),
    )
    assert sync.plan(configuration(), wanted(sync, None)) == []


REFUSAL = "Call cib_replace failed (-203): Update does not conform to the configured schema"


def fake_cibadmin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refuse: str = "") -> Path:
    """A cibadmin first on PATH that answers --query with a live seed ldirectord, logs each
    call's verb, and fails the calls whose verb is `refuse`. Returns the log."""
    live = ET.tostring(configuration(enabled(render("ldirectord", "seed"))), encoding="unicode")
    (tmp_path / "live.xml").write_text(live)
    script = tmp_path / "cibadmin"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$1" >> {tmp_path}/calls\n'
        f'[ "$1" = --query ] && exec cat {tmp_path}/live.xml\n'
        f'[ "$1" = "{refuse}" ] && {{ echo "{REFUSAL}" >&2; exit 1; }}\n'
        "exit 0\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    return tmp_path / "calls"


LDIRECTORD = {"object": "ldirectord", "scope": "resources", "find": FIND}
PING = {"object": "ping-clone", "scope": "resources", "find": ".//clone[@id='ping-clone']"}


def test_main_applies_the_plan_and_prints_what_changed(
    sync: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    calls = fake_cibadmin(tmp_path, monkeypatch)
    objects = [{**LDIRECTORD, "xml": render("ldirectord", "hardened")}]
    assert sync.main(["lvs-cib-sync", json.dumps(objects)]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "created": [], "replaced": ["ldirectord"], "deleted": [],
    }  # fmt: skip
    assert calls.read_text().split() == ["--query", "--replace"]


def test_main_stops_at_a_refused_change_and_says_why(
    sync: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    calls = fake_cibadmin(tmp_path, monkeypatch, refuse="--replace")
    objects = [
        {**LDIRECTORD, "xml": render("ldirectord", "hardened")},
        {**PING, "xml": render("ping-clone")},
    ]
    assert sync.main(["lvs-cib-sync", json.dumps(objects)]) == 1
    out = capsys.readouterr()
    assert f"ldirectord: cibadmin --replace failed: {REFUSAL}" in out.err
    assert json.loads(out.out) == {"created": [], "replaced": [], "deleted": []}
    assert calls.read_text().split() == ["--query", "--replace"]  # ping-clone never tried
