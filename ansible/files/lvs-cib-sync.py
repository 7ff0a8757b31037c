#!/usr/bin/python3
"""Makes the cluster's resources and constraints what the deploy's templates say, in one
step (the playbook runs it once, on one node).

Why not "create what is missing": an object created once never follows a later change of
its template (a profile switch that changes an agent's class, a new operation timeout), so a
re-deploy would report no change while the cluster still runs the old definition.

Input (argv[1]): a JSON list, in creation order, of
  {"object": name, "scope": "resources"|"constraints", "find": ElementTree path,
   "xml": the object's XML, or null for "must not exist",
   "clear_first": optional {"scope": ..., "find": ...}, an object to delete before this
   one is replaced (e.g. a rule on the attribute a resource sets: a restart of the resource
   deletes the attribute, and the rule would act on that; the deploy puts it back after)}.
Each object is looked up in the live configuration (`cibadmin --query`, once), compared with
its template ignoring whitespace and the `target-role` meta attribute (the deploy and the
operator start and stop resources through it; a re-deploy must not undo that), then created,
replaced (the live target-role kept) or deleted with cibadmin. Prints a JSON summary
{"created": [...], "replaced": [...], "deleted": [...]}; exit 1 with cibadmin's words when
the cluster refuses a change."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass

Canon = tuple[str, tuple[tuple[str, str], ...], tuple["Canon", ...]]


@dataclass(frozen=True)
class Wanted:
    object: str
    scope: str
    find: str
    xml: str | None
    clear_first: dict[str, str] | None = None


@dataclass(frozen=True)
class Change:
    verb: str  # created, replaced, deleted
    object: str
    argv: tuple[tuple[str, ...], ...]  # the cibadmin calls, in order


def without_target_role(element: ET.Element) -> ET.Element:
    """A copy with every target-role nvpair and the meta_attributes left empty removed."""
    copy = ET.fromstring(ET.tostring(element))
    for meta in list(copy.iter("meta_attributes")):
        for pair in list(meta.findall("nvpair")):
            if pair.get("name") == "target-role":
                meta.remove(pair)
    for parent in list(copy.iter()):
        for child in list(parent):
            if child.tag == "meta_attributes" and len(child) == 0:
                parent.remove(child)
    return copy


def canon(element: ET.Element) -> Canon:
    return (
        element.tag,
        tuple(sorted(element.attrib.items())),
        tuple(canon(child) for child in element),
    )


def same(live: ET.Element, want: ET.Element) -> bool:
    return canon(without_target_role(live)) == canon(without_target_role(want))


def keep_target_role(live: ET.Element, want: ET.Element) -> ET.Element:
    """want, with the target-role the live object has (or none if it has none)."""
    result = without_target_role(want)
    role = next(
        (p for m in live.iter("meta_attributes") for p in m.findall("nvpair")
         if p.get("name") == "target-role"),
        None,
    )  # fmt: skip
    if role is None:
        return result
    meta = result.find("meta_attributes")
    if meta is None:
        meta = ET.SubElement(result, "meta_attributes", id=f"{result.get('id')}-meta_attributes")
    meta.append(role)
    return result


def delete_argv(scope: str, element: ET.Element) -> tuple[str, ...]:
    return ("cibadmin", "--delete", "--scope", scope,
            "--xml-text", f'<{element.tag} id="{element.get("id")}"/>')  # fmt: skip


def create_argv(scope: str, xml: str) -> tuple[str, ...]:
    return ("cibadmin", "--create", "--scope", scope, "--xml-text", xml)


def plan(configuration: ET.Element, wanted: list[Wanted]) -> list[Change]:
    """What to change so that every wanted object is as its template says."""
    changes: list[Change] = []
    for item in wanted:
        live = configuration.find(item.find)
        if item.xml is None:
            if live is not None:
                changes.append(Change("deleted", item.object, (delete_argv(item.scope, live),)))
            continue
        want = ET.fromstring(item.xml)
        if live is None:
            changes.append(Change("created", item.object, (create_argv(item.scope, item.xml),)))
        elif not same(live, want):
            new = ET.tostring(keep_target_role(live, want), encoding="unicode")
            calls: tuple[tuple[str, ...], ...] = ()
            if item.clear_first is not None:
                guard = configuration.find(item.clear_first["find"])
                if guard is not None:
                    calls = (delete_argv(item.clear_first["scope"], guard),)
            if live.tag == want.tag and live.get("id") == want.get("id"):
                calls += (("cibadmin", "--replace", "--scope", item.scope, "--xml-text", new),)
            else:
                calls += (delete_argv(item.scope, live), create_argv(item.scope, new))
            changes.append(Change("replaced", item.object, calls))
    return changes


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: lvs-cib-sync JSON-LIST-OF-OBJECTS", file=sys.stderr)
        return 2
    wanted = [Wanted(**entry) for entry in json.loads(argv[1])]
    query = subprocess.run(["cibadmin", "--query", "--scope", "configuration"],
                           capture_output=True, text=True)  # fmt: skip
    if query.returncode != 0:
        print(f"cibadmin --query failed: {query.stderr.strip()}", file=sys.stderr)
        return 1
    summary: dict[str, list[str]] = {"created": [], "replaced": [], "deleted": []}
    for change in plan(ET.fromstring(query.stdout), wanted):
        for call in change.argv:
            proc = subprocess.run(call, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{change.object}: {' '.join(call[:2])} failed: {proc.stderr.strip()}",
                      file=sys.stderr)  # fmt: skip
                print(json.dumps(summary))
                return 1
        summary[change.verb].append(change.object)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
