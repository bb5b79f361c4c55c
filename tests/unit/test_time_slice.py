"""A TimeSlice hands the event loop back only once its budget of uninterrupted work is spent."""

import asyncio

import pytest

from backbone.time_slice import TimeSlice

pytestmark = pytest.mark.unit


async def test_the_loop_is_handed_back_once_the_budget_is_spent_not_before():
    now = [100.0]
    work: list[int] = []
    turns: list[int] = []

    async def other():
        while True:
            turns.append(len(work))
            await asyncio.sleep(0)

    runner = asyncio.create_task(other())
    await asyncio.sleep(0)
    before = len(turns)
    turn = TimeSlice(budget=0.005, clock=lambda: now[0])
    for i in range(5):                      # 4 ms of work in all: within the budget
        work.append(i)
        now[0] += 0.0008
        await turn.check()
    assert len(turns) == before, "the others never ran within the budget"
    now[0] += 0.002                         # past the budget: the next check yields
    await turn.check()
    assert len(turns) == before + 1 and turns[-1] == 5, "the others ran once, in between"
    await turn.check()
    assert len(turns) == before + 1, "a fresh budget after yielding"
    runner.cancel()
