"""Only the director balances. Every node is both a director candidate and a real server: a
node that is not the director but holds IPVS rules for the VIP balances again what the
director forwarded to it, and a connection sent on to a node that already holds it goes
back and forth between the two until the client gives up (the ping-pong between directors,
docs/keepalived.md). pacemaker's lvs agent clears IPVS on every node it does not promote;
keepalived loads its rules on every node, so its deploy marks for IPVS only the packets
that no other director forwarded (fwmark rules).

Given the deployed cluster, when the client side opens a fresh connection through the VIP
every 50 ms for a few seconds, then no node but the director holds any of them in its IPVS
table, and every one was answered. On keepalived, with --switch-cells, the naive rules
(VIP:port on every node) are deployed in place and the same check must fail: the trap,
shown; the deployed rules come back after."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from checks.director_loop import only_the_director_balances
from checks.verdict import Verdict
from lab import deploy
from lab.cluster import ClusterReader, actions
from lab.cluster.parse import IpvsConnection, parse_ipvs_connections
from lab.control import Lab
from probes.client_side import AvailabilityProber
from probes.history import History

pytestmark = pytest.mark.lab

# ~100 connections at 20 Hz, each one a chance for a backup's rules to take it (measured
# with the naive rules, two runs: backups balanced 4 and 5 of 101 again, 2 failed each).
PROBE_S = 5.0


def connection_tables(lab: Lab) -> dict[str, list[IpvsConnection]]:
    return {
        n.name: parse_ipvs_connections(lab.ssh(n.name, "ipvsadm -Lnc").stdout) for n in lab.nodes
    }


def probe_and_judge(lab: Lab, cluster: ClusterReader, history: History) -> Verdict:
    director = cluster.director()
    topo = lab.topology
    with AvailabilityProber(lab, str(topo.vip), topo.port, max_seconds=PROBE_S + 30) as prober:
        time.sleep(PROBE_S)
        attempts = history.extend("prober", prober.stop())
    return only_the_director_balances(
        attempts,
        connection_tables(lab),
        director=director,
        client_ip=lab.client_ip,
        real_names={str(n.service_ip): n.name for n in lab.nodes},
    )


def test_only_the_director_balances(
    lab: Lab,
    cluster: ClusterReader,
    director: str,
    history: History,
    judge: Callable[[Verdict], Verdict],
) -> None:
    verdict = judge(probe_and_judge(lab, cluster, history))
    assert verdict.valid is True, verdict


@pytest.fixture
def naive_rules(
    lab: Lab, cluster: ClusterReader, request: pytest.FixtureRequest, terminal: Callable
) -> Iterator[None]:
    """keepalived's naive rules deployed in place; the deployed rules again afterwards."""
    if lab.state.backend == "hosts":
        pytest.skip("deploys other rules in place: never on real hosts")
    if not request.config.getoption("--switch-cells"):
        pytest.skip("deploys other rules in place: pass --switch-cells to allow it")
    deployed = cluster.deployed_cell()
    assert deployed is not None and deployed.stack == "keepalived"
    naive = deploy.DeploySettings(stack="keepalived", keepalived_rules="naive")
    try:
        with terminal():
            deploy.deploy(lab, settings=naive)
            actions.wait_idle(cluster)
        yield
    finally:
        with terminal():
            deploy.deploy(lab, settings=deployed.settings())
            actions.settle(cluster)


@pytest.mark.stack("keepalived", reason="the naive rules are keepalived's (see the module)")
@pytest.mark.ipvs_leftovers  # bounced connections stay half-open in IPVS for 60 s
def test_naive_keepalived_rules_bounce_connections_between_directors(
    lab: Lab,
    cluster: ClusterReader,
    naive_rules: None,
    history: History,
    judge: Callable[[Verdict], Verdict],
) -> None:
    verdict = judge(probe_and_judge(lab, cluster, history))
    assert verdict.valid is False, f"the naive rules balanced nothing twice: {verdict}"
    assert any(verdict.details["balanced_again"].values()), verdict
