"""The run budget shared by concurrent reads (#16): reservations are atomic and, for tokens,
judged on what requests already in flight may really spend."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from graphs.roles.budget import RoleBudget
from graphs.roles.llm.client import Meter
from policies.limits import Limits
from tools.errors import LLMBudgetError


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


def test_an_async_request_near_the_token_bound_waits_without_blocking_the_loop() -> None:
    """The same wait on an event loop: the request in flight finishes on that loop while the
    second one waits (a blocking wait would hold the loop until the deadline)."""
    budget = RoleBudget(limits=Limits(max_tokens=1_000), deadline=time.time() + 30)
    order: list[str] = []

    async def first() -> None:
        meter = Meter(budget)
        await meter.abefore_request(400)
        await asyncio.sleep(0.1)
        order.append("first settled")
        meter.add_tokens(700)

    async def second() -> None:
        await asyncio.sleep(0.01)
        try:
            await Meter(budget).abefore_request(400)
        except LLMBudgetError as exc:
            order.append(f"second refused: {exc.limit}")

    async def both() -> None:
        await asyncio.wait_for(asyncio.gather(first(), second()), timeout=5)

    asyncio.run(both())
    assert order == ["first settled", "second refused: max_tokens"]
    assert budget.calls_used == 1 and budget.tokens_used == 700


def test_try_reserve_answers_at_once() -> None:
    budget = RoleBudget(limits=Limits(max_tokens=1_000), deadline=time.time() + 30)
    assert budget.try_reserve(400) == (True, None)
    assert budget.try_reserve(400) == (False, None)  # must wait for the first one's real count
    budget.settle(400, 300)
    assert budget.try_reserve(400) == (True, None)  # nothing in flight: judged on the 700 left
    assert budget.calls_used == 2
