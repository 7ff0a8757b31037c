from __future__ import annotations

from pathlib import Path

from lab import leftovers


def test_ssh_masters_are_found_by_their_control_path_title(tmp_path: Path) -> None:
    run_dir = tmp_path / "labs" / "x"
    proc = tmp_path / "proc"
    sockets = leftovers.control_dir(run_dir / "ssh")  # a short path if the real one is long
    titles = {
        "101": f"ssh: {sockets}/cm-a-node1 [mux]",
        "102": f"ssh: {tmp_path}/labs/other/ssh/cm-a-node1 [mux]",  # another lab's
        "103": f"ssh -F {run_dir}/ssh/config node1",  # a client, not a master
    }
    for pid, title in titles.items():
        (proc / pid).mkdir(parents=True)
        (proc / pid / "cmdline").write_bytes(title.encode() + b"\0")
    assert leftovers.ssh_masters(run_dir, proc) == [101]


def test_root_links_lists_only_what_the_lab_would_make(tmp_path: Path) -> None:
    for name in ("eth0", "lo", "tap1-svc", "br-service", "docker0"):
        (tmp_path / name).mkdir()
    assert leftovers.root_links(tmp_path) == ["br-service", "tap1-svc"]


def test_memory_files(tmp_path: Path) -> None:
    (tmp_path / "vm_file-Ab12Cd").touch()
    (tmp_path / "other").touch()
    assert leftovers.memory_files(tmp_path) == ["vm_file-Ab12Cd"]
    assert leftovers.memory_files(tmp_path / "missing") == []


def test_count_adds_every_kind() -> None:
    assert leftovers.count({k: [] for k in leftovers.KINDS}) == 0
    assert leftovers.count({"processes": ["1", "2"], "links": ["tap1-svc"]}) == 3
