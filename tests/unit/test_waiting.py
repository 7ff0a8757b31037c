from __future__ import annotations

import pytest

from lab.errors import LabError
from lab.waiting import until, wait_for


def test_wait_for_returns_the_value_once_the_probe_gives_one() -> None:
    values = iter([None, None, "done"])
    calls = []
    value, _ = wait_for("thing", lambda: calls.append(1) or next(values), 5, interval=0.01)
    assert value == "done" and len(calls) == 3


def test_wait_for_raises_with_what_after_the_deadline() -> None:
    with pytest.raises(LabError, match=r"never: not within 0\.05s"):
        wait_for("never", lambda: None, deadline=0.05, interval=0.01)


def test_until_a_false_predicate_raises_instead_of_returning_a_figure() -> None:
    # The old helper returned inf here, and a figure of inf passed the libvirt kill test.
    with pytest.raises(LabError, match="address lost: not within"):
        until("address lost", lambda: False, deadline=0.05, interval=0.01)


def test_until_a_predicate_that_comes_true_stops_polling() -> None:
    states = iter([False, True, False])
    until("flip", lambda: next(states), deadline=5, interval=0.01)
    assert next(states) is False  # polled exactly twice
