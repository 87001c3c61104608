"""`matcher embed --executor local`: the texts embedded in this process, by one embedder or by
N embedders in N threads (data-parallel on one machine).

With one embedder the batches run one after another (its onnxruntime session may use several
threads inside each matrix product). With N embedders (`--workers N`, each an onnxruntime
session of one thread by default) N threads each embed whole batches: onnxruntime and the
tokenizer release the GIL while they work, so the N sessions run on N cores at once, as the
Ray executor's N one-thread actors do, without Ray's processes. The job's batches are the same
whichever the count (cut here from the one work order, and each handed whole to one
embedder), and the caller's `write` runs in the calling thread, batch after batch in the
job's order, each as soon as it and every batch before it are done: the vectors and the
database's commits are the ones the one-embedder path gives, so resuming after `kill -9`
works the same way (at most the batches in flight are lost).
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from matcher.embedding.base import Embedder

Write = Callable[[list[str], np.ndarray], None]


def batches(items: list[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_local(
    order: list[tuple[str, str]],
    embedders: Sequence[Embedder],
    batch_size: int,
    write: Write,
) -> None:
    """Embed `order` ((hash, text) pairs) in batches of `batch_size`, each batch by one of
    `embedders` (in parallel threads when there are several); `write(hashes, vectors)` each
    batch in order, in the calling thread."""
    if not embedders:
        raise ValueError("run_local needs at least one embedder")
    if len(embedders) == 1:
        for batch in batches(order, batch_size):
            write([h for h, _ in batch], embedders[0].encode([t for _, t in batch]))
        return
    free: queue.SimpleQueue[Embedder] = queue.SimpleQueue()
    for embedder in embedders:
        free.put(embedder)

    def embed(texts: list[str]) -> np.ndarray:
        embedder = free.get()  # never waits: at most len(embedders) batches run at once
        try:
            return embedder.encode(texts)
        finally:
            free.put(embedder)

    # submitted ahead: the threads never wait for the writer; bounded, as vectors wait in memory
    ahead = 2 * len(embedders)
    pending: deque[tuple[list[str], Future[np.ndarray]]] = deque()
    pool = ThreadPoolExecutor(max_workers=len(embedders), thread_name_prefix="embed")
    try:
        for batch in batches(order, batch_size):
            pending.append(([h for h, _ in batch], pool.submit(embed, [t for _, t in batch])))
            while len(pending) > ahead or (pending and pending[0][1].done()):
                hashes, done = pending.popleft()
                write(hashes, done.result())
        while pending:
            hashes, done = pending.popleft()
            write(hashes, done.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # after a failure: nothing more starts
