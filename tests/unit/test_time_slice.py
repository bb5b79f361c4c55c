"""A TimeSlice hands the event loop back only once its budget of uninterrupted work is spent."""

import asyncio
import time

import pytest

from backbone.time_slice import TimeSlice

pytestmark = pytest.mark.unit


async def test_the_loop_is_handed_back_once_the_budget_is_spent_not_before():
    work: list[int] = []
    turns: list[int] = []

    async def other():
        while True:
            turns.append(len(work))
            await asyncio.sleep(0)

    runner = asyncio.create_task(other())
    await asyncio.sleep(0)
    before = len(turns)
    turn = TimeSlice(budget=0.02)
    for i in range(5):                      # well within the budget: never yields
        work.append(i)
        await turn.check()
    assert len(turns) == before, "the others never ran within the budget"
    deadline = time.perf_counter() + 0.03   # past the budget: the next check yields
    while time.perf_counter() < deadline:
        pass
    await turn.check()
    assert len(turns) == before + 1 and turns[-1] == 5, "the others ran once, in between"
    runner.cancel()
