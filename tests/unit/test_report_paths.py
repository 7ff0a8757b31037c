from __future__ import annotations

from datetime import datetime
from pathlib import Path

from report.paths import mark_latest, new_run_dir

START = datetime(2026, 11, 29, 13, 5, 9)


def test_a_run_folder_is_named_by_its_start_and_never_reused(tmp_path: Path) -> None:
    first = new_run_dir(tmp_path, START)
    assert first == tmp_path / "20261129-130509" and not first.exists()
    first.mkdir()
    second = new_run_dir(tmp_path, START)
    assert second == tmp_path / "20261129-130509-2"


def test_latest_points_at_the_newest_run_relatively(tmp_path: Path) -> None:
    old, new = tmp_path / "20261129-120000", tmp_path / "20261129-130000"
    for run in (old, new):
        run.mkdir()
        (run / "index.html").write_text(run.name)
    mark_latest(old)
    link = mark_latest(new)
    assert link == tmp_path / "latest" and link.readlink() == Path(new.name)
    assert (link / "index.html").read_text() == new.name
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "20261129-120000",
        "20261129-130000",
        "latest",
    ]
