"""The saved needs' query vectors as one matrix: a changed organisation is scored against all
of them in one product, and only the saved needs it could now enter the top results of are
confirmed with a real `Engine.recommend`.

A saved need's bar is the lowest relevance among its top results when they are full (else the
relevance floor): an organisation must beat it to enter. Relevance is the best raw similarity
of the partner's evidence, at least its dense similarity q . v, and the ranking also weighs
other components, so the screen keeps organisations within `margin` below the bar."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matcher.alerts.store import SavedNeed


def bar_of(saved: SavedNeed, floor: float) -> float:
    """The relevance an organisation must reach to enter `saved`'s top results."""
    if len(saved.snapshot) < saved.limit:
        return floor
    rel = [e.relevance for e in saved.snapshot if e.relevance is not None]
    return min(rel) if len(rel) == len(saved.snapshot) else floor


@dataclass
class ScreenMatrix:
    dimension: int
    ids: list[str] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    bars: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    _row: dict[str, int] = field(default_factory=dict)

    def load(self, ids: list[str], vectors: np.ndarray, bars: np.ndarray) -> None:
        self.ids = list(ids)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        self.bars = np.asarray(bars, dtype=np.float32)
        self._row = {sid: i for i, sid in enumerate(self.ids)}

    def append(self, ids: list[str], vectors: np.ndarray, bars: np.ndarray) -> None:
        self.load(
            [*self.ids, *ids],
            np.vstack([self.vectors.reshape(-1, self.dimension), vectors]),
            np.concatenate([self.bars, np.asarray(bars, dtype=np.float32)]),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def set_bar(self, saved_id: str, bar: float) -> None:
        row = self._row.get(saved_id)
        if row is not None:
            self.bars[row] = bar

    def candidates(
        self, org_ids: list[str], org_vectors: np.ndarray, margin: float
    ) -> dict[str, set[str]]:
        """saved need id -> the changed organisations that may enter its top results, the
        saved needs they clear the bar of by most first (confirmed, and alerted, first)."""
        out: dict[str, set[str]] = {}
        if not self.ids or not org_ids:
            return out
        above = org_vectors.astype(np.float32) @ self.vectors.T - self.bars[None, :]
        hits = np.argwhere(above >= -margin)
        order = np.argsort(-above[hits[:, 0], hits[:, 1]], kind="stable")
        for o, n in hits[order].tolist():
            out.setdefault(self.ids[n], set()).add(org_ids[o])
        return out
