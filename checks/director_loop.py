"""Only the director balances. Every node here is both a director candidate and a real
server: a node that is not the director but holds IPVS rules for the VIP balances again
what the director forwarded to it, and a connection sent on to a node that already holds
it (the director, say) goes back the same way, round and round, until the client gives up
(the ping-pong between directors; docs/keepalived.md). A pure function over what the
client side attempted and every node's IPVS connection table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from checks.verdict import Verdict
from lab.cluster.parse import IpvsConnection

Record = dict[str, Any]
NAME = "only the director balances (no ping-pong between directors)"


def only_the_director_balances(
    attempts: Sequence[Record],
    tables: Mapping[str, Sequence[IpvsConnection]],
    *,
    director: str,
    client_ip: str,
    real_names: Mapping[str, str],
) -> Verdict:
    """Valid when no node but the director has an IPVS entry for any of the attempts (by
    the client's address and source port) and every attempt was answered. `tables` holds
    every node's connection table read after the attempts; `real_names` maps a real's
    address to its node. Unknown when no attempt was made or a node's table is missing."""
    ports = {a["cport"] for a in attempts if "cport" in a}
    details: dict[str, Any] = {"attempts": len(attempts), "director": director}
    if not ports:
        return Verdict.unknown(NAME, "no attempt with a known source port", details)
    missing = sorted(set(real_names.values()) - set(tables))
    if missing:
        return Verdict.unknown(NAME, f"no connection table from {missing}", details)

    def ours(entry: IpvsConnection) -> bool:
        address, _, port = entry.client.rpartition(":")
        return address == client_ip and int(port) in ports

    def real_of(entry: IpvsConnection) -> str:
        address = entry.real.rsplit(":", 1)[0]
        return real_names.get(address, address)

    balanced_again = {
        node: Counter(real_of(e) for e in entries if ours(e))
        for node, entries in sorted(tables.items())
        if node != director
    }
    # A connection in two tables or more: the hops it took, node -> the real it was sent to.
    hops: dict[int, dict[str, str]] = {}
    for node, entries in tables.items():
        for entry in filter(ours, entries):
            hops.setdefault(entry.client_port, {})[node] = real_of(entry)
    failed = [a for a in attempts if not a["ok"]]
    details.update(
        balanced_again={node: dict(c) for node, c in balanced_again.items()},
        bounced={port: path for port, path in sorted(hops.items()) if len(path) > 1},
        failed=len(failed),
        errors=dict(Counter(a.get("error") for a in failed)),
    )
    problems = [
        f"{node} balanced {sum(counts.values())} of the client's connections again "
        f"(to {dict(counts)})"
        for node, counts in balanced_again.items()
        if counts
    ]
    if failed:
        problems.append(f"{len(failed)} of {len(attempts)} attempts failed")
    return Verdict.judge(NAME, problems, details)
