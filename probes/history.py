"""One history per test: every probe appends timestamped records, checks read them back.

A record is a flat JSON object with at least `probe` (who recorded it) and `t` (Unix time
in seconds, ms resolution or better). Events of the test itself (a move started, a fault
healed) are records of probe "event". The file format is JSON Lines, one record per line,
so a history can be read while it is written and merged with `cat`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Record = dict[str, Any]


@dataclass
class History:
    records: list[Record] = field(default_factory=list)

    def add(self, probe: str, **fields: Any) -> Record:
        record: Record = {"probe": probe, "t": fields.pop("t", time.time()), **fields}
        self.records.append(record)
        return record

    def extend(self, probe: str, records: Iterable[Record]) -> list[Record]:
        """Add records a probe made elsewhere (they carry their own `t`)."""
        return [self.add(probe, **dict(r)) for r in records]

    def event(self, what: str, **fields: Any) -> Record:
        return self.add("event", what=what, **fields)

    def of(self, probe: str) -> list[Record]:
        return [r for r in self.records if r["probe"] == probe]

    def events(self, what: str) -> list[Record]:
        return [r for r in self.of("event") if r.get("what") == what]

    def __iter__(self) -> Iterator[Record]:
        return iter(sorted(self.records, key=lambda r: r["t"]))

    def __len__(self) -> int:
        return len(self.records)

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in self))
        return path

    @classmethod
    def load(cls, path: Path) -> History:
        records = []
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            if not isinstance(record, dict) or "probe" not in record or "t" not in record:
                raise ValueError(f"{path}:{number}: not a history record: {line[:80]}")
            records.append(record)
        return cls(records)
