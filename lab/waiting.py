"""Polling for an effect, the one way every layer does it: a deadline, then a LabError that
says what did not happen (never a silent False or an infinite figure)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from lab.errors import LabError

T = TypeVar("T")


def wait_for(
    what: str, probe: Callable[[], T | None], deadline: float, interval: float = 0.5
) -> tuple[T, float]:
    """Poll probe until it returns something other than None; return it and the seconds
    it took. Raises LabError with `what` after deadline seconds."""
    started = time.monotonic()
    while True:
        value = probe()
        elapsed = time.monotonic() - started
        if value is not None:
            return value, elapsed
        if elapsed > deadline:
            raise LabError(f"{what}: not within {deadline:g}s")
        time.sleep(interval)


def until(
    what: str, predicate: Callable[[], bool], deadline: float, interval: float = 0.5
) -> float:
    """Poll predicate until it holds; the seconds it took. Raises LabError after deadline."""
    _, took = wait_for(what, lambda: True if predicate() else None, deadline, interval)
    return took
