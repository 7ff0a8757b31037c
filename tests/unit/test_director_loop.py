"""checks.director_loop on hand-made attempts and connection tables; the naive tables are
what the keepalived lab's naive rules showed (2026-11-30): node1 the master, a connection
it sent to node3 sent back to node1 by node3's own rules, and failed."""

from __future__ import annotations

from checks.director_loop import only_the_director_balances
from lab.cluster.parse import parse_ipvs_connections

CLIENT = "192.168.122.1"
REALS = {"192.168.122.111": "node1", "192.168.122.112": "node2", "192.168.122.113": "node3"}
HEADER = "IP Virtual Server version 1.2.1 (size=4096)\npro expire state source virtual dest\n"


def table(*lines: str) -> list:
    return parse_ipvs_connections(HEADER + "\n".join(lines))


def attempts(*ports_ok: tuple[int, bool]) -> list[dict]:
    return [
        {"t": i, "cport": port, "ok": ok, **({} if ok else {"error": "unreachable"})}
        for i, (port, ok) in enumerate(ports_ok)
    ]


def judge(tried: list[dict], tables: dict) -> object:
    return only_the_director_balances(
        tried, tables, director="node1", client_ip=CLIENT, real_names=REALS
    )


def test_fwmark_rules_only_the_director_holds_the_clients_connections() -> None:
    verdict = judge(
        attempts((46894, True), (46902, True)),
        {
            "node1": table(
                "TCP 01:55 TIME_WAIT 192.168.122.1:46894 192.168.122.100:80 192.168.122.113:80",
                "TCP 01:55 TIME_WAIT 192.168.122.1:46902 192.168.122.100:80 192.168.122.112:80",
            ),
            "node2": [],
            # An older connection of the client's (a port this run did not use) is no hop.
            "node3": table(
                "TCP 01:10 TIME_WAIT 192.168.122.1:40000 192.168.122.100:80 192.168.122.113:80"
            ),
        },
    )
    assert verdict.valid is True, verdict
    assert verdict.details["bounced"] == {}


def test_naive_rules_a_backup_balances_again_and_the_connection_ping_pongs() -> None:
    verdict = judge(
        attempts((46894, True), (46914, False)),
        {
            "node1": table(
                "TCP 01:55 FIN_WAIT 192.168.122.1:46894 192.168.122.100:80 192.168.122.113:80",
                "TCP 00:59 SYN_RECV 192.168.122.1:46914 192.168.122.100:80 192.168.122.113:80",
            ),
            "node2": [],
            "node3": table(
                "TCP 01:55 TIME_WAIT 192.168.122.1:46894 192.168.122.100:80 192.168.122.113:80",
                "TCP 00:59 SYN_RECV 192.168.122.1:46914 192.168.122.100:80 192.168.122.111:80",
            ),
        },
    )
    assert verdict.valid is False
    assert verdict.problems == (
        "node3 balanced 2 of the client's connections again (to {'node3': 1, 'node1': 1})",
        "1 of 2 attempts failed",
    )
    assert verdict.details["bounced"][46914] == {"node1": "node3", "node3": "node1"}


def test_without_attempts_or_a_nodes_table_it_is_unknown() -> None:
    assert judge([], {"node1": [], "node2": [], "node3": []}).valid is None
    missing = judge(attempts((1, True)), {"node1": [], "node2": []})
    assert missing.valid is None and "node3" in missing.problems[0]
