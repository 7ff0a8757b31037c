"""A check's result: valid (True), invalid (False) or unknown (None, not enough evidence),
with the details that led to it. A test asserts once on `valid is True`; the details go to
the pytest summary and the run's report folder (after Jepsen's checker results)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Verdict:
    name: str
    valid: bool | None
    details: dict[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @classmethod
    def judge(cls, name: str, problems: list[str], details: dict[str, Any]) -> Verdict:
        return cls(name, not problems, details, tuple(problems))

    @classmethod
    def unknown(cls, name: str, why: str, details: dict[str, Any] | None = None) -> Verdict:
        return cls(name, None, details or {}, (why,))

    def with_details(self, **more: Any) -> Verdict:
        """The same verdict with measures added to its details (they judge nothing)."""
        return Verdict(self.name, self.valid, {**self.details, **more}, self.problems)

    @property
    def word(self) -> str:
        return {True: "valid", False: "INVALID", None: "UNKNOWN"}[self.valid]

    def summary(self) -> str:
        lines = [f"{self.name}: {self.word}"]
        lines += [f"  - {p}" for p in self.problems]
        lines += [f"  {k}: {json.dumps(v, default=str)}" for k, v in self.details.items()]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "valid": self.valid,
            "problems": list(self.problems),
            "details": self.details,
        }

    def __str__(self) -> str:
        return self.summary()


def compose(name: str, verdicts: Iterable[Verdict]) -> Verdict:
    """Invalid if any part is invalid, else unknown if any is unknown (or there are no
    parts: nothing judged is not valid), else valid."""
    parts = list(verdicts)
    if not parts:
        return Verdict.unknown(name, "no checks to compose")
    valids = [v.valid for v in parts]
    valid = False if False in valids else None if None in valids else True
    # Parts may share a name (the same check before and after each move): number them.
    names = [v.name for v in parts]
    keys = [
        f"{n} #{names[:i].count(n) + 1}" if names.count(n) > 1 else n for i, n in enumerate(names)
    ]
    problems = tuple(f"{k}: {p}" for k, v in zip(keys, parts, strict=True) for p in v.problems)
    return Verdict(name, valid, {k: v.details for k, v in zip(keys, parts, strict=True)}, problems)
