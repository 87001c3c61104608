"""Vector spaces: the cached vectors of one model identity, as `matcher embed` fills them.

A space is created `filling`, becomes `validated` once every text of the database has a vector
of the right dimension (`incomplete` if a run found rows missing), and carries the corpus mean
used for centring, frozen the first time it is computed so every index generation built from
the space centres the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select

from matcher.domain import utcnow
from matcher.store.db import Database
from matcher.store.models import EmbeddingRow, VectorSpaceRow

FILLING = "filling"
VALIDATED = "validated"
INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class VectorSpace:
    identity: str
    model_name: str
    model_path: str | None
    dimension: int
    status: str
    texts: int
    mean: np.ndarray | None
    mean_count: int
    info: dict[str, Any]


def _space(row: VectorSpaceRow) -> VectorSpace:
    mean = None
    if row.mean is not None:
        mean = np.frombuffer(row.mean, dtype=np.float32).copy()
    return VectorSpace(
        identity=row.identity,
        model_name=row.model_name,
        model_path=row.model_path,
        dimension=row.dimension,
        status=row.status,
        texts=row.texts,
        mean=mean,
        mean_count=row.mean_count,
        info=dict(row.info or {}),
    )


def get_space(db: Database, identity: str) -> VectorSpace | None:
    with db.session() as s:
        row = s.get(VectorSpaceRow, identity)
        return _space(row) if row is not None else None


def open_space(
    db: Database, identity: str, *, model_name: str, model_path: str | None, dimension: int
) -> VectorSpace:
    """The space of `identity`, created (status filling) if new."""
    with db.session() as s:
        row = s.get(VectorSpaceRow, identity)
        if row is None:
            now = utcnow()
            row = VectorSpaceRow(
                identity=identity,
                model_name=model_name,
                model_path=model_path,
                dimension=dimension,
                status=FILLING,
                texts=0,
                mean=None,
                mean_count=0,
                created_at=now,
                updated_at=now,
                info={},
            )
            s.add(row)
            s.flush()
        return _space(row)


def set_status(
    db: Database, identity: str, status: str, *, texts: int, info: dict[str, Any]
) -> None:
    with db.session() as s:
        row = s.get(VectorSpaceRow, identity)
        if row is None:
            raise KeyError(identity)
        row.status = status
        row.texts = texts
        row.info = {**(row.info or {}), **info}
        row.updated_at = utcnow()


def freeze_mean(db: Database, identity: str, mean: np.ndarray, count: int) -> np.ndarray:
    """Record `mean` as the space's centring mean unless one is frozen already; returns the
    frozen one."""
    with db.session() as s:
        row = s.get(VectorSpaceRow, identity)
        if row is None:
            raise KeyError(identity)
        if row.mean is None:
            row.mean = np.ascontiguousarray(mean, dtype=np.float32).tobytes()
            row.mean_count = count
            row.updated_at = utcnow()
        return np.frombuffer(row.mean, dtype=np.float32).copy()


def frozen_mean(db: Database, identity: str, dimension: int) -> np.ndarray | None:
    """The mean frozen for `identity` (None when `matcher embed` has not made one)."""
    space = get_space(db, identity)
    if space is None or space.mean is None or space.mean.shape != (dimension,):
        return None
    return space.mean


def bad_dimension_rows(db: Database, identity: str, dimension: int) -> int:
    """Cached vectors of `identity` whose dimension is not `dimension`."""
    with db.session() as s:
        q = (
            select(func.count())
            .select_from(EmbeddingRow)
            .where(EmbeddingRow.model == identity, EmbeddingRow.dimension != dimension)
        )
        return int(s.scalar(q) or 0)
