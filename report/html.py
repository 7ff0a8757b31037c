"""One HTML page per run, readable offline and without JavaScript: every validation test
with its outcome (from JUnit XML) and verdicts, the failover scenarios with their outages
and timeline pictures, the deploy's slowest tasks, and what the nodes run.

    python -m report.html reports/latest   # writes reports/latest/index.html
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from report import timeline
from report.paths import LATEST, folder_name

OUTAGE_KEYS = (
    "answering_after_s",
    "recovered_after_s",
    "balanced_again_s",
    "outage_total_s",
    "failed_after_fault",
)

PAGE = jinja2.Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lvs-ha-lab report</title>
<style>
body { font: 14px/1.4 sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.passed { color: #176117; } .failed, .error { color: #b00; font-weight: bold; }
.xfailed { color: #8a5a00; } .skipped { color: #666; }
img { max-width: 100%; border: 1px solid #ddd; }
code { font-size: 12px; }
</style></head><body>
<h1>lvs-ha-lab report</h1>
<p>{{ totals | join(", ") }}. JUnit XML: <code>{{ junit }}</code>.</p>
{% if facts %}<h2>Lab and cluster</h2><table>
{% for k, v in facts.items() %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}
</table>{% endif %}
{% if scenarios %}<h2>Failover scenarios</h2>
<p>Outage definitions: docs/suites.md, "Failover". Answering again = the first failure window after
the fault closed; recovered = the last one closed; balanced again = every live node answered
within 2 s; total = the sum of all windows.</p>
<table><tr><th>scenario</th><th>outcome</th><th>answering again (s)</th><th>recovered (s)</th>
<th>balanced again (s)</th><th>outage total (s)</th><th>failed attempts</th></tr>
{% for s in scenarios %}<tr><td><a href="#{{ s.anchor }}">{{ s.name }}</a></td>
<td class="{{ s.outcome }}">{{ s.outcome }}</td>
{% for k in outage_keys %}<td>{% if k not in s.outage %}{% elif s.outage[k] is none %}never
{% else %}{{ s.outage[k] }}{% endif %}</td>{% endfor %}</tr>{% endfor %}
</table>
{% for s in scenarios if s.first_of_picture %}<h3 id="{{ s.anchor }}">{{ s.name }}</h3>
<p><img src="{{ s.picture }}" alt="timeline of {{ s.name }}"></p>{% endfor %}
{% endif %}
<h2>Tests</h2>
<table><tr><th>test</th><th>outcome</th><th>s</th><th>verdicts</th></tr>
{% for t in tests %}<tr><td><code>{{ t.name }}</code></td>
<td class="{{ t.outcome }}">{{ t.outcome }}</td><td>{{ "%.1f" | format(t.seconds) }}</td>
<td>{% for v in t.verdicts %}{{ v.name }}: <b>{{ v.word }}</b>{% for p in v.problems %}<br>
&nbsp;&nbsp;{{ p }}{% endfor %}<br>{% endfor %}{% if t.message %}<br><code>{{ t.message }}</code>
{% endif %}</td></tr>{% endfor %}
</table>
{% if tasks %}<h2>Deploy: slowest tasks ({{ deploy_seconds }} s in all)</h2><table>
{% for name, s in tasks %}<tr><td>{{ name }}</td><td>{{ s }}</td></tr>{% endfor %}</table>
{% endif %}
</body></html>
""",
    autoescape=True,
)


@dataclass
class TestRow:
    name: str
    outcome: str
    seconds: float
    message: str = ""
    nodeid: str = ""  # pytest's, from the test's junit property (conftest records it)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    folder: str = ""


def junit_rows(path: Path) -> list[TestRow]:
    rows = []
    for case in ET.parse(path).getroot().iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            found = case.find(tag)
            if found is not None:
                text = found.get("message", "") or ""
                outcome = (
                    "xfailed"
                    if tag == "skipped" and "xfail" in found.get("type", "")
                    else {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                )
                message = text[:300]
                break
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        row = TestRow(name, outcome, float(case.get("time", 0)), message, props.get("nodeid", ""))
        rows.append(row)
    return rows


def outage_figures(details: Any) -> dict[str, Any]:
    """The outage figures anywhere in a (composed) verdict's details."""
    found: dict[str, Any] = {}
    if isinstance(details, dict):
        for key, value in details.items():
            if key in OUTAGE_KEYS and key not in found:
                found[key] = value
            elif isinstance(value, dict):
                for k, v in outage_figures(value).items():
                    found.setdefault(k, v)
    return found


def slowest_tasks(timings: dict[str, Any], count: int = 10) -> list[tuple[str, float]]:
    """The deploy's slowest tasks from its timings file (lab.deploy): `tasks` is a list of
    [name, seconds] in play order (a task may run more than once)."""
    pairs = timings.get("tasks", [])
    if isinstance(pairs, dict):  # the older file's {name: seconds}
        pairs = list(pairs.items())
    return sorted(((str(n), float(t)) for n, t in pairs), key=lambda p: -p[1])[:count]


@dataclass
class Run:
    rows: list[TestRow]
    scenarios: list[dict[str, Any]]
    page: Path

    def summary(self) -> str:
        """The short table a person reads at the end of the main job."""
        suites: dict[str, dict[str, int]] = {}
        for row in self.rows:
            suite = row.name.split("::", 1)[0].rsplit(".", 1)[-1]
            counts = suites.setdefault(suite, {})
            counts[row.outcome] = counts.get(row.outcome, 0) + 1
        lines = [f"{'suite':34} outcomes"]
        for suite, counts in suites.items():
            lines.append(f"{suite:34} " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
        if self.scenarios:
            lines += ["", f"{'failover scenario':58} {'outcome':8} answering again / recovered"]
            for s in self.scenarios:
                o = s["outage"]
                answering, recovered = (
                    "never" if o.get(k, "-") is None else f"{o.get(k, '-')} s"
                    for k in ("answering_after_s", "recovered_after_s")
                )
                lines.append(f"{s['name'][:58]:58} {s['outcome']:8} {answering} / {recovered}")
        lines += ["", f"report: {self.page}"]
        return "\n".join(lines)


def build(reports: Path) -> Path:
    return collect(reports).page


def collect(reports: Path) -> Run:
    junit = reports / "junit.xml"
    rows = junit_rows(junit) if junit.exists() else []
    by_folder = {}
    for folder in sorted(p.parent for p in reports.rglob("verdicts.json")):
        by_folder[folder.name] = json.loads((folder / "verdicts.json").read_text())
    timeline.redraw(reports)
    scenarios = []
    for row in rows:
        folder = reports / folder_name(row.nodeid) if row.nodeid else None
        if folder is None or not folder.is_dir():
            continue
        row.folder = folder.name
        for v in by_folder.get(folder.name, []):
            word = {True: "valid", False: "INVALID", None: "UNKNOWN"}[v["valid"]]
            row.verdicts.append({"name": v["name"], "word": word, "problems": v["problems"]})
            outage = outage_figures(v["details"])
            if outage:
                # A scenario run once by a module fixture is drawn in the module's folder.
                module = reports / folder_name(row.nodeid.split("::", 1)[0])
                picture = next(
                    (p for p in (folder / "timeline.png", module / "timeline.png") if p.exists()),
                    folder / "timeline.png",
                )
                scenarios.append({
                    "name": row.name.split("::", 1)[1], "anchor": folder.name,
                    "outcome": row.outcome, "outage": outage,
                    "picture": str(picture.relative_to(reports)) if picture.exists() else "",
                })  # fmt: skip
    drawn: set[str] = set()
    for scenario in scenarios:  # one scenario judged by several tests: its picture once
        picture = scenario["picture"]
        scenario["first_of_picture"] = bool(picture) and picture not in drawn
        drawn.add(picture)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.outcome] = counts.get(row.outcome, 0) + 1
    facts_file = reports / "facts.json"
    tasks_file = reports / "deploy-tasks.json"
    tasks = json.loads(tasks_file.read_text()) if tasks_file.exists() else {}
    page = PAGE.render(
        totals=[f"{n} {k}" for k, n in sorted(counts.items())] or ["no JUnit XML found"],
        junit=junit,
        facts=json.loads(facts_file.read_text()) if facts_file.exists() else {},
        scenarios=scenarios,
        outage_keys=OUTAGE_KEYS,
        tests=rows,
        tasks=slowest_tasks(tasks),
        deploy_seconds=tasks.get("seconds"),
    )
    out = reports / "index.html"
    out.write_text(page)
    # The failover figures as data, for benchmarks and the docs' tables.
    (reports / "failover.json").write_text(json.dumps(scenarios, indent=1) + "\n")
    return Run(rows, scenarios, out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("reports", type=Path, nargs="?", default=Path("reports") / LATEST)
    print(collect(p.parse_args(argv).reports).summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
