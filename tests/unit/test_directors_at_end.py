"""checks.directors on hand-made end-of-window views, both stacks."""

from __future__ import annotations

from checks.directors import director_at_end, director_stays


def test_pacemaker_every_quorate_partition_sees_another_director() -> None:
    views = {
        "node1": {"quorate": False, "promoted": []},  # the cut node, quorum lost
        "node2": {"quorate": True, "promoted": ["node3"]},
        "node3": {"quorate": True, "promoted": ["node3"]},
    }
    assert director_at_end(views, cut="node1", moved=True).valid is True
    # The NIC-down bug: membership unchanged, everyone still sees the cut node promoted.
    stuck = {n: {"quorate": True, "promoted": ["node1"]} for n in ("node1", "node2", "node3")}
    assert director_at_end(stuck, cut="node1", moved=False).valid is True
    verdict = director_at_end(stuck, cut="node1", moved=True)
    assert (
        verdict.valid is False and "node2 sees node1 promoted, cut node node1" in verdict.problems
    )


def test_keepalived_one_master_on_the_service_network_split_brain_recorded() -> None:
    split = {"node1": {"vrrp": "MASTER"}, "node2": {"vrrp": "MASTER"}, "node3": {"vrrp": "BACKUP"}}
    verdict = director_at_end(split, cut="node1", moved=True)
    assert verdict.valid is True and verdict.details["split_brain"] is True
    fault = {"node1": {"vrrp": "FAULT"}, "node2": {"vrrp": "BACKUP"}, "node3": {"vrrp": "MASTER"}}
    assert director_at_end(fault, cut="node1", moved=True).details["split_brain"] is False
    none = {"node1": {"vrrp": "MASTER"}, "node2": {"vrrp": "BACKUP"}, "node3": {"vrrp": "BACKUP"}}
    verdict = director_at_end(none, cut="node1", moved=True)
    assert verdict.valid is False and verdict.problems == ("masters on the service network: []",)


def test_a_real_server_fault_leaves_the_director_where_it_was_on_both_stacks() -> None:
    kept = {
        n: {"quorate": n != "node3", "promoted": ["node1"]} for n in ("node1", "node2", "node3")
    }
    assert director_stays(kept, director="node1", cut="node3").valid is True
    moved = {**kept, "node2": {"quorate": True, "promoted": ["node2"]}}
    assert director_stays(moved, director="node1", cut="node3").valid is False
    # keepalived: the cut backup hears no advert and makes itself master: recorded.
    split = {"node1": {"vrrp": "MASTER"}, "node2": {"vrrp": "BACKUP"}, "node3": {"vrrp": "MASTER"}}
    verdict = director_stays(split, director="node1", cut="node3")
    assert verdict.valid is True and verdict.details["split_brain"] is True
    taken = {**split, "node2": {"vrrp": "MASTER"}}
    assert director_stays(taken, director="node1", cut="node3").valid is False
