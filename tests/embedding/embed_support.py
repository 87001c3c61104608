"""A small synthetic corpus and a second model-free "model" for the `matcher embed` tests."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matcher.domain import Need, Organisation
from matcher.embedding.hashing import HashingEmbedder
from matcher.settings import Settings
from matcher.store import Database, Store

TOPICS = ["food bank", "tutoring", "housing", "river clean-up", "job training", "meals"]
HELP = ["volunteers", "funding", "a warehouse", "vans", "mentors", "legal advice"]


def corpus(n: int) -> list[Organisation]:
    out = []
    for i in range(n):
        topic, help_ = TOPICS[i % len(TOPICS)], HELP[(i // len(TOPICS)) % len(HELP)]
        out.append(
            Organisation.model_validate(
                {
                    "id": f"org-{i}",
                    "name": f"Organisation {i}",
                    "sector": "nonprofit" if i % 3 else "business",
                    "description": f"We run {topic} programmes number {i} and offer {help_}."
                    + " Long text." * (i % 7),
                    "city": "Portland",
                    "region": "Oregon",
                    "country": "US",
                }
            )
        )
    return out


def needs(n: int) -> list[Need]:
    return [
        Need(id=f"need-{i}", text=f"We need {HELP[i % len(HELP)]} for {i} families")
        for i in range(n)
    ]


def fill_store(settings: Settings, n_orgs: int, n_needs: int) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    db.create_all()
    store = Store(db)
    store.upsert_organisations(corpus(n_orgs))
    store.upsert_needs(needs(n_needs))
    db.dispose()


class TwistedHashing(HashingEmbedder):
    """Another model-free model: the hashing vectors with their coordinates rotated, under
    another name (so another vector space); optionally slow, to be killed mid-job."""

    model_name = "hashing-twisted"

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(dimension=384)
        self.delay = delay

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if self.delay:
            time.sleep(self.delay)
        return np.ascontiguousarray(np.roll(super().encode(texts), 11, axis=1))


def embeddings_count(data_dir: Path, model: str) -> int:
    from matcher.store.repository import SqlEmbeddingCache

    db = Database(Settings(data_dir=data_dir).sqlalchemy_url)
    try:
        return SqlEmbeddingCache(db).count(model)
    finally:
        db.dispose()
