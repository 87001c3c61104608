"""txtai beside the afternoon baseline (issue 12): the same corpus, model and request body.

    BASELINE_DATA_DIR=/tmp/bl-sample uvicorn training.txtai_app:create_app --factory

A txtai `Embeddings` index with content (txtai's SQLite document store) and txtai's default
faiss index (flat up to 5,000 rows, IVF with txtai's own nprobe beyond). The filters are SQL
beside `similar()`, as txtai documents them; txtai searches its candidates first and filters
them after (so a narrow filter can return fewer than `limit`), and one search runs at a time,
as in txtai's own API application (its Embeddings are not thread-safe). Vectors: txtai's `external`
method with a transform that returns the profile vectors `training.baseline_app.load_corpus`
found (the data directory's cache, as the baseline) and embeds anything else, the queries, with
sentence-transformers on torch, the same all-MiniLM-L6-v2. Needs `pip install txtai`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, HTTPException

from training.baseline_app import (
    Corpus,
    Encode,
    RecommendBody,
    env_encoder,
    load_corpus,
    region_key,
)

logger = logging.getLogger(__name__)


class TxtaiIndex:
    def __init__(self, corpus: Corpus, encode: Encode) -> None:
        from txtai import Embeddings

        known = {t: i for i, t in enumerate(corpus.texts)}

        def transform(texts: Sequence[str]) -> np.ndarray:
            rows = [known.get(t) for t in texts]
            if all(r is not None for r in rows):
                return corpus.vectors[[r for r in rows if r is not None]]
            return encode(list(texts))

        self.embeddings = Embeddings(
            {"method": "external", "transform": transform, "content": True, "backend": "faiss"}
        )
        self.embeddings.index(
            (
                corpus.ids[i],
                {
                    "text": corpus.texts[i],
                    "name": corpus.names[i],
                    "sector": corpus.sectors[i],
                    "region": corpus.regions[i],
                    "country": corpus.countries[i],
                },
                None,
            )
            for i in range(len(corpus.ids))
        )
        self.count = len(corpus.ids)
        self.source = corpus.source
        # txtai's Embeddings are not thread-safe (one SQLite cursor: concurrent searches fail
        # with "Recursive use of cursors" and leave it broken); txtai's own API application
        # holds a lock around every search, query embedding included, so this does too
        self.lock = threading.Lock()

    def recommend(self, body: RecommendBody) -> list[dict[str, Any]]:
        where = ["similar(:q)"]
        params: dict[str, Any] = {"q": body.text}
        country = (body.filters.country if body.filters else None) or body.country
        region = (body.filters.region if body.filters else None) or body.region
        if country:
            where.append("country = :country")
            params["country"] = country.upper()
        if region:
            where.append("region = :region")
            params["region"] = region_key(region)
        if body.wanted_sectors:
            names = [f":s{i}" for i in range(len(body.wanted_sectors))]
            where.append(f"sector in ({', '.join(names)})")
            params.update({f"s{i}": s for i, s in enumerate(body.wanted_sectors)})
        sql = f"select id, name, sector, score from txtai where {' and '.join(where)}"
        with self.lock:
            rows = self.embeddings.search(sql, limit=body.limit, parameters=params)
        return [
            {"id": r["id"], "name": r["name"], "sector": r["sector"], "score": float(r["score"])}
            for r in rows
        ]


def create_app(
    data_dir: Path | None = None, encode: Encode | None = None, vectors: str | None = None
) -> FastAPI:
    """The app; the corpus is read and indexed at start-up (the lifespan), not at import."""
    state: dict[str, TxtaiIndex] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        folder = data_dir or Path(os.environ.get("BASELINE_DATA_DIR", "var"))
        mode = vectors or os.environ.get("BASELINE_VECTORS", "auto")
        enc = encode or env_encoder()
        corpus = load_corpus(folder, enc, vectors=mode)
        state["txtai"] = TxtaiIndex(corpus, enc)
        logger.info("txtai: %d organisations, vectors %s", len(corpus.ids), corpus.source)
        yield

    app = FastAPI(title="txtai baseline", lifespan=lifespan)

    @app.get("/readyz")
    def readyz() -> dict[str, Any]:
        idx = state.get("txtai")
        if idx is None:
            raise HTTPException(503, "loading")
        return {"organisations": idx.count, "vectors": idx.source}

    @app.post("/v1/recommendations")
    def recommend(body: RecommendBody) -> dict[str, Any]:
        results = state["txtai"].recommend(body)
        return {"results": results, "count": len(results)}

    return app
