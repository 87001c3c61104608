"""Saving a need (its top results as the snapshot, its query vector for the screen) and
running a saved need again on today's data."""

from __future__ import annotations

from matcher.alerts.store import SavedNeed, SavedNeeds
from matcher.alerts.worker import top_of
from matcher.domain import Filters, Need, Recommendation
from matcher.engine import Engine


def save_need(
    engine: Engine,
    need: Need,
    *,
    filters: Filters | None = None,
    limit: int = 10,
    owner: str | None,
    notify_to: str | None = None,
    recommendation_id: str | None = None,
) -> tuple[SavedNeed, Recommendation]:
    rec = engine.recommend(need, filters=filters, limit=limit)
    # as the ranking just read it (cached): the alert worker ranks it again without embedding
    reading = engine.read_need(rec.need)
    saved = SavedNeeds(engine.store.db).create(
        rec.need,
        filters,
        limit,
        top_of(rec),
        owner=owner,
        notify_to=notify_to,
        model=engine.embedder.model_name,
        vector=reading.query,
        reading=reading,
        recommendation_id=recommendation_id,
    )
    return saved, rec


def rerun(engine: Engine, saved: SavedNeed) -> Recommendation:
    """The saved need with its filters on today's data and model."""
    return engine.recommend(saved.need, filters=saved.filters, limit=saved.limit)
