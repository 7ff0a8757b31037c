"""What ansible-playbook's default output says, read line by line as it streams: when each
task started, which task failed and why, and the recap. A failed deploy is then reported
with its task and message in one error line (CI logs keep that line, not the whole stream)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

TASK = re.compile(r"^TASK \[(?P<name>.*)\] \**$")
# "fatal: [node1]: FAILED! => {...}", "failed: [node1] (item=x) => {...}",
# "fatal: [node1]: UNREACHABLE! => {...}"
FAILURE = re.compile(r"^(?:fatal|failed): \[(?P<host>[^\]]+)\].*?=> (?P<result>.*)$")
# Keys of a task result that say why it failed, most telling first; all that are set are
# joined ("MODULE FAILURE" alone says nothing without the module's stderr).
REASON_KEYS = ("msg", "stderr", "module_stderr", "censored", "stdout")
REASON_CHARS = 300


@dataclass
class PlaybookLog:
    tasks: list[tuple[str, float]] = field(default_factory=list)  # (task, started at s)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (task, host, reason)
    recap: list[str] = field(default_factory=list)

    def feed(self, line: str, at: float) -> None:
        """One line of output, `at` seconds after the playbook started."""
        text = line.rstrip("\n")
        if self.recap or text.startswith("PLAY RECAP"):
            self.recap.append(line)
            return
        if text.strip() == "...ignoring" and self.failures:
            self.failures.pop()  # ignore_errors: not a failure of the run
            return
        if task := TASK.match(text):
            self.tasks.append((task["name"], at))
            return
        if failure := FAILURE.match(text):
            current = self.tasks[-1][0] if self.tasks else "?"
            self.failures.append((current, failure["host"], reason(failure["result"])))

    def durations(self, ended_at: float) -> list[tuple[str, float]]:
        """Seconds per task, in the order they ran (a task's end is the next one's start)."""
        ends = [start for _, start in self.tasks[1:]] + [ended_at]
        pairs = zip(self.tasks, ends, strict=True)
        return [(name, round(end - start, 1)) for (name, start), end in pairs]

    def slowest(self, ended_at: float, count: int = 5) -> list[tuple[str, float]]:
        return sorted(self.durations(ended_at), key=lambda d: d[1], reverse=True)[:count]

    def failure_summary(self) -> str:
        """'in task X: host: reason; host: reason', or '' when no task reported a failure."""
        if not self.failures:
            return ""
        task = self.failures[0][0]
        seen = dict.fromkeys(f"{host}: {why}" for t, host, why in self.failures if t == task)
        hosts = "; ".join(seen)  # a loop's failure is reported per item and for the task
        return f"in task [{task}]: {hosts}"


def reason(result: str) -> str:
    """The telling part of a task result (JSON after '=>'), cut to one short line."""
    try:
        data = json.loads(result)
    except ValueError:
        data = None
    text = result
    if isinstance(data, dict):
        text = " | ".join(str(data[k]) for k in REASON_KEYS if data.get(k)) or result
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 3] + "..."
