"""The run budget shared by concurrent reads (#16): reservations are atomic and, for tokens,
judged on what requests already in flight may really spend."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from graphs.roles.budget import RoleBudget
from policies.limits import Limits


def test_many_threads_never_take_more_calls_than_allowed() -> None:
    budget = RoleBudget(limits=Limits(max_llm_calls=7, max_tokens=0))
    start = threading.Barrier(16)

    def grab(_: int) -> str | None:
        start.wait()
        refusal = budget.reserve(10)
        if refusal is None:
            budget.settle(10, 12)
        return refusal

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(grab, range(16)))
    assert outcomes.count(None) == 7
    assert set(outcomes) == {None, "max_llm_calls"}
    assert budget.calls_used == 7 and budget.tokens_used == 7 * 12


def test_a_request_near_the_token_bound_waits_for_the_one_in_flight() -> None:
    """With 1,000 tokens left and 400 estimated in flight, a second 400-token prompt cannot be
    judged yet: it waits, then is refused once the first turns out to have spent 700."""
    budget = RoleBudget(limits=Limits(max_tokens=1_000), deadline=time.time() + 30)
    assert budget.reserve(400) is None
    decided: list[str | None] = []
    second = threading.Thread(target=lambda: decided.append(budget.reserve(400)))
    second.start()
    time.sleep(0.2)
    assert decided == []  # still waiting for the first request's real count
    budget.settle(400, 700)
    second.join(5)
    assert decided == ["max_tokens"]
    assert budget.tokens_used == 700 and budget.calls_used == 1


def test_requests_with_ample_tokens_left_go_out_together() -> None:
    budget = RoleBudget(limits=Limits(max_tokens=100_000))
    assert budget.reserve(400) is None
    assert budget.reserve(400) is None  # no wait: both fit even at twice their estimate
    budget.settle(400, 500)
    budget.settle(400, 450)
    assert budget.tokens_used == 950 and budget.calls_used == 2
