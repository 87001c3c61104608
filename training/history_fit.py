"""Fit the partnership-history model (matcher.history_model) from stored partnerships.

Used by `matcher train fit` (which stores it in the model version it registers) and by the T2
benchmark through the engine. Held-out partnerships (`exclude`, or everything from `until` on)
never reach the model, so evaluation on them stays honest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

import numpy as np

from matcher.history_model import PartnerHistoryModel
from training.history import positive_partnerships

logger = logging.getLogger(__name__)

MIN_ITEMS = 20  # partnerships an organisation needs on the giving side to get a learned profile
EMBED_CHUNK = 1000  # texts embedded per call: a fit's progress says how far the embedding is


def history_texts(
    store: Any,
    *,
    exclude: Collection[str] = (),
    exclude_queries: Collection[str] = (),
    until: datetime | None = None,
) -> tuple[list[str], list[str]]:
    """(texts, giving organisation ids) of the positive past partnerships that may be learned
    from: label 1, with text, not in `exclude` (partnership ids), not part of a held-out
    evaluation query (`exclude_queries`: training.ranker query ids), started before `until`."""
    from training.ranker import query_key

    texts: list[str] = []
    owners: list[str] = []
    for p in positive_partnerships(store, exclude=exclude, until=until):
        if exclude_queries and query_key(p.source_id, p.text().strip()) in exclude_queries:
            continue
        texts.append(p.text())
        owners.append(p.source_id)
    return texts, owners


def fit_history_model(
    engine: Any,
    *,
    exclude: Collection[str] = (),
    exclude_queries: Collection[str] = (),
    until: datetime | None = None,
    min_items: int = MIN_ITEMS,
    c: float = 10.0,
    progress: Callable[[str, int, int], None] | None = None,
) -> PartnerHistoryModel | None:
    """A history model over the organisations with at least `min_items` positive partnerships
    as the giving side, or None when fewer than two have that many. Texts are embedded as the
    engine embeds queries (cached), so the model scores needs in the space they arrive in."""
    texts, owners = history_texts(
        engine.store, exclude=exclude, exclude_queries=exclude_queries, until=until
    )
    ids, counts = np.unique(np.asarray(owners, dtype=str), return_counts=True)
    if int((counts >= min_items).sum()) < 2:
        logger.info("no history model: fewer than two organisations with %d items", min_items)
        return None
    keep = set(ids[counts >= min_items].tolist())
    rows = [i for i, o in enumerate(owners) if o in keep]
    kept = [texts[i] for i in rows]
    if progress is not None:
        progress("history texts", 0, len(kept))
    parts = []
    for start in range(0, len(kept), EMBED_CHUNK):  # in chunks, to say how far it has got
        parts.append(engine.query_vectors(kept[start : start + EMBED_CHUNK]))
        if progress is not None:
            progress("history texts", min(start + EMBED_CHUNK, len(kept)), len(kept))
    if progress is not None:
        progress("history model", 0, 1)
    model = PartnerHistoryModel(c=c, min_items=min_items)
    fitted = model.fit(
        np.vstack(parts), [owners[i] for i in rows], model_name=engine.embedder.model_name
    )
    if progress is not None:
        progress("history model", 1, 1)
    return fitted
