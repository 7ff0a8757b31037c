"""What the benches that run pytest once per lab setting share: the table written and
printed, the runs that failed named, the exit status."""

from __future__ import annotations

from pathlib import Path

from lab.shell import say


def finish(text: str, out: Path, failed: list[str]) -> int:
    """Write the table to out and print it; 1 if any run failed (its report says why)."""
    out.write_text(text)
    print(text, end="")
    if failed:
        say(f"runs that failed: {', '.join(failed)} (their reports say why)")
    return 1 if failed else 0
