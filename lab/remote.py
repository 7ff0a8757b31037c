"""Running commands on the nodes (ssh over the management network) and on the client side
of the service network (inside the lab's namespace).

The generated ssh_config makes plain `ssh -F ssh_config node1` work from the root namespace:
its ProxyCommand enters the lab's namespace, so ssh, ansible and testinfra share one way in
and the root namespace never needs a route to the lab."""

from __future__ import annotations

import hashlib
import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path

from lab.errors import LabError
from lab.shell import run
from lab.topology import Topology

SOCKET_PATH_MAX = 107  # sun_path, less the NUL


def control_dir(preferred: Path) -> Path:
    """A directory for ssh's multiplexing sockets whose paths fit a Unix socket: ssh appends
    the host alias and a 17-character temporary suffix to it."""
    if len(str(preferred)) + 40 <= SOCKET_PATH_MAX:
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:12]
    return Path("/run/lvs-ha-lab") / digest


def control_path(ssh_config: Path) -> Path | None:
    """The ControlPath an ssh_config sets (the first one), if the file exists and sets one."""
    if not ssh_config.is_file():
        return None
    for line in ssh_config.read_text().splitlines():
        key, _, value = line.strip().partition(" ")
        if key.lower() == "controlpath" and value.strip():
            return Path(value.strip())
    return None


# Multiplexing sockets in a lab's socket directory: the lab's own commands' (ssh_config's
# ControlPath) and the deploy's (lab.deploy), kept apart for their different lifetimes.
LAB_MASTER = "cm-%n"
DEPLOY_MASTER = "cm-a-%n"


def close_masters(ssh_config: Path, node: str) -> None:
    """Make every ssh master to `node` exit (after a kill): the next command opens a fresh
    connection instead of waiting on a dead one."""
    path = control_path(ssh_config)
    if path is None:
        return
    for name in (LAB_MASTER, DEPLOY_MASTER):
        socket = path.parent / name.replace("%n", node)
        if socket.exists():
            run(["ssh", "-o", f"ControlPath={socket}", "-O", "exit", node], check=False)


def make_lab_key(ssh_dir: Path, lab: str) -> Path:
    """A fresh ed25519 key pair for root on every node of one lab; returns the private key."""
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = ssh_dir / "id_ed25519"
    for old in (key, key.with_suffix(".pub")):
        old.unlink(missing_ok=True)
    argv = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"lvslab-{lab}", "-f", str(key)]
    run(argv)
    return key


def render_ssh_config(
    topology: Topology,
    *,
    key: Path,
    user: str,
    netns: str | None,
    known_hosts: Path,
    sockets: Path,
) -> str:
    lines = []
    for node in topology.nodes:
        lines += [
            f"Host {node.name} {node.mgmt_ip}",
            f"    HostName {node.mgmt_ip}",
            f"    HostKeyAlias {node.name}",
        ]
    lines += [
        "Host *",
        f"    User {user}",
        f"    IdentityFile {key}",
        "    IdentitiesOnly yes",
        # Nodes get fresh host keys at every boot of a new lab; the known_hosts file lives
        # and dies with the lab, so trust-on-first-use is the honest policy here.
        f"    UserKnownHostsFile {known_hosts}",
        "    StrictHostKeyChecking accept-new",
        "    ConnectTimeout 10",
        "    ServerAliveInterval 5",
        "    ServerAliveCountMax 6",  # 30 s: a UML node under load can stall a while
        "    LogLevel ERROR",
        "    BatchMode yes",
        # One multiplexed connection per node: testinfra and the probes run many commands.
        "    ControlMaster auto",
        f"    ControlPath {sockets}/{LAB_MASTER}",
        "    ControlPersist 60",
    ]
    if netns:
        lines.append(f"    ProxyCommand ip netns exec {netns} nc %h %p")
    return "\n".join(lines) + "\n"


def ssh_argv(
    ssh_config: Path, node: str, command: Sequence[str] | str, *, become: bool = False
) -> list[str]:
    remote = command if isinstance(command, str) else shlex.join(command)
    if become:  # the whole command line as root, pipes and all, or nothing (-n: no prompt)
        remote = f"sudo -n sh -c {shlex.quote(remote)}"
    return ["ssh", "-F", str(ssh_config), node, remote]


def netns_argv(netns: str | None, command: Sequence[str]) -> list[str]:
    return ["ip", "netns", "exec", netns, *command] if netns else list(command)


def run_argv(
    argv: Sequence[str], *, timeout: float, check: bool, what: str
) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"{what}: timed out after {timeout}s") from exc
    if check and proc.returncode != 0:
        raise LabError(f"{what}: exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return proc
