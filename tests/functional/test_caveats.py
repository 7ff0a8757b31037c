"""The two known caveats of LVS-DR as deployed, documented as they are (docs/caveats.md
explains the mechanisms and the work-arounds):

(a) a real server that connects to the VIP is always answered by itself: the VIP sits on
    its lo, so the connection never leaves the node;
(b) on the director, a connection to the VIP goes through IPVS: if lc schedules it to the
    director itself it succeeds, if lc schedules it to another node it times out.

For (b) the scheduling is made deterministic with held sessions from the client side: one
per node, then the target's session is closed, so the target is the only node with no
active connection and lc's next choice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from checks.verdict import Verdict
from lab.cluster import ClusterReader
from lab.control import Lab
from probes import nc
from probes.client_side import HeldSessions
from probes.history import History

pytestmark = pytest.mark.lab

FROM_NODE_CONNECTIONS = 10


def nc_from(lab: Lab, node: str, count: int) -> list[str | None]:
    """count connections from node to VIP:port with nc; each the name read, or None."""
    topo = lab.topology
    script = nc.loop_script(str(topo.vip), topo.port, count)
    return nc.answers(lab.ssh(node, script, timeout=nc.loop_timeout(count)).stdout)


def test_a_real_server_reaching_the_vip_is_answered_by_itself(
    lab: Lab, cluster: ClusterReader, history: History, judge: Callable[[Verdict], Verdict]
) -> None:
    director = cluster.director()
    verdicts = []
    for node in (n.name for n in lab.nodes if n.name != director):
        answers = nc_from(lab, node, FROM_NODE_CONNECTIONS)
        history.add("nc-from-node", node=node, answers=answers)
        problems = [] if answers == [node] * FROM_NODE_CONNECTIONS else [f"answers {answers}"]
        verdicts.append(judge(Verdict.judge(f"{node} -> VIP answered by {node}", problems, {})))
    assert verdicts and all(v.valid is True for v in verdicts), "\n".join(map(str, verdicts))


@contextmanager
def local_redirect(lab: Lab, node: str) -> Iterator[None]:
    """The work-around for (b): on node, send its own connections to the VIP to itself
    before IPVS sees them (nat OUTPUT runs before IPVS's LOCAL_OUT hook)."""
    rule = (
        f"-t nat {{}} OUTPUT -d {lab.topology.vip} -p tcp --dport {lab.topology.port} -j REDIRECT"
    )
    lab.ssh(node, "iptables " + rule.format("-A"))
    try:
        yield
    finally:
        lab.ssh(node, "iptables " + rule.format("-D"))


@pytest.mark.stack("keepalived", reason="pacemaker's director balances its own connections")
def test_on_keepalived_the_director_reaching_the_vip_is_answered_by_itself(
    lab: Lab, cluster: ClusterReader, history: History, judge: Callable[[Verdict], Verdict]
) -> None:
    """(b) does not hold on keepalived: its fwmark rules mark packets coming in on the
    service NIC only, so the director's own connections to the VIP meet no IPVS service
    and, the VIP being on its lo, it answers them itself."""
    cell = cluster.deployed_cell()
    if cell is None or cell.profile != "fwmark":
        pytest.skip("judges the fwmark rules; the naive ones balance the director's own too")
    director = cluster.director()
    answers = nc_from(lab, director, FROM_NODE_CONNECTIONS)
    history.add("nc-from-director", node=director, answers=answers)
    wrong = [a for a in answers if a != director]
    verdict = judge(
        Verdict.judge(
            "director -> VIP on keepalived",
            [f"{len(wrong)} of {len(answers)} not answered by {director}: {wrong}"]
            if wrong
            else [],
            {"director": director, "answers": answers},
        )
    )
    assert verdict.valid is True, verdict


@pytest.mark.stack(
    "pacemaker", reason="keepalived's director answers its own connections (test above)"
)
@pytest.mark.ipvs_leftovers  # its failed attempts stay active in IPVS for 60 s
def test_the_director_reaching_the_vip_works_only_when_scheduled_to_itself(
    lab: Lab,
    cluster: ClusterReader,
    director: str,
    history: History,
    judge: Callable[[Verdict], Verdict],
) -> None:
    # `idle`: no active entries to start from (an earlier failed attempt from the director
    # stays active in IPVS for its 60 s SYN_RECV timeout and would skew lc's choices).
    topo = lab.topology
    names = [n.name for n in lab.nodes]
    others = [n for n in names if n != director]
    outcomes: list[dict] = []
    with HeldSessions(lab, str(topo.vip), topo.port) as sessions:
        held = [history.add("holder", **sessions.open()) for _ in names]
        assert sorted(r["node"] for r in held) == sorted(names), f"precondition: lc 1/1/1 {held}"
        for target in [director, *others]:
            session_id = next(i for i, node in sessions.held.items() if node == target)
            sessions.close(session_id)
            outcome: dict = {"scheduled_to": target}
            if target == others[-1]:
                # With the work-around the same attempt never reaches IPVS.
                with local_redirect(lab, director):
                    (outcome["with_redirect"],) = nc_from(lab, director, 1)
            outcome["active_before"] = cluster.active_by_node(director, topo.port)
            (outcome["answer"],) = nc_from(lab, director, 1)
            history.add("nc-from-director", **outcome)
            history.add("ipvs-connections", node=director, table=cluster.connections(director))
            outcomes.append(outcome)
            if outcome["answer"] is not None:
                # A finished connection leaves no active entry: put the session back (lc
                # sends it to the target, the only idle node). A timed-out one leaves a
                # SYN_RECV entry that IPVS counts as active for 60 s: it keeps the target
                # busy just as the held session did.
                reopened = history.add("holder", **sessions.open())
                assert reopened["node"] == target, f"lc chose {reopened['node']}, not {target}"

    problems = []
    for o in outcomes:
        target, answer, active = o["scheduled_to"], o["answer"], o["active_before"]
        if any(active[target] >= active[n] for n in names if n != target):
            problems.append(f"{target} was not lc's only choice: {active}")
        if target == director and answer != director:
            problems.append(f"scheduled to the director itself: got {answer!r}, want {director}")
        if target != director and answer is not None:
            problems.append(f"scheduled to {target}: got {answer!r}, want a timeout")
        if "with_redirect" in o and o["with_redirect"] != director:
            problems.append(f"with the REDIRECT work-around: got {o['with_redirect']!r}")
    verdict = judge(Verdict.judge("director -> VIP caveat", problems, {"outcomes": outcomes}))
    assert verdict.valid is True, verdict
