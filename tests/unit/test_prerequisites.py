"""A missing prerequisite skips a test, except under --require-lab, where it fails."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


@pytest.mark.parametrize(("flags", "outcome"), [([], "skipped"), (["--require-lab"], "failed")])
def test_missing_prerequisite(pytester: pytest.Pytester, flags: list[str], outcome: str) -> None:
    pytester.makeconftest(
        "def pytest_addoption(parser):\n"
        "    parser.addoption('--require-lab', action='store_true')\n"
    )
    pytester.makepyfile(
        "from harness.prerequisites import require\n"
        "def test_it(request):\n"
        "    require(request.config, False, 'needs a unicorn')\n"
    )
    result = pytester.runpytest_inprocess(*flags)
    result.assert_outcomes(**{outcome: 1})
