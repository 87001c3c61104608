"""Run benchmark T1 through the engine facade (matcher.engine.Engine).

The engine gets profiles without the answer key. It is handed a caching embedder so that a run
reuses the benchmark's embedding cache instead of embedding 39k profiles again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from training.benchmarks.embeddings import EmbeddingStore, Encoder, encode_cached
from training.benchmarks.tasks import T1Task

ENGINE_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


class BenchEmbedder:
    """An Embedder (matcher.embedding.base) that reads and fills the benchmark cache."""

    def __init__(
        self,
        store: EmbeddingStore,
        encoder_factory: Callable[[], Encoder],
        dimension: int = 384,
        model_name: str = ENGINE_MODEL_NAME,
    ) -> None:
        self.model_name = model_name
        self.dimension = dimension
        self._store = store
        self._factory = encoder_factory
        self._encoder: Encoder | None = None

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None:
            self._encoder = self._factory()
        return self._encoder(texts)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return encode_cached(texts, self._encode, self._store, progress=progress)


def t1_organisations(task: T1Task) -> list:  # list[matcher.domain.Organisation]
    from matcher.domain import Organisation, Sector

    return [
        Organisation(
            id=r.id,
            name=r.name,
            sector=Sector.nonprofit,
            description=r.description,
            city=r.city or None,
            region=r.region,
            country="US",
            postcode=r.postcode or None,
        )
        for r in task.profiles.itertuples(index=False)
    ]


def run_engine_t1(
    task: T1Task,
    data_dir: Path,
    embedder: BenchEmbedder,
    k: int = 10,
    progress: bool = True,
    taxonomies: Mapping[str, Sequence[Any]] | None = None,
) -> dict[str, pd.DataFrame]:
    """Ingest the T1 profiles into an engine in `data_dir`, ask each query with a hard state
    filter and the nonprofit sector, and return a results frame (query_id, item_id, rank) per
    cause taxonomy in `taxonomies` (label -> list of matcher.causes.Cause; an empty list runs
    the engine without one). Default: one run without a taxonomy, labelled "engine"."""
    from matcher.domain import Filters, Need, Sector
    from matcher.engine import Engine
    from matcher.settings import Settings

    settings = Settings(data_dir=data_dir)
    engine = Engine.open(settings, embedder=embedder, load=False)
    out: dict[str, pd.DataFrame] = {}
    try:
        engine.ingest(t1_organisations(task))
        engine.build(progress=progress)
        for label, causes in (taxonomies or {"engine": []}).items():
            engine.set_causes(list(causes))
            rows: list[tuple[str, str, int]] = []
            queries = task.queries
            bar = tqdm(total=len(queries), desc=label, disable=not progress, unit="query")
            for q in queries.itertuples(index=False):
                rec = engine.recommend(
                    Need(id=f"t1-{q.query_id}", text=q.text, region=q.region),
                    filters=Filters(region=q.region, sectors=[Sector.nonprofit]),
                    limit=k,
                )
                rows.extend((str(q.query_id), m.id, r) for r, m in enumerate(rec.results, start=1))
                bar.update(1)
            bar.close()
            out[label] = pd.DataFrame(rows, columns=["query_id", "item_id", "rank"])
    finally:
        engine.close()
    return out
