"""A request reads its need on two cores only when it is the server's one request in flight:
with others running or waiting both cores are busy (measured at 100k: one client's p50 31 ->
20 ms; gated by the engine's own count only, 4 clients lost 17% of their throughput)."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio

from api.state import AppState
from matcher.query_reader import query_passes_alone
from tests.api.api_support import make_settings, quiet_api_settings


def test_only_the_one_request_in_flight_reads_on_two_cores(tmp_path: Path) -> None:
    state = AppState(make_settings(tmp_path), quiet_api_settings())
    running, release = threading.Event(), threading.Event()

    def first() -> bool | None:
        running.set()
        release.wait(10)
        return query_passes_alone.get()

    async def scenario() -> dict[str, bool | None]:
        seen: dict[str, bool | None] = {}

        async def run_first() -> None:
            seen["first"] = await state.compute(first)

        async with anyio.create_task_group() as tg:
            tg.start_soon(run_first)
            await anyio.to_thread.run_sync(running.wait, 10)
            seen["beside it"] = await state.compute(query_passes_alone.get)
            release.set()
        seen["after"] = await state.compute(query_passes_alone.get)
        seen["outside a request"] = query_passes_alone.get()
        return seen

    assert anyio.run(scenario) == {
        "first": True,
        "beside it": False,
        "after": True,
        "outside a request": None,
    }
