from __future__ import annotations

import base64
from pathlib import Path

from lab.backends.uml import kernel_argv, tap_names
from lab.topology import Topology

TOPO = Topology.from_inventory(Path(__file__).parents[2] / "ansible" / "hosts")


def argv_for(index: int) -> list[str]:
    return kernel_argv(
        TOPO.nodes[index - 1],
        index,
        TOPO,
        lab_name="lvslab",
        image=Path("/img/base.img"),
        run_dir=Path("/run/lab"),
        public_key="ssh-ed25519 AAAAkey lvslab",
        memory_mib=768,
    )


def test_machine_disk_and_nics() -> None:
    argv = argv_for(2)
    assert argv[0] == "linux.uml"
    assert "mem=768M" in argv and "umid=node2" in argv and "uml_dir=/run/lab/uml" in argv
    assert "ubd0=/run/lab/node2.cow,/img/base.img" in argv
    assert "vec0:transport=tap,ifname=tap2-svc,mac=52:54:00:7a:00:70" in argv
    assert "vec1:transport=tap,ifname=tap2-mgmt,mac=52:54:00:79:00:70" in argv


def test_identity_for_the_guest() -> None:
    argv = argv_for(1)
    assert "lab.hostname=node1" in argv
    assert "lab.nic=52:54:00:7a:00:6f,eth0,192.168.122.111/24" in argv
    assert "lab.nic=52:54:00:79:00:6f,eth1,192.168.121.111/24" in argv
    assert [a for a in argv if a.startswith("lab.host=")] == [
        "lab.host=node1,192.168.122.111",
        "lab.host=node2,192.168.122.112",
        "lab.host=node3,192.168.122.113",
    ]
    (key,) = [a.removeprefix("lab.ssh_key=") for a in argv if a.startswith("lab.ssh_key=")]
    assert base64.b64decode(key).decode() == "ssh-ed25519 AAAAkey lvslab"
    assert not any(" " in a for a in argv), "a space would split a kernel parameter"


def test_machine_ids_differ_per_node_and_lab() -> None:
    ids = {next(a for a in argv_for(i) if a.startswith("systemd.machine_id=")) for i in (1, 2, 3)}
    assert len(ids) == 3
    other_lab = kernel_argv(
        TOPO.nodes[0],
        1,
        TOPO,
        lab_name="other",
        image=Path("/i"),
        run_dir=Path("/r"),
        public_key="k",
        memory_mib=1024,
    )
    assert next(a for a in other_lab if a.startswith("systemd.machine_id=")) not in ids


def test_tap_names_fit_the_kernel_limit() -> None:
    assert all(len(t) <= 15 for t in tap_names(999))
