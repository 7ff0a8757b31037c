from __future__ import annotations

from pathlib import Path

from lab.remote import (
    control_dir,
    control_path,
    make_lab_key,
    netns_argv,
    render_ssh_config,
    ssh_argv,
)
from lab.topology import Topology

TOPO = Topology.from_inventory(Path(__file__).parents[2] / "ansible" / "hosts")


def render(netns: str | None) -> str:
    return render_ssh_config(
        TOPO,
        key=Path("/l/ssh/id"),
        user="root",
        netns=netns,
        known_hosts=Path("/l/ssh/kh"),
        sockets=Path("/l/ssh"),
    )


def test_each_node_by_name_over_management() -> None:
    config = render("lvslab")
    assert "Host node2 192.168.121.112\n    HostName 192.168.121.112" in config
    assert "ProxyCommand ip netns exec lvslab nc %h %p" in config
    assert "ControlPath /l/ssh/cm-%n" in config


def test_no_proxy_when_the_lab_is_directly_routable() -> None:
    assert "ProxyCommand" not in render(None)


def test_control_dir_keeps_socket_paths_short() -> None:
    short = Path("/root/.cache/lvs-ha-lab/labs/x/ssh")
    assert control_dir(short) == short
    long = Path("/home/" + "a" * 80 + "/ssh")
    assert len(str(control_dir(long))) + 40 <= 107
    assert control_dir(long) == control_dir(long)


def test_argv_builders() -> None:
    assert ssh_argv(Path("/c"), "node1", ["ip", "link", "set", "eth0 x"]) == [
        "ssh",
        "-F",
        "/c",
        "node1",
        "ip link set 'eth0 x'",
    ]
    assert netns_argv("ns", ["nc", "-z"]) == ["ip", "netns", "exec", "ns", "nc", "-z"]
    assert netns_argv(None, ["nc"]) == ["nc"]


def test_each_lab_gets_a_fresh_key_pair(tmp_path: Path) -> None:
    key = make_lab_key(tmp_path / "ssh", "lvslab-x")
    first = key.with_suffix(".pub").read_text()
    assert first.startswith("ssh-ed25519 ") and first.strip().endswith(" lvslab-lvslab-x")
    assert (tmp_path / "ssh").stat().st_mode & 0o777 == 0o700
    # A lab brought up again in the same place replaces the pair instead of failing.
    assert make_lab_key(tmp_path / "ssh", "lvslab-x") == key
    assert key.with_suffix(".pub").read_text() != first


def test_control_path_is_read_from_the_labs_ssh_config(tmp_path: Path) -> None:
    config = tmp_path / "config"
    assert control_path(config) is None  # no file
    config.write_text("Host *\n    User root\n")
    assert control_path(config) is None
    config.write_text("Host *\n    controlpath /run/lvs-ha-lab/abc/cm-%n\n    ControlPath /x/%n\n")
    assert control_path(config) == Path("/run/lvs-ha-lab/abc/cm-%n")
