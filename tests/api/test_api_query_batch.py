"""Query embeddings of concurrent requests computed together (api.query_batch): every request
gets the vector of its own text, in fewer embedding calls than requests."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from api_support import hdr, quiet_api_settings, sample_needs
from fastapi.testclient import TestClient

from api.main import create_app
from api.query_batch import QueryBatcher
from matcher.domain import Need
from matcher.engine import Engine, query_text


def _vector_of(text: str) -> np.ndarray:
    rng = np.random.default_rng(abs(hash(text)) % 2**32)
    return rng.normal(size=8).astype(np.float32)


async def _in_thread(fn: Callable[[], np.ndarray]) -> np.ndarray:
    return await asyncio.to_thread(fn)


def test_racing_requests_each_get_their_own_vector_in_few_batches() -> None:
    calls: list[list[str]] = []
    lock = threading.Lock()

    def embed(texts: Sequence[str]) -> np.ndarray:
        with lock:
            calls.append(list(texts))
        time.sleep(0.005)  # the next arrivals gather meanwhile
        return np.stack([_vector_of(t) for t in texts])

    texts = [f"need number {i // 2}" for i in range(60)]  # each text asked twice at once

    async def race() -> list[np.ndarray]:
        batcher = QueryBatcher(embed, _in_thread, window_s=0.002, max_batch=8)

        async def one(i: int) -> np.ndarray:
            await asyncio.sleep((i // 2 % 7) * 0.0005)  # arrivals spread over a few ms
            return await batcher.vector(texts[i])

        return list(await asyncio.gather(*(one(i) for i in range(len(texts)))))

    got = asyncio.run(race())
    for text, vec in zip(texts, got, strict=True):
        assert np.array_equal(vec, _vector_of(text)), text
    assert len(calls) < len(texts) // 3  # batched
    assert all(len(c) <= 8 and len(c) == len(set(c)) for c in calls)
    assert sum(len(c) for c in calls) < len(texts)  # a text asked twice at once: embedded once


def test_an_embedding_failure_reaches_every_waiter_of_the_batch() -> None:
    def embed(texts: Sequence[str]) -> np.ndarray:
        raise RuntimeError("model gone")

    async def race() -> list[Any]:
        batcher = QueryBatcher(embed, _in_thread, window_s=0.01, max_batch=16)
        return list(
            await asyncio.gather(
                *(batcher.vector(f"t{i}") for i in range(5)), return_exceptions=True
            )
        )

    results = asyncio.run(race())
    assert all(isinstance(r, RuntimeError) and str(r) == "model gone" for r in results)


@pytest.mark.parametrize("batch_ms", [0.0, 30.0])
def test_concurrent_recommendations_rank_with_their_own_query_vector(
    engine: Engine, batch_ms: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """16 concurrent requests with different needs: each is ranked with exactly the vector its
    own text gets alone (the hashing embedder does not depend on the batch), and with batching
    on the texts are embedded in fewer calls than requests."""
    needs = sample_needs(16)
    seen: dict[str, np.ndarray | None] = {}
    real = engine.recommend

    def spy(need: Any, **kw: Any) -> Any:
        seen[need.text] = kw.get("query_vector")
        return real(need, **kw)

    monkeypatch.setattr(engine, "recommend", spy)
    settings = quiet_api_settings(query_batch_ms=batch_ms, query_batch_size=8)
    app = create_app(engine.settings, settings, engine=engine)
    with TestClient(app) as client:
        key = app.state.api.keys.create("batch reader", "reader")[0]
        engine.reader.clear()

        def post(i: int) -> dict[str, Any]:
            body = {"text": needs[i].text, "limit": 3}
            r = client.post("/v1/recommendations", json=body, headers=hdr(key))
            assert r.status_code == 200, r.text
            return dict(r.json())

        with ThreadPoolExecutor(max_workers=16) as pool:
            bodies = list(pool.map(post, range(len(needs))))
        batcher = app.state.api._batcher
    monkeypatch.setattr(engine, "recommend", real)
    for need, body in zip(needs, bodies, strict=True):
        alone = engine.query_vectors([query_text(Need(text=need.text))])[0]
        if batch_ms:
            got = seen[need.text]
            assert got is not None and np.array_equal(got, alone), need.text
        else:
            assert seen[need.text] is None  # the ranking embeds it itself
        direct = engine.recommend(Need(text=need.text), limit=3)
        assert [m["id"] for m in body["results"]] == [m.id for m in direct.results]
    if batch_ms:
        assert batcher is not None and batcher.batches < len(needs)
    else:
        assert batcher is None
