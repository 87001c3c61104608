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

from matcher.embedding.onnx import SMALL_INPUT
from training.benchmarks.embeddings import EmbeddingStore, Encoder, encode_cached
from training.benchmarks.tasks import T1Task, T2Task

ENGINE_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


class BenchEmbedder:
    """An Embedder (matcher.embedding.base) that reads and fills the benchmark cache."""

    def __init__(
        self,
        store: EmbeddingStore,
        encoder_factory: Callable[[], Encoder],
        dimension: int = 384,
        model_name: str = ENGINE_MODEL_NAME,
        model_path: Path | None = None,
        span_model: Any = None,
        serve_queries: bool = False,
    ) -> None:
        self.model_name = model_name
        # the model's folder: a registered model's calibrated relevance floor is read from the
        # manifest beside it (matcher.embedding.published.embedder_floor)
        self.model_path = model_path
        self._span_model = span_model  # reads clauses from the need's own pass (uncached)
        if span_model is not None and hasattr(span_model, "quantize"):
            # the ONNX backend's export recipe is part of its identity (model_identity): the
            # engine dir a benchmark builds keys its vectors as `matcher` would, so a server
            # opened on it finds them (it re-embedded all 55k T4 profiles before)
            self.quantize = span_model.quantize
        # a request's small inputs (a need, its clauses) through the model as a server reads
        # them, not from the cache (whose vectors were embedded in other company)
        self.serve_queries = serve_queries and span_model is not None
        self.dimension = dimension
        self._store = store
        self._factory = encoder_factory
        self._encoder: Encoder | None = None

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None:
            self._encoder = self._factory()
        return self._encoder(texts)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        # a request's query side (a need, its sentences and clauses) is a small input
        if self.serve_queries and len(texts) <= SMALL_INPUT:
            return self._span_model.encode(texts)  # type: ignore[no-any-return]
        return encode_cached(texts, self._encode, self._store, progress=progress)

    @property
    def packed(self) -> bool:
        """Whether the engine's model reads a need packed in one row (its settings'
        `packed_query_pass`): then so does the benchmark, never from the cache (a packed
        text's int8 vector depends on the row it shares)."""
        return bool(getattr(self._span_model, "packed", False))

    @property
    def packs(self) -> bool:
        return bool(getattr(self._span_model, "packs", False))

    def encode_packed(self, texts: Sequence[str], *, wide: bool = False) -> np.ndarray | None:
        return self._span_model.encode_packed(texts, wide=wide)  # type: ignore[no-any-return]

    @property
    def pools_spans(self) -> bool:
        return bool(getattr(self._span_model, "pools_spans", False))

    def encode_spans(self, texts: Sequence[str], spans: Any) -> tuple[np.ndarray, list[Any]]:
        return self._span_model.encode_spans(texts, spans)  # type: ignore[no-any-return]


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
    taxonomies: Mapping[str, Sequence[Any] | Callable[[Any], None]] | None = None,
    models: Mapping[str, Mapping[str, float] | None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Ingest the T1 profiles into an engine in `data_dir`, ask each query with a hard state
    filter and the nonprofit sector, and return a results frame (query_id, item_id, rank) per
    cause taxonomy in `taxonomies` (label -> list of matcher.causes.Cause; an empty list runs
    the engine without one) and per score-weight model in `models` (name -> weights, None for
    the defaults; labels get " [name]" when there are several). Default: one run without a
    taxonomy, with the default weights, labelled "engine"."""
    from matcher.domain import Filters, Need, Sector
    from matcher.engine import Engine
    from matcher.settings import Settings

    settings = Settings(data_dir=data_dir)
    engine = Engine.open(settings, embedder=embedder, load=False)
    out: dict[str, pd.DataFrame] = {}
    try:
        engine.store.upsert_organisations(t1_organisations(task))  # stored; embedded once below
        engine.build(progress=progress)
        vectors = engine.query_vectors(task.queries["text"].tolist())
        asks = [
            (
                str(q.query_id),
                Need(id=f"t1-{q.query_id}", text=q.text, region=q.region),
                Filters(region=q.region, sectors=[Sector.nonprofit]),
                v,
            )
            for q, v in zip(task.queries.itertuples(index=False), vectors, strict=True)
        ]
        for tax_label, causes in (taxonomies or {"engine": []}).items():
            if callable(causes):  # sets up the cause space itself (e.g. learned prototypes)
                causes(engine)
            else:
                engine.set_causes(list(causes))
            _rank_each_model(engine, tax_label, models, asks, k, progress, out)
    finally:
        engine.close()
    return out


def _rank_each_model(
    engine: Any,
    base: str,
    models: Mapping[str, Mapping[str, float] | None] | None,
    asks: Sequence[tuple[str, Any, Any, np.ndarray]],
    limit: int,
    progress: bool,
    out: dict[str, pd.DataFrame],
) -> None:
    """For each score-weight model (name -> weights, None for the defaults; default: just the
    defaults), answer every (query id, need, filters, query vector) and store the results
    frame under `base`, or `base [name]` when there are several models."""
    chosen = models or {"default": None}
    for name, weights in chosen.items():
        if weights is None:
            engine.use_default_weights()
        else:
            engine.use_weights(dict(weights), name)
        label = base if len(chosen) == 1 else f"{base} [{name}]"
        rows: list[tuple[str, str, int]] = []
        for qid, need, filters, vector in tqdm(
            asks, desc=label, disable=not progress, unit="query"
        ):
            rec = engine.recommend(need, filters=filters, limit=limit, query_vector=vector)
            rows.extend((qid, m.id, r) for r, m in enumerate(rec.results, 1))
        out[label] = pd.DataFrame(rows, columns=["query_id", "item_id", "rank"])


def run_engine_t2(
    task: T2Task,
    data_dir: Path,
    embedder: BenchEmbedder,
    progress: bool = True,
    models: Mapping[str, Mapping[str, float] | None] | None = None,
) -> dict[str, pd.DataFrame]:
    """T2 through the engine and the training pipeline. The funders are stored with their
    names only; the history grants are stored as partnerships (funder -> recipient). Three
    rankings of the funders for each test grant: names only; after `enrich_profiles` (a
    funder described by what it funded); and with the partnership-history model fitted from
    the history grants (training.history_fit) in use. Test grants never reach the engine's
    store or models."""
    from matcher.domain import Need, Organisation, Sector
    from matcher.engine import Engine
    from matcher.settings import Settings
    from training.history import enrich_profiles, store_partnerships
    from training.history_fit import fit_history_model
    from training.partnership import Partnership

    settings = Settings(data_dir=data_dir)
    engine = Engine.open(settings, embedder=embedder, load=False)
    out: dict[str, pd.DataFrame] = {}
    try:
        funders = [
            Organisation(
                id=r.funder_id,
                name=r.funder_name,
                sector=Sector.nonprofit,
                description=r.funder_name,
            )
            for r in task.funders.itertuples(index=False)
        ]
        engine.store.upsert_organisations(funders)
        store_partnerships(
            engine.store,
            [
                Partnership(
                    id=f"grant-{r.grant_id}",
                    source_id=r.funder_id,
                    partner_id=f"recipient-of-{r.grant_id}",
                    description=r.text,
                    outcome="funded",
                )
                for r in task.history.itertuples(index=False)
            ],
        )
        engine.build()

        def rank(base: str) -> None:
            # after each build: query vectors are centred on the current corpus mean
            vecs = engine.query_vectors(task.test["text"].tolist())
            asks = [
                (str(r.grant_id), Need(text=r.text), None, v)
                for r, v in zip(task.test.itertuples(index=False), vecs, strict=True)
            ]
            _rank_each_model(engine, base, models, asks, len(funders), progress, out)

        if models is None:
            rank("engine, funder names only")
        enrich_profiles(engine.store)
        engine.build()
        if models is None:
            rank("engine + profiles enriched from history")
        engine.use_history_model(fit_history_model(engine))
        rank("engine + enriched + history model")
    finally:
        engine.close()
    return out
