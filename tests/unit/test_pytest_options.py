from __future__ import annotations

import pytest


@pytest.mark.parametrize("option", ["--lab", "--lab-name", "--keep-lab", "--require-lab"])
def test_harness_options_are_registered(pytestconfig: pytest.Config, option: str) -> None:
    pytestconfig.getoption(option)  # raises ValueError for an unknown option
