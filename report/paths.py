"""Where a test's records go: reports/<folder named after its pytest node id>/."""

from __future__ import annotations

import re


def folder_name(nodeid: str) -> str:
    """
    >>> folder_name("tests/failover/test_nic_down.py::test_vip_comes_back[drop]")
    'tests_failover_test_nic_down.py__test_vip_comes_back_drop'
    """
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.replace("::", "__")).strip("_")
