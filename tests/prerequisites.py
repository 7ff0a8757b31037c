"""Prerequisites of tests: skipped without them, failed under --require-lab."""

from __future__ import annotations

import pytest


def require(config: pytest.Config, ok: object, why: str) -> None:
    """A prerequisite of a test: skip without it, but fail under --require-lab (CI), where
    a missing tool must never pass as a skipped test."""
    __tracebackhide__ = True
    if ok:
        return
    if config.getoption("--require-lab"):
        pytest.fail(f"--require-lab: {why}")
    pytest.skip(why)
