"""Shared by the ranker, evaluation and registry tests: an engine on the bundled sample corpus
(model-free hashing embedder) and a synthetic partnership history with a known preference.

Each source organisation "partnered" with the three candidates the engine returns for its
profile that score highest on a hidden rule, 0.3 * fit + 0.7 * proximity: the default
weights (fit 0.45, proximity 0.15) rank them poorly, a learned ranker should not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from matcher.domain import home_need
from matcher.engine import Engine
from matcher.settings import Settings
from training.history import store_partnerships
from training.partnership import Partnership

HIDDEN = {"fit": 0.3, "proximity": 0.7}


def hidden_score(components: dict[str, float]) -> float:
    return sum(w * components[c] for c, w in HIDDEN.items())


def sample_engine(data_dir: Path) -> Engine:
    engine = Engine.open(Settings(data_dir=data_dir, model_name="hashing-v1"), load=False)
    engine.bootstrap_sample()
    return engine


def add_history(
    engine: Engine,
    n_sources: int = 60,
    per_source: int = 3,
    country: str | None = None,
) -> list[Partnership]:
    """Partnerships of the first `n_sources` organisations (of `country` only, when given)."""
    items: list[Partnership] = []
    start = datetime(2020, 1, 1, tzinfo=UTC)
    orgs = [o for _pk, o in engine.store.organisations() if country in (None, o.country)]
    orgs = orgs[:n_sources]
    for i, org in enumerate(orgs):
        need = home_need(org, org.profile_text()[:4000])
        rec = engine.recommend(need, limit=100)
        best = sorted(rec.results, key=lambda m: -hidden_score(m.components))[:per_source]
        for j, m in enumerate(best):
            items.append(
                Partnership(
                    id=f"p{i:03d}-{j}",
                    source_id=org.id,
                    partner_id=m.id,
                    started_at=start + timedelta(days=i),
                    outcome="partnered",
                )
            )
    store_partnerships(engine.store, items)
    return items
