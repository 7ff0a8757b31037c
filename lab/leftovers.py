"""What is left of a UML lab on the host after `down`: every kind of thing a lab makes,
looked for on the host itself (the lab's state file goes with `down`, so it cannot be
trusted to list them). An empty result for every kind is what `down` promises."""

from __future__ import annotations

from pathlib import Path

from lab import netns
from lab.backends.uml import pids_of_lab
from lab.remote import control_dir

KINDS = ("processes", "namespaces", "links", "run_dirs", "ssh_masters", "memory_files")
SHM = Path("/dev/shm")
# Names the UML backend gives what it makes inside the lab's namespace: seeing one in the
# root namespace means it leaked out.
LAB_LINK_PREFIXES = ("tap", netns.SERVICE_BRIDGE, netns.MGMT_BRIDGE)


def root_links(sys_class_net: Path = Path("/sys/class/net")) -> list[str]:
    names = (p.name for p in sys_class_net.iterdir())
    return sorted(n for n in names if n.startswith(LAB_LINK_PREFIXES))


def ssh_masters(run_dir: Path, proc: Path = Path("/proc")) -> list[int]:
    """ssh multiplexing masters of this lab: a master's title is `ssh: CONTROLPATH [mux]`."""
    title = f"ssh: {control_dir(run_dir / 'ssh')}/".encode()
    found = []
    for cmdline in proc.glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes().startswith(title):
                found.append(int(cmdline.parent.name))
        except OSError:
            continue  # the process ended while we looked
    return sorted(found)


def memory_files(shm: Path = SHM) -> list[str]:
    """UML backs guest memory with files it unlinks at once; a named one is a leak."""
    return sorted(p.name for p in shm.glob("vm_file-*")) if shm.is_dir() else []


def of_lab(name: str, run_dir: Path) -> dict[str, list[str]]:
    """Everything of lab `name` still on the host, by kind (every list empty: nothing)."""
    return {
        "processes": [str(p) for p in pids_of_lab(run_dir)],
        "namespaces": [name] if netns.exists(name) else [],
        "links": root_links(),
        "run_dirs": [str(run_dir)] if run_dir.exists() else [],
        "ssh_masters": [str(p) for p in ssh_masters(run_dir)],
        "memory_files": memory_files(),
    }


def count(found: dict[str, list[str]]) -> int:
    return sum(len(v) for v in found.values())
