from __future__ import annotations

from pathlib import Path

import pytest

from lab.cli import main


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LVSLAB_HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bogus"],
        ["up", "--lab", "nope"],
        ["up", "--release", "buster"],
        ["box", "--release", "sid"],
        ["fault", "smash", "node1"],
        ["fault", "nic-down", "node1", "--mode", "unplug"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage: lvslab" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [["status"], ["ssh", "node1"], ["client", "true"], ["fault", "kill", "node1"]]
)
def test_commands_on_a_lab_that_is_not_up(argv, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lvslab: error:") and "is the lab up" in err[0]


def test_up_with_a_missing_inventory(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 0)
    assert main(["up", "--inventory", "/nonexistent/hosts"]) == 1
    assert "inventory not found" in capsys.readouterr().err


def test_up_as_a_user_says_root_before_ansible_reads_its_config(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    # Ansible's configuration is read when ansible is first imported and fails on a HOME
    # that is not writable: the root check must come first.
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.setenv("HOME", str(tmp_path / "not-there"))
    assert main(["up"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["lvslab: error: lvslab up needs root (the uml lab makes namespaces and taps)"]


@pytest.mark.parametrize("argv", [["box"], ["libvirt-sandbox", "start"]])
def test_root_commands_say_so_as_a_user(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.setenv("LVSLAB_HOME", "/proc/not-writable")
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"lvslab: error: lvslab {argv[0]} needs root")


def test_a_host_error_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cache that cannot be made (HOME not writable, a full disk): one line, no traceback.
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setenv("LVSLAB_HOME", "/proc/not-writable")
    monkeypatch.setattr("lab.box.vm_recipe", lambda suite: None)

    def no_cache(*_args: object) -> None:
        raise PermissionError(13, "Permission denied", "/proc/not-writable")

    monkeypatch.setattr("lab.box.ImageCache", no_cache)
    assert main(["box"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["lvslab: error: Permission denied: /proc/not-writable"]


HOSTS_INVENTORY = """[nodes]
node1 ip=192.168.122.111 ansible_host=10.0.0.1
node2 ip=192.168.122.112 ansible_host=10.0.0.2
[nodes:vars]
vip=192.168.122.100
port=80
"""


def never_runs(*args: object) -> None:
    raise AssertionError("the playbook ran on input that should have been refused")


def deploy_onto_hosts(tmp_path: Path, inventory: str, *options: str) -> list[str]:
    path = tmp_path / "hosts"
    path.write_text(inventory)
    return ["deploy", "--lab", "hosts", "--inventory", str(path), *options]


def test_deploy_onto_hosts_names_every_missing_secret_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LVSLAB_HACLUSTER_PASSWORD", raising=False)
    monkeypatch.setenv("LVSLAB_COROSYNC_AUTHKEY", "short")
    monkeypatch.setattr("lab.deploy.run_playbook", never_runs)
    assert main(deploy_onto_hosts(tmp_path, HOSTS_INVENTORY)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "LVSLAB_HACLUSTER_PASSWORD (at least 12" in err[0]
    assert "LVSLAB_COROSYNC_AUTHKEY (at least 128" in err[0]


@pytest.mark.parametrize(
    ("inventory", "options", "says"),
    [
        (
            HOSTS_INVENTORY.replace("vip=192.168.122.100", "vip=10.9.9.9"),
            [],
            "not in the service network",
        ),
        (HOSTS_INVENTORY.replace("192.168.122.112", "192.168.122.111"), [], "already used"),
        (HOSTS_INVENTORY, ["--profile", "hardened"], "needs ping_hosts"),
    ],
)
def test_deploy_onto_hosts_refuses_a_bad_inventory_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    inventory: str,
    options: list[str],
    says: str,
) -> None:
    monkeypatch.setenv("LVSLAB_HACLUSTER_PASSWORD", "p" * 12)
    monkeypatch.setenv("LVSLAB_COROSYNC_AUTHKEY", "k" * 128)
    monkeypatch.setattr("lab.deploy.run_playbook", never_runs)
    assert main(deploy_onto_hosts(tmp_path, inventory, *options)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lvslab: error:") and says in err[0], err


def test_deploy_onto_hosts_runs_the_playbook_on_the_inventory_alone_with_the_given_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LVSLAB_HACLUSTER_PASSWORD", "p" * 12)
    monkeypatch.setenv("LVSLAB_COROSYNC_AUTHKEY", "k" * 128)
    calls = []
    monkeypatch.setattr(
        "lab.deploy.run_playbook", lambda *args: calls.append(args) or (1.0, "recap\n")
    )
    assert main(deploy_onto_hosts(tmp_path, HOSTS_INVENTORY, "--corosync-links", "dual")) == 0
    [(inventories, settings, secrets_env, timings)] = calls
    assert inventories == [tmp_path / "hosts"]  # no lab layer: ssh as the inventory says
    assert (settings.profile, settings.corosync_links) == ("seed", "dual")
    assert secrets_env == {
        "LVSLAB_HACLUSTER_PASSWORD": "p" * 12,
        "LVSLAB_COROSYNC_AUTHKEY": "k" * 128,
    }
    assert timings.is_relative_to(tmp_path)  # under LVSLAB_HOME, not in the checkout
