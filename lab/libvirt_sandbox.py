"""A private libvirt daemon inside a network namespace the harness creates: for machines
with no system libvirt to use (this project's CI: no usable KVM, no systemd, and nothing
lab-related may appear in the root namespace).

libvirtd started inside the namespace makes its bridges, dnsmasq, taps and qemu processes
there; its Unix socket (a file) stays reachable from the root namespace, so libvirt-python
and virsh work as usual. Vagrant, ssh and the client side run inside the namespace.

The sandbox is for hosts without a usable KVM, so its libvirtd runs TCG only and must not
see /dev/kvm: where the device exists but KVM does not work, libvirt finds its cached qemu
capabilities (no KVM) at odds with the device (KVM usable) on every call and probes qemu
again each time (measured: `virsh define` took 43 s). A private mount namespace covers
/dev/kvm with an unreadable file for the daemon and its qemu processes only. With /dev/kvm
a mount point, libvirt cannot build each qemu's private /dev (moving the mount fails), so
the same namespace gives libvirtd a qemu.conf with `namespaces = []`."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from pathlib import Path

from lab import netns as lab_netns
from lab.errors import LabError
from lab.shell import run, say

DEFAULT_NETNS = "lvslab-libvirt"
SOCKET = Path("/run/libvirt/libvirt-sock")
KVM_DEVICE = Path("/dev/kvm")
KVM_COVER = Path("/run/lvs-ha-lab/no-kvm")
QEMU_CONF = Path("/etc/libvirt/qemu.conf")
SANDBOX_QEMU_CONF = Path("/run/lvs-ha-lab/sandbox-qemu.conf")
DAEMONS = {"libvirtd": Path("/run/libvirtd.pid"), "virtlogd": Path("/run/virtlogd.pid")}


def pid_alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return pid


def running_netns() -> str | None:
    """The namespace the running libvirtd lives in ('' for the root one), None if none runs."""
    pid = pid_alive(DAEMONS["libvirtd"])
    if pid is None:
        return None
    mine = os.stat(f"/proc/{pid}/ns/net").st_ino
    for name in lab_netns.all_names():
        if os.stat(Path("/run/netns") / name).st_ino == mine:
            return name
    return ""


def start(netns: str = DEFAULT_NETNS, timeout: float = 30) -> None:
    """Start virtlogd and libvirtd in the namespace (made here); idempotent."""
    where = running_netns()
    if where == netns:
        say(f"libvirt sandbox {netns}: already running")
        return
    if where is not None:
        place = f"namespace {where}" if where else "the root namespace"
        raise LabError(f"a libvirtd is already running in {place}: stop it or use it")
    for tool in ("libvirtd", "virtlogd", "qemu-system-x86_64"):
        if shutil.which(tool) is None:
            raise LabError(f"{tool} is not installed (make libvirt-setup)")
    if not lab_netns.exists(netns):
        run(["ip", "netns", "add", netns])
        run(["ip", "-n", netns, "link", "set", "lo", "up"])
    for daemon in ("virtlogd", "libvirtd"):
        if pid_alive(DAEMONS[daemon]) is None:
            run(daemon_argv(netns, daemon), timeout=60)
    deadline = time.monotonic() + timeout
    while not SOCKET.exists():
        if time.monotonic() > deadline:
            raise LabError(f"libvirtd in {netns} did not open {SOCKET} within {timeout}s")
        time.sleep(0.2)
    say(f"libvirt sandbox {netns}: libvirtd and virtlogd running")


def daemon_argv(netns: str, daemon: str, kvm_device: Path = KVM_DEVICE) -> list[str]:
    """The daemon, daemonized, in the namespace; with /dev/kvm covered when there is one."""
    if not kvm_device.exists():
        return ["ip", "netns", "exec", netns, daemon, "-d"]
    KVM_COVER.parent.mkdir(parents=True, exist_ok=True)
    KVM_COVER.touch(mode=0o000, exist_ok=True)
    KVM_COVER.chmod(0o000)
    mounts = [f"mount --bind {KVM_COVER} {kvm_device}"]
    if daemon == "libvirtd" and QEMU_CONF.exists():
        SANDBOX_QEMU_CONF.write_text(sandbox_qemu_conf(QEMU_CONF.read_text()))
        mounts.append(f"mount --bind {SANDBOX_QEMU_CONF} {QEMU_CONF}")
    script = " && ".join([*mounts, f"exec {daemon} -d"])
    return [
        "ip",
        "netns",
        "exec",
        netns,
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
    ]


def sandbox_qemu_conf(original: str) -> str:
    return (
        original
        + "\n# lvs-ha-lab sandbox: /dev/kvm is covered, no per-qemu /dev\nnamespaces = []\n"
    )


def stop(netns: str = DEFAULT_NETNS) -> list[str]:
    """Stop the daemons, then everything left in the namespace (qemu, dnsmasq), then the
    namespace itself with its bridges and taps."""
    stopped: list[str] = []
    if running_netns() == netns:
        for daemon in ("libvirtd", "virtlogd"):
            pid = pid_alive(DAEMONS[daemon])
            if pid is not None:
                os.kill(pid, signal.SIGTERM)
                stopped.append(daemon)
        _wait_gone([DAEMONS["libvirtd"], DAEMONS["virtlogd"]])
    if lab_netns.exists(netns):
        leftovers = [int(p) for p in run(["ip", "netns", "pids", netns]).stdout.split()]
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if leftovers:
            stopped.append(f"{len(leftovers)} processes left in {netns}")
        lab_netns.delete(netns)
        stopped.append(f"namespace {netns}")
    return stopped


def _wait_gone(pid_files: list[Path], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while any(pid_alive(f) for f in pid_files) and time.monotonic() < deadline:
        time.sleep(0.2)
