"""The private libvirtd's command line: inside the namespace, /dev/kvm covered where it
exists (with qemu's per-domain /dev turned off to match), plain otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab import libvirt_sandbox


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(libvirt_sandbox, "KVM_COVER", tmp_path / "no-kvm")
    monkeypatch.setattr(libvirt_sandbox, "SANDBOX_QEMU_CONF", tmp_path / "qemu.conf")
    conf = tmp_path / "etc-qemu.conf"
    conf.write_text('#user = "root"\n')
    monkeypatch.setattr(libvirt_sandbox, "QEMU_CONF", conf)
    return tmp_path


def test_without_kvm_device_the_daemon_runs_plainly_in_the_namespace(run_dir: Path) -> None:
    argv = libvirt_sandbox.daemon_argv("ns1", "libvirtd", kvm_device=run_dir / "absent")
    assert argv == ["ip", "netns", "exec", "ns1", "libvirtd", "-d"]


def test_kvm_device_is_covered_in_a_private_mount_namespace(run_dir: Path) -> None:
    kvm = run_dir / "kvm"
    kvm.touch()
    argv = libvirt_sandbox.daemon_argv("ns1", "libvirtd", kvm_device=kvm)
    assert argv[:5] == ["ip", "netns", "exec", "ns1", "unshare"]
    assert "--mount" in argv and argv[argv.index("--propagation") + 1] == "private"
    script = argv[-1]
    assert f"mount --bind {run_dir / 'no-kvm'} {kvm}" in script
    assert script.endswith("exec libvirtd -d")
    assert (run_dir / "no-kvm").stat().st_mode & 0o777 == 0
    # libvirtd also gets a qemu.conf that keeps the original and turns namespaces off.
    assert f"mount --bind {run_dir / 'qemu.conf'}" in script
    conf = (run_dir / "qemu.conf").read_text()
    assert conf.startswith('#user = "root"\n') and conf.rstrip().endswith("namespaces = []")


def test_virtlogd_needs_no_qemu_conf(run_dir: Path) -> None:
    kvm = run_dir / "kvm"
    kvm.touch()
    script = libvirt_sandbox.daemon_argv("ns1", "virtlogd", kvm_device=kvm)[-1]
    assert "qemu.conf" not in script and script.endswith("exec virtlogd -d")


def test_no_pid_file_means_no_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(libvirt_sandbox.DAEMONS, "libvirtd", tmp_path / "libvirtd.pid")
    assert libvirt_sandbox.running_netns() is None
    (tmp_path / "libvirtd.pid").write_text("999999999\n")  # no such process
    assert libvirt_sandbox.running_netns() is None
