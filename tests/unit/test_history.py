from __future__ import annotations

import json
from pathlib import Path

import pytest

from probes.history import History


def test_records_round_trip_in_time_order(tmp_path: Path) -> None:
    history = History()
    history.add("sampler", t=2.0, ok=True, node="node2")
    history.event("move", t=1.0, to="node2")
    history.extend("arp", [{"t": 1.5, "op": "who-has"}])
    path = history.save(tmp_path / "run" / "history.jsonl")

    lines = path.read_text().splitlines()
    assert [json.loads(line)["t"] for line in lines] == [1.0, 1.5, 2.0]
    assert all(set(json.loads(line)) >= {"probe", "t"} for line in lines)
    loaded = History.load(path)
    assert [r["probe"] for r in loaded] == ["event", "arp", "sampler"]
    assert loaded.events("move") == [{"probe": "event", "t": 1.0, "what": "move", "to": "node2"}]
    assert loaded.of("arp") == [{"probe": "arp", "t": 1.5, "op": "who-has"}]


def test_add_stamps_the_time_when_none_is_given() -> None:
    record = History().add("holder", event="open")
    assert isinstance(record["t"], float) and record["t"] > 1.6e9


def test_load_rejects_a_line_that_is_not_a_record(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text('{"probe": "arp", "t": 1}\n{"op": "who-has"}\n')
    with pytest.raises(ValueError, match=r"history\.jsonl:2: not a history record"):
        History.load(path)
