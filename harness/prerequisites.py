"""Prerequisites of tests: skipped without them, failed under --require-lab; what a lab
backend needs on this machine; a fault the lab cannot make skips with the reason."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable

import pytest

from lab.errors import LabError
from lab.faults import Fault


def require(config: pytest.Config, ok: object, why: str) -> None:
    """A prerequisite of a test: skip without it, but fail under --require-lab (CI), where
    a missing tool must never pass as a skipped test."""
    __tracebackhide__ = True
    if ok:
        return
    if config.getoption("--require-lab"):
        pytest.fail(f"--require-lab: {why}")
    pytest.skip(why)


def lab_prerequisite_problem(backend: str) -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    if backend == "hosts":
        missing = [t for t in ("ssh", "nc", "ip") if shutil.which(t) is None]
        return f"needs {', '.join(missing)} on this machine" if missing else None
    if backend == "uml" and shutil.which("linux.uml") is None:
        return "needs Debian's user-mode-linux (make setup)"
    if backend == "libvirt":
        for tool in ("vagrant", "libvirtd", "qemu-system-x86_64", "qemu-img"):
            if shutil.which(tool) is None:
                return f"needs {tool}: vagrant, vagrant-libvirt, libvirt, qemu (make libvirt-setup)"
        if importlib.util.find_spec("libvirt") is None:
            return "needs libvirt-python (make libvirt-setup)"
    return None


def fault_or_skip(make: Callable[[], Fault]) -> Fault:
    """The fault, or a skip that says why this lab cannot make it (a backend without the
    capability: real hosts whose inventory names no power commands cannot be killed)."""
    try:
        return make()
    except LabError as exc:
        pytest.skip(str(exc))
