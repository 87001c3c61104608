"""Query embeddings of concurrent requests, computed together.

A request that needs its query vector waits at most `window_s` (or until `max_batch` texts wait)
for others; then one worker-thread call embeds every waiting text at once (`embed`, which keeps
the per-process cache of query vectors: repeated texts are not embedded again) and each waiter
gets the vector of its own text. Runs on the event loop; only `embed` runs in a thread.

Caveat (measured): the int8 ONNX model quantises activations per batch, so a text embedded
beside others gets a vector slightly different from the one it gets alone (cosine 0.993 for a
short need padded beside a long one). With batching on, an answer can depend on which requests
arrived together; it is off by default (ApiSettings.query_batch_ms = 0).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import numpy as np

Embed = Callable[[Sequence[str]], np.ndarray]
RunInThread = Callable[[Callable[[], np.ndarray]], Awaitable[np.ndarray]]


class QueryBatcher:
    def __init__(self, embed: Embed, run: RunInThread, *, window_s: float, max_batch: int):
        self._embed = embed
        self._run = run
        self.window_s = window_s
        self.max_batch = max(1, max_batch)
        self._pending: list[tuple[str, asyncio.Future[np.ndarray]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Task[None]] = set()
        self.batches = 0  # embedding calls made (for tests and metrics)

    async def vector(self, text: str) -> np.ndarray:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[np.ndarray] = loop.create_future()
        self._pending.append((text, future))
        if len(self._pending) >= self.max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.window_s, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._embed_batch(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _embed_batch(self, batch: list[tuple[str, asyncio.Future[np.ndarray]]]) -> None:
        texts = list(dict.fromkeys(text for text, _ in batch))
        self.batches += 1
        try:
            vectors = await self._run(lambda: self._embed(texts))
        except BaseException as exc:  # every waiter learns it (then the task ends)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        row = {text: i for i, text in enumerate(texts)}
        for text, future in batch:
            if not future.done():  # a waiter whose client went away was cancelled
                future.set_result(vectors[row[text]])
