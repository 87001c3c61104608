"""The first stage of a request: a need's text read into vectors.

A query vector is the text's embedding (plus the mean of its sentences' with
`query_sentences`), centred like the profiles by the corpus mean; a need's clause vectors are
its clauses embedded like queries (focus evidence, required capabilities, the coalition's
per-clause evidence), in one packed row when the embedder can (`packed_query_pass`,
`matcher.embedding.packed`), or, with `clause_spans`, pooled from the need's own pass through
the model (`matcher.embedding.spans`). Both are kept in a small per-process cache, cleared when
the mean or the cause space changes.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any, TypeVar, cast

import numpy as np

from matcher import evidence
from matcher.embedding import spans
from matcher.embedding.base import Embedder
from matcher.need_reading import split_sentences
from matcher.settings import Settings
from matcher.vectors import centre, l2_normalise

_CLAUSES = "\x00clauses\x00"  # cache key prefix of a text's clause vectors

A = TypeVar("A")
B = TypeVar("B")
# one spare thread per process for a need's second pass through the model: a request on an
# otherwise idle server reads its need and its clauses at once, on two cores; when another
# request is using it, the passes run one after the other as before (never more than one
# extra thread, so a loaded server does not run more passes at once than it has rankings)
_SPARE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="query-pass")
_SPARE_FREE = threading.Semaphore(1)


# set by a server for the request running in this context: whether it is the only one in
# flight (running or waiting); None outside a server (then `Engine.rankings` decides)
query_passes_alone: ContextVar[bool | None] = ContextVar("query_passes_alone", default=None)


class RankingCount:
    """How many rankings a process has in progress (thread-safe)."""

    def __init__(self) -> None:
        self.now = 0
        self._lock = threading.Lock()

    def __enter__(self) -> RankingCount:
        with self._lock:
            self.now += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.now -= 1


F = TypeVar("F", bound=Callable[..., Any])


def counted_ranking(method: F) -> F:
    """Count the calls of an Engine method in progress in `self.rankings`."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self.rankings:
            return method(self, *args, **kwargs)

    return cast(F, wrapper)


def side_by_side(here: Callable[[], A], spare: Callable[[], B], *, parallel: bool) -> tuple[A, B]:
    """(here(), spare()), `spare` on the spare thread while `here` runs, when `parallel` and
    the spare thread is free; else one after the other."""
    if not parallel or not _SPARE_FREE.acquire(blocking=False):
        return here(), spare()
    try:
        future = _SPARE.submit(spare)
        first = here()
        return first, future.result()
    finally:
        _SPARE_FREE.release()


def wide_call(call: Callable[[bool], A], *, parallel: bool) -> A:
    """call(True) (may use two threads) when `parallel` and the spare thread is free, holding
    it meanwhile so that no second request's pass takes that core; else call(False)."""
    if not parallel or not _SPARE_FREE.acquire(blocking=False):
        return call(False)
    try:
        return call(True)
    finally:
        _SPARE_FREE.release()


class QueryReader:
    """Reads texts into centred query vectors and clause vectors, with a bounded LRU cache
    (thread-safe enough: an entry is computed twice at worst)."""

    def __init__(
        self, embedder: Embedder, settings: Settings, mean: Callable[[], np.ndarray | None]
    ) -> None:
        self.embedder = embedder
        self.settings = settings
        self._mean = mean  # the corpus mean now (it moves with every build)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def clear(self) -> None:
        self._cache.clear()

    def _remember(self, key: str, value: np.ndarray) -> None:
        size = self.settings.query_cache_size
        if size <= 0:
            return
        self._cache[key] = value
        while len(self._cache) > size:
            self._cache.popitem(last=False)

    def vector(self, text: str) -> np.ndarray:
        """The query vector of one text (cached)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        vec = self.vectors_uncached([text])[0]
        self._remember(text, vec)
        return vec

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """`vector` of each text, the ones not cached embedded in one call."""
        out = np.zeros((len(texts), self.embedder.dimension), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            cached = self._cache.get(text)
            if cached is not None:
                out[i] = cached
            else:
                todo.setdefault(text, []).append(i)
        if todo:
            for text, vec in zip(todo, self.vectors_uncached(list(todo)), strict=True):
                out[todo[text]] = vec
                self._remember(text, vec)
        return out

    def vectors_uncached(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Query vectors in batches, without the cache: the text's embedding plus the mean of
        its sentences' with `query_sentences` (so each aspect of a long need counts)."""
        parts = [split_sentences(t) if self.settings.query_sentences else [] for t in texts]
        flat = [*texts, *(s for p in parts for s in p)]
        vecs = self.embedder.encode(flat, progress=progress)
        out = vecs[: len(texts)].copy()
        start = len(texts)
        for i, p in enumerate(parts):
            if p:
                out[i] = out[i] + vecs[start : start + len(p)].mean(axis=0)
                start += len(p)
        return centre(l2_normalise(out), self._mean())

    def clause_vectors(self, text: str) -> np.ndarray:
        """The need's clauses embedded like queries (none for a one-clause need)."""
        return self.clause_vectors_of([text])[0]

    def clause_vectors_of(self, texts: Sequence[str]) -> list[np.ndarray]:
        """`clause_vectors` of each text; the clauses of the texts not cached are embedded in
        one call (a need and its topic without place words: one pass through the model, not
        two; each call has a fixed cost of 1-2 ms of CPU, more than a short clause's own)."""
        out: list[np.ndarray | None] = [self._cache.get(_CLAUSES + t) for t in texts]
        todo: dict[str, list[str]] = {}
        for text, got in zip(texts, out, strict=True):
            if got is None and text not in todo:
                todo[text] = evidence.clauses(text)
        embed = {t: p for t, p in todo.items() if len(p) >= 2}
        vecs: dict[str, np.ndarray] = {}
        if embed and self.pools_spans():
            vecs = {t: self._query_and_clauses(t, p)[1] for t, p in embed.items()}
        elif embed:
            distinct = list(dict.fromkeys(c for p in embed.values() for c in p))
            rows = centre(l2_normalise(self._encode_clauses(distinct)), self._mean())
            at = {c: i for i, c in enumerate(distinct)}
            vecs = {t: rows[[at[c] for c in p]] for t, p in embed.items()}
        empty = np.zeros((0, self.embedder.dimension), np.float32)
        for text in todo:
            self._remember(_CLAUSES + text, vecs.get(text, empty))
        return [
            got if got is not None else vecs.get(text, empty)
            for text, got in zip(texts, out, strict=True)
        ]

    def packs(self) -> bool:
        """Whether the embedder reads several texts in one packed call (`encode_packed`)."""
        return (
            self.settings.packed_query_pass != "off"
            and bool(getattr(self.embedder, "packed", False))
            and bool(getattr(self.embedder, "packs", False))
        )

    def _encode_clauses(self, clauses: Sequence[str]) -> np.ndarray:
        """A need's clauses through the model in one call: packed end to end in one row when
        the embedder can (no padding to the longest clause), else as a batch."""
        if self.packs():
            packed = self.embedder.encode_packed(clauses)  # type: ignore[attr-defined]
            if packed is not None:
                return np.asarray(packed, dtype=np.float32)
        return self.embedder.encode(clauses)

    def packed_need(
        self, text: str, clause_texts: Sequence[str], *, parallel: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]] | None:
        """With `packed_query_pass` "one": `text`'s query vector and `clause_vectors` of each
        of `clause_texts` from ONE call into the model (`matcher.embedding.packed`: the text
        and every distinct clause in one row, each read as on its own), both cached. None when
        two calls are kept: another setting, an embedder that does not pack, sentences or
        spans read, a vector already cached, no clause to embed (a one-clause need: one call
        already), or too long a row. `parallel`: the call may use the spare core too (as
        `side_by_side` would run the two calls), when it is free."""
        if self.settings.packed_query_pass != "one":
            return None
        if self.settings.query_sentences or self.pools_spans() or not self.packs():
            return None
        if text in self._cache or any(_CLAUSES + t in self._cache for t in clause_texts):
            return None
        parts = {t: evidence.clauses(t) for t in clause_texts}
        embed = {t: p for t, p in parts.items() if len(p) >= 2}
        distinct = list(dict.fromkeys(c for p in embed.values() for c in p))
        if not distinct:
            return None
        packed = wide_call(
            lambda wide: self.embedder.encode_packed(  # type: ignore[attr-defined]
                [text, *distinct], wide=wide
            ),
            parallel=parallel,
        )
        if packed is None:
            return None
        rows = centre(l2_normalise(packed), self._mean())
        at = {c: i for i, c in enumerate(distinct, start=1)}
        empty = np.zeros((0, self.embedder.dimension), np.float32)
        vecs = {t: rows[[at[c] for c in p]] if t in embed else empty for t, p in parts.items()}
        self._remember(text, rows[0])
        for t, v in vecs.items():
            self._remember(_CLAUSES + t, v)
        return rows[0], [vecs[t] for t in clause_texts]

    def pools_spans(self) -> bool:
        return self.settings.clause_spans and bool(getattr(self.embedder, "pools_spans", False))

    def need_vectors(self, text: str, *, parallel: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The query vector and the clause vectors of a need's topic: from one pass through
        the model when clauses are read as spans and the query is the text's own vector."""
        if (
            self.pools_spans()
            and not self.settings.query_sentences
            and text not in self._cache
            and _CLAUSES + text not in self._cache
        ):
            parts = evidence.clauses(text)
            if len(parts) >= 2:
                q, clause_vecs = self._query_and_clauses(text, parts)
                self._remember(text, q)
                self._remember(_CLAUSES + text, clause_vecs)
                return q, clause_vecs
        packed = self.packed_need(text, [text], parallel=parallel)
        if packed is not None:
            return packed[0], packed[1][0]
        if text in self._cache or _CLAUSES + text in self._cache:
            return self.vector(text), self.clause_vectors(text)
        clauses, q = side_by_side(
            lambda: self.clause_vectors(text),
            lambda: self.vector(text),
            parallel=parallel,
        )
        return q, clauses

    def _query_and_clauses(self, text: str, parts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The text's query vector (without sentences) and its clauses' vectors pooled from
        the same pass, both centred like the profiles."""
        encode_spans = self.embedder.encode_spans  # type: ignore[attr-defined]
        vec, pooled = encode_spans([text], [spans.locate(text, parts)])
        mean = self._mean()
        return centre(l2_normalise(vec), mean)[0], centre(pooled[0], mean)
