"""Races for tests: run calls in threads released at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def together(n: int, call: Callable[[int], Any]) -> list[Any]:
    """call(0..n-1) in n threads released at once by a barrier; each result, or the exception
    it raised (the outcome under test)."""
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = call(i)
        except Exception as exc:  # noqa: BLE001 - returned to the test
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out
