"""The VIP spreads connections over every node, as the article verifies it (curl and nc
from another machine; here, the client side of the service network)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from checks.sessions import lc_count_reaching_every_node, lc_spread
from checks.verdict import Verdict
from lab.cluster import ClusterReader
from lab.control import Lab
from probes import client_side, nc
from probes.history import History

pytestmark = pytest.mark.lab

EACH = 10  # connections every node must get once lc has levelled the leftovers


def sample_http(lab: Lab, count: int) -> list[dict]:
    """requests from the client side, through the probe module, in the lab's namespace."""
    return client_side.sample(lab, str(lab.topology.vip), lab.topology.port, count)


def sample_nc(lab: Lab, count: int) -> list[str | None]:
    """The article's own check: a plain nc that reads the name the responder sends."""
    script = nc.loop_script(str(lab.topology.vip), lab.topology.port, count)
    out = lab.client(["sh", "-c", script], timeout=nc.loop_timeout(count)).stdout
    return nc.answers(out)


def spread_verdict(
    cluster: ClusterReader, port: int, sample: Callable[[int], list[str | None]], history: History
) -> Verdict:
    """Sample, then judge the spread against what lc does given the director's InActConn
    before: one short connection at a time leaves none active, so lc fills the nodes with
    the fewest inactive entries first and then rotates; earlier tests' leftover entries
    (they expire after about two minutes) shift the counts, and lc must follow them. So
    the sample is sized from them: enough to level the nodes, then EACH per node.
    Tolerance 2: entries that expire during the run let a node catch up early."""
    director = cluster.director()
    inactive_before = cluster.inactive_by_node(director, port)
    count = lc_count_reaching_every_node(inactive_before, EACH)
    answers = sample(count)
    after = {n: r.active + r.inactive for n, r in cluster.reals_by_node(director, port).items()}
    history.add(
        "answers", port=port, answers=answers, inactive_before=inactive_before, entries_after=after
    )
    return lc_spread(answers, inactive_before, tolerance=2, entries_after=after)


def test_http_through_the_vip_reaches_every_node_evenly(
    lab: Lab,
    cluster: ClusterReader,
    director: str,
    history: History,
    judge: Callable[[Verdict], Verdict],
) -> None:
    def http(count: int) -> list[str | None]:
        records = history.extend("sampler", sample_http(lab, count))
        assert len(records) == count
        return [r["node"] if r["ok"] else None for r in records]

    verdict = judge(spread_verdict(cluster, lab.topology.port, http, history))
    assert verdict.valid is True, verdict
    assert set(verdict.details["per_node"]) == {n.name for n in lab.nodes}


def test_nc_through_the_vip_reaches_every_node_evenly(
    lab: Lab,
    cluster: ClusterReader,
    director: str,
    history: History,
    judge: Callable[[Verdict], Verdict],
) -> None:
    verdict = judge(
        spread_verdict(cluster, lab.topology.port, lambda n: sample_nc(lab, n), history)
    )
    assert verdict.valid is True, verdict
    assert set(verdict.details["per_node"]) == {n.name for n in lab.nodes}
