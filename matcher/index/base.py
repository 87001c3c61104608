"""The VectorIndex contract every backend satisfies (tests/index/test_index_contract.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class VectorIndex(Protocol):
    """Inner-product search over L2-normalised float32 vectors, keyed by int64 ids.

    `add` with an id that is already present replaces its vector; `remove` ignores unknown ids.
    `search` returns `(ids, scores)` of shape (n_queries, k), best first, padded with id -1 and
    score -inf where fewer than k vectors exist.
    """

    @property
    def kind(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def __len__(self) -> int: ...

    def ids(self) -> np.ndarray:
        """The live ids (int64, ascending)."""
        ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def save(self, directory: Path) -> None: ...

    # Loading goes through matcher.index.factory.load_index, which reads the manifest's kind.
