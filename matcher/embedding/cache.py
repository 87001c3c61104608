"""Embedding cache: vectors keyed by (model identity, sha256 of the text); embed only the misses.

The model identity is its name and a digest of its files (matcher.embedding.identity); vectors
cached under the bare name by earlier versions are adopted once a sample re-embeds the same."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from matcher.embedding.base import Embedder, EmbeddingCache
from matcher.embedding.identity import (
    LEGACY_SAMPLE,
    adopt_legacy,
    legacy_name,
    model_identity,
    verify_legacy,
)
from matcher.errors import DiskFullError

logger = logging.getLogger(__name__)

# texts embedded between two writes to the cache (and updates of the progress bar): a build
# that fails (a full disk) loses at most this many. 2,658 vectors took 0.46 s to write in 42
# writes, 0.60 s in one, beside ~77 s of CPU to embed them (onnx-int8, 2 cores)
SAVE_EVERY = 64


def text_hash(text: str) -> str:
    """The cache key of a text: sha256 hex digest of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class InMemoryEmbeddingCache:
    """A process-local EmbeddingCache (dict of read-only float32 copies); thread-safe."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get_many(self, model: str, text_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            found = {h: self._data.get((model, h)) for h in text_hashes}
        return {h: v for h, v in found.items() if v is not None}

    def put_many(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        frozen = {}
        for h, v in vectors.items():
            arr = np.array(v, dtype=np.float32, copy=True).reshape(-1)
            arr.setflags(write=False)
            frozen[(model, h)] = arr
        with self._lock:
            self._data.update(frozen)


class CachedEmbedder:
    """An Embedder that consults `cache` first and embeds each distinct missing text once.

    `hits` counts texts served from the cache, `misses` texts that had to be embedded
    (a text repeated within one call counts once as a miss, then as hits).
    """

    def __init__(self, embedder: Embedder, cache: EmbeddingCache) -> None:
        self.embedder = embedder
        self.cache = cache
        self.model_name = embedder.model_name
        self.cache_key = model_identity(embedder)  # name@digest: the vector space
        self.dimension = embedder.dimension
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._legacy_ok: bool | None = None  # vectors under the bare name: verified or not

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of texts, not a single string")
        n = len(texts)
        out = np.empty((n, self.dimension), dtype=np.float32)
        if n == 0:
            return out
        hashes = [text_hash(t) for t in texts]
        found = self.cache.get_many(self.cache_key, list(dict.fromkeys(hashes)))
        found = {h: v for h, v in found.items() if self._valid(h, v)}
        missing: dict[str, str] = {}
        for h, t in zip(hashes, texts, strict=True):
            if h not in found and h not in missing:
                missing[h] = t
        if missing and self._legacy_ok is not False:
            adopted, ok = adopt_legacy(
                self.cache,
                self.cache_key,
                missing,
                self.embedder.encode,
                verified=bool(self._legacy_ok),
            )
            if ok is not None:
                self._legacy_ok = ok
            adopted = {h: v for h, v in adopted.items() if self._valid(h, v)}
            found.update(adopted)
            for h in adopted:
                del missing[h]
        if missing:
            found.update(self._embed_and_keep(missing, progress=progress))
        for i, h in enumerate(hashes):
            out[i] = found[h]
        with self._lock:
            self.misses += len(missing)
            self.hits += n - len(missing)
        logger.debug("embedding cache: %d texts, %d embedded", n, len(missing))
        return out

    def _embed_and_keep(self, missing: dict[str, str], *, progress: bool) -> dict[str, np.ndarray]:
        """Embed `missing` (hash -> text) and put the vectors in the cache a chunk at a time,
        each chunk in one write: a build that fails part-way (a full disk) keeps the chunks
        written before, and the next embeds only the rest. Over several chunks, longest texts
        first, so each chunk's batches pad as little as one call over all of them would."""
        order = list(missing.items())
        # whole batches of the embedder's own, in its own order (longest first, ties as given:
        # `length_sorted_batches`), so each chunk's batches are those one call over every text
        # would make: the int8 model reads a text a little differently beside other texts
        batch = max(1, int(getattr(self.embedder, "batch_size", SAVE_EVERY) or SAVE_EVERY))
        size = max(1, SAVE_EVERY // batch) * batch
        chunks = -(-len(order) // size)
        if chunks > 1:
            order.sort(key=lambda item: -len(item[1]))  # stable
        bar: Any = None
        if progress and chunks > 1:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(order), desc="embedding", unit="text")
        out: dict[str, np.ndarray] = {}
        try:
            for start in range(0, len(order), size):
                part = order[start : start + size]
                vecs = self.embedder.encode([t for _, t in part], progress=progress and chunks == 1)
                fresh = dict(zip([h for h, _ in part], vecs, strict=True))
                try:
                    self.cache.put_many(self.cache_key, fresh)
                except DiskFullError as exc:
                    raise DiskFullError(
                        f"the disk is full: {len(out):,} of {len(order):,} texts embedded and "
                        "kept in the embedding cache",
                        done=len(out),
                        total=len(order),
                    ) from exc
                out.update(fresh)
                if bar is not None:
                    bar.update(len(part))
        finally:
            if bar is not None:
                bar.close()
        return out

    def check_legacy(
        self, hashes: Sequence[str], texts_of: Callable[[list[str]], Mapping[str, str]]
    ) -> None:
        """Decide, once, whether the vectors cached under the bare model name for some of these
        text hashes are this model's (a sample re-embedded; `texts_of` gives the sample's
        texts), so that counts of what is left to embed are true before any build."""
        if self._legacy_ok is not None or legacy_name(self.cache_key) is None or not hashes:
            return
        legacy = str(legacy_name(self.cache_key))
        present = getattr(self.cache, "present", None)
        unique = list(dict.fromkeys(hashes))
        held = present(legacy, unique) if present else self.cache.get_many(legacy, unique)
        sample = sorted(held)[:LEGACY_SAMPLE]
        if not sample:
            return
        texts = texts_of(sample)
        known = {h: texts[h] for h in sample if h in texts}
        ok = verify_legacy(self.cache, self.cache_key, known, self.embedder.encode)
        if ok is not None:
            self._legacy_ok = ok

    @property
    def legacy_usable(self) -> bool:
        """False once vectors under the bare model name proved to be another model's."""
        return self._legacy_ok is not False

    def _valid(self, text_hash_: str, vector: np.ndarray) -> bool:
        if np.shape(vector) != (self.dimension,):
            logger.warning(
                "ignoring cached vector %s of shape %s for %s (expected %d)",
                text_hash_[:12],
                np.shape(vector),
                self.model_name,
                self.dimension,
            )
            return False
        return True
