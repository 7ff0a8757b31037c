"""The hardened director's IPVS seed (ansible/files/lvs-ipvs-seed.py): what it reads from
ldirectord.cf and what it loads for the reals that answer."""

from __future__ import annotations

import socket
from types import ModuleType

import pytest

from tests.unit.ansible_files import load
from tests.unit.test_deploy_rendering import render_ldirectord


@pytest.fixture(scope="module")
def seed() -> ModuleType:
    return load("lvs-ipvs-seed.py")


def test_parses_the_labs_own_ldirectord_cf(seed: ModuleType) -> None:
    virtuals, timeout = seed.parse(render_ldirectord(3, [80, 22]))
    assert timeout == 3.0
    assert [v.address for v in virtuals] == ["192.168.122.100:80", "192.168.122.100:22"]
    web = virtuals[0]
    assert (web.scheduler, web.protocol, web.checkport) == ("lc", "tcp", 80)
    assert web.reals == [(f"192.168.122.11{i}:80", "gate", 1) for i in (1, 2, 3)]


def test_loads_every_service_but_only_the_reals_that_answer(seed: ModuleType) -> None:
    virtuals, _ = seed.parse(render_ldirectord(3, [80, 22]))
    alive = {("192.168.122.111", 80), ("192.168.122.113", 80), ("192.168.122.111", 22)}
    assert seed.rules(virtuals, alive) == [
        "-A -t 192.168.122.100:80 -s lc",
        "-a -t 192.168.122.100:80 -r 192.168.122.111:80 -g -w 1",
        "-a -t 192.168.122.100:80 -r 192.168.122.113:80 -g -w 1",
        "-A -t 192.168.122.100:22 -s lc",
        "-a -t 192.168.122.100:22 -r 192.168.122.111:22 -g -w 1",
    ]


def test_nobody_answering_leaves_services_without_reals(seed: ModuleType) -> None:
    virtuals, _ = seed.parse(render_ldirectord(3, [80]))
    assert seed.rules(virtuals, set()) == ["-A -t 192.168.122.100:80 -s lc"]


def test_answers_is_one_tcp_connect(seed: ModuleType) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        assert seed.answers("127.0.0.1", port, 1.0) is True
    assert seed.answers("127.0.0.1", port, 1.0) is False
