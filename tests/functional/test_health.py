"""ldirectord's health checks take a dead real server out of rotation and put it back:
with quiescent=yes its weight drops to 0 and it stays listed (removal would also drop its
connection entries), new connections avoid it, and when its service returns so do its
weight and its answers.
Done for a real server and for the director itself (it is a real server too)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from checks.verdict import Verdict, compose
from lab.cluster import ClusterReader, actions
from lab.control import Lab
from lab.waiting import wait_for
from probes.client_side import sample
from probes.history import History
from scenarios.expectations import real_server_out_bound

pytestmark = pytest.mark.lab

SAMPLES = 9


@pytest.fixture
def responders_restored(lab: Lab, cluster: ClusterReader) -> Iterator[None]:
    yield
    for node in lab.nodes:
        actions.responder(cluster, node.name, "start")


@pytest.mark.parametrize("role", ["real server", "director"])
def test_ldirectord_quiesces_a_dead_real_and_restores_it(
    lab: Lab,
    cluster: ClusterReader,
    history: History,
    judge: Callable[[Verdict], Verdict],
    responders_restored: None,
    director: str,
    role: str,
) -> None:
    topo = lab.topology
    vip, port = str(topo.vip), topo.port
    target = (
        director if role == "director" else next(n.name for n in lab.nodes if n.name != director)
    )
    # The same bound as a dead real server's (the failover suites explain it); a stopped
    # responder is refused at once, so it is met with room to spare.
    bound = real_server_out_bound(
        *cluster.check_timing(director),
    )
    assert cluster.weight_by_node(director, port)[target] > 0, "precondition: target in rotation"

    history.event("responder stop", node=target)
    stopped = time.monotonic()
    actions.responder(cluster, target, "stop")
    weights, _ = wait_for(
        f"{target}'s weight drops to 0",
        lambda: w if (w := cluster.weight_by_node(director, port))[target] == 0 else None,
        deadline=bound,
    )
    out_after = time.monotonic() - stopped
    history.event("weight 0", node=target, seconds=round(out_after, 1), weights=weights)
    while_out = history.extend("sampler", sample(lab, vip, port, SAMPLES))

    history.event("responder start", node=target)
    started = time.monotonic()
    actions.responder(cluster, target, "start")
    weights_back, _ = wait_for(
        f"{target}'s weight comes back",
        lambda: w if (w := cluster.weight_by_node(director, port))[target] > 0 else None,
        deadline=bound,
    )
    back_after = time.monotonic() - started
    history.event("weight back", node=target, seconds=round(back_after, 1), weights=weights_back)
    after = history.extend("sampler", sample(lab, vip, port, SAMPLES))

    answered_out = [r["node"] if r["ok"] else None for r in while_out]
    listed = sorted(weights) == sorted(n.name for n in lab.nodes)
    verdicts = [
        Verdict.judge(
            "quiesced, not removed",
            [] if listed else [f"reals listed while out: {sorted(weights)}"],
            {
                "target": target,
                "role": role,
                "out_after_s": round(out_after, 1),
                "back_after_s": round(back_after, 1),
                "bound_s": bound,
            },
        ),
        # Which of the others takes each one is lc's business (earlier tests' leftover
        # entries weigh in); what matters is that none fails and none reaches the target.
        Verdict.judge(
            "new connections avoid it",
            [f"{target} answered or a connection failed: {answered_out}"]
            if target in answered_out or None in answered_out
            else [],
            {"answers": answered_out},
        ),
        Verdict.judge(
            "answers again, every connection answered",
            ([] if target in {r["node"] for r in after if r["ok"]} else [f"{target} silent"])
            + [f"attempt {r['attempt']} failed: {r.get('error')}" for r in after if not r["ok"]],
            {"answers": [r["node"] if r["ok"] else None for r in after]},
        ),
    ]
    verdict = judge(compose("health check quiesces and restores", verdicts))
    assert verdict.valid is True, verdict
