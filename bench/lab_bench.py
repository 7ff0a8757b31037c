"""Lab benchmark: image build (cold and cached), time to every node reachable, memory.

Figures, not asserts. Cold build runs in a throw-away LVSLAB_HOME so the user's cache stays.
Usage: python bench/lab_bench.py [--cold] [--name lvslab-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from lab import control
from lab.image import ImageCache, ImageRecipe, uml_kernel_release
from lab.state import home

INVENTORY = Path(__file__).parents[1] / "ansible" / "hosts"


def used_memory_mib() -> float:
    """Host memory in use, counting /dev/shm (UML backs guest RAM with files there)."""
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":", 1)
        info[key] = int(value.split()[0])
    return (info["MemTotal"] - info["MemAvailable"]) / 1024


def timed(fn) -> float:
    started = time.monotonic()
    fn()
    return round(time.monotonic() - started, 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cold", action="store_true", help="also time a cold image build")
    p.add_argument("--name", default="lvslab-bench")
    args = p.parse_args()
    recipe = ImageRecipe(uml_kernel_release())
    figures: dict[str, float] = {}
    if args.cold:
        with tempfile.TemporaryDirectory(dir=home().parent) as scratch:
            figures["image_build_cold_s"] = timed(lambda: ImageCache(Path(scratch)).build(recipe))
    cache = ImageCache(home() / "images")
    cache.ensure(recipe)
    figures["image_check_cached_s"] = timed(lambda: cache.ensure(recipe))
    control.down(args.name)
    before = used_memory_mib()
    started = time.monotonic()
    lab = control.up(INVENTORY, name=args.name)
    figures["lab_up_to_reachable_s"] = round(time.monotonic() - started, 1)
    time.sleep(10)  # let boot-time services settle before reading memory
    figures["lab_memory_mib"] = round(used_memory_mib() - before)
    figures["nodes"] = len(lab.nodes)
    figures["lab_down_s"] = timed(lambda: control.down(args.name))
    print(json.dumps(figures, indent=2))
    out = Path(os.environ.get("REPORTS", "reports"))
    out.mkdir(exist_ok=True)
    (out / "lab-bench.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
