"""TF-IDF keyword index (word uni/bigrams, sublinear tf) with a term-major matrix for fast queries.

Vocabulary and idf are learned by `fit`; `add` reuses them (new words in added texts are not
indexed until the next `fit`). Every unigram is kept, so a rare acronym seen once is searchable;
on larger corpora bigrams seen in fewer than two documents are pruned. Scores are cosines.
Saved without pickle: vocabulary as JSON, idf and ids as .npy, the matrix as scipy .npz.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from matcher.atomic import atomic_directory, atomic_save_npy, atomic_write_bytes, atomic_write_text
from matcher.errors import ArtifactMismatchError, IndexNotReadyError
from matcher.index import analyzer
from matcher.index.manifest import Manifest, expect_manifest

logger = logging.getLogger(__name__)

VOCAB_FILE, IDF_FILE, IDS_FILE, MATRIX_FILE = "vocabulary.json", "idf.npy", "ids.npy", "matrix.npz"
BIGRAM_PRUNE_FROM_DOCS = 5_000  # corpora at least this large drop bigrams with df < 2
SMALL_CANDIDATES = 2_048  # candidate sets up to this size are mapped to rows one id at a time
_LOW32 = np.uint64(0xFFFFFFFF)


def rank_desc(scores: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The order of `scores` (float32, all > 0) from best to worst, ties by ascending id:
    `np.lexsort((ids, -scores))`, but when `ids` are increasing (the usual case: rows keep the
    order ids were indexed in) as one unstable sort of packed 64-bit keys, about 9x faster.

    Positive float32 values order like their bit patterns read as uint32, so the key is the
    inverted score bits above the position (which orders ties by id since ids increase).
    """
    scores = np.asarray(scores)
    n = scores.size
    if (
        scores.dtype != np.float32
        or n >= 1 << 32
        or not (n < 2 or bool((ids[1:] > ids[:-1]).all()))
        or not bool((scores > 0).all())
    ):
        return np.lexsort((ids, -scores))
    key = (_LOW32 - scores.view(np.uint32).astype(np.uint64)) << np.uint64(32)
    key |= np.arange(n, dtype=np.uint64)
    key.sort()
    return (key & _LOW32).astype(np.intp)


def _analyzer_params() -> dict[str, Any]:
    """The CountVectorizer parameters matcher.index.analyzer reproduces (recorded in the
    manifest; scikit-learn itself is not used)."""
    return {
        "lowercase": True,
        "strip_accents": "unicode",
        "stop_words": "english",
        "ngram_range": (1, 2),
        "dtype": np.float32,
    }


def _as_ids(ids: Any) -> np.ndarray:
    arr = np.asarray(ids, dtype=np.int64).reshape(-1)
    return np.ascontiguousarray(arr)


def count_terms(texts: list[str], bigram_min_df: int) -> tuple[list[str], sp.csr_matrix]:
    """(terms, document x term counts) as CountVectorizer(**_analyzer_params()) would analyse
    the texts (see matcher.index.analyzer), keeping every unigram and the bigrams seen in
    >= `bigram_min_df` documents.

    Each text is preprocessed and tokenised once in Python; bigrams are then formed, counted and
    pruned as integer pairs in numpy, so only the kept bigrams ever become strings. (sklearn's
    `fit_transform` builds and sorts a string vocabulary of every bigram: minutes at 100k docs.)
    """
    vocab: dict[str, int] = {}
    setdefault = vocab.setdefault
    flat: list[int] = []
    lengths = np.zeros(len(texts), dtype=np.int64)
    for d, text in enumerate(texts):
        toks = [setdefault(w, len(vocab)) for w in analyzer.words(text)]
        lengths[d] = len(toks)
        flat.extend(toks)
    n, v = len(texts), len(vocab)
    tok = np.asarray(flat, dtype=np.int64)
    doc = np.repeat(np.arange(n, dtype=np.int64), lengths)
    same = doc[1:] == doc[:-1]  # adjacent tokens of one document form a bigram
    pair = tok[:-1][same] * v + tok[1:][same]
    bdoc = doc[1:][same]
    codes, inverse = np.unique(pair, return_inverse=True)
    inverse = inverse.reshape(-1)
    seen = np.unique(inverse * n + bdoc)  # distinct (bigram, document)
    df = np.bincount(seen // n, minlength=codes.size)
    kept = np.flatnonzero(df >= bigram_min_df)
    column = np.full(codes.size, -1, dtype=np.int64)
    column[kept] = v + np.arange(kept.size)
    words = list(vocab)
    terms = words + [f"{words[c // v]} {words[c % v]}" for c in codes[kept].tolist()]
    bcol = column[inverse]
    ok = bcol >= 0
    rows = np.concatenate([doc, bdoc[ok]])
    cols = np.concatenate([tok, bcol[ok]])
    counts = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n, len(terms))
    )
    counts.sum_duplicates()
    return terms, counts


class LexicalIndex:
    """Keyword search over texts keyed by int64 ids."""

    kind = "lexical-tfidf"

    def __init__(self) -> None:
        self._vocabulary: dict[str, int] | None = None  # term -> column
        self._idf = np.zeros(0, dtype=np.float32)
        self._main: sp.csc_matrix = sp.csc_matrix((0, 0), dtype=np.float32)
        self._delta: sp.csr_matrix = sp.csr_matrix((0, 0), dtype=np.float32)
        self._row_ids = np.zeros(0, dtype=np.int64)  # row -> id, -1 once removed or replaced
        self._row_of: dict[int, int] = {}
        self.bigram_min_df = 1
        # (text, row scores) of the last query: retrieval asks twice per query (top-k, then the
        # dense-only candidates). Replaced as one tuple, so concurrent readers see either value.
        self._memo: tuple[str, np.ndarray] | None = None

    # -- building ----------------------------------------------------------------------------
    def fit(self, ids: Any, texts: list[str]) -> LexicalIndex:
        """Learn vocabulary and idf from `texts` and index them (replacing any previous content)."""
        id_arr = _as_ids(ids)
        if id_arr.size != len(texts):
            raise ValueError(f"{id_arr.size} ids for {len(texts)} texts")
        n = len(texts)
        self.bigram_min_df = 2 if n >= BIGRAM_PRUNE_FROM_DOCS else 1
        terms, counts = count_terms(texts, self.bigram_min_df)
        if not terms:  # empty vocabulary: nothing but stop words, or no texts
            terms, counts = ["\x00"], sp.csr_matrix((n, 1), dtype=np.float32)
        self._set_vocabulary(terms)
        df = np.bincount(counts.indices, minlength=len(terms))
        self._idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
        self._main = self._weigh(counts).tocsc()
        self._delta = sp.csr_matrix((0, self._main.shape[1]), dtype=np.float32)
        self._row_ids = np.zeros(0, dtype=np.int64)
        self._row_of = {}
        self._register(id_arr)
        logger.info("lexical index fitted: %d docs, %d terms", len(self), len(self._idf))
        return self

    def _set_vocabulary(self, terms: list[str]) -> None:
        vocabulary = dict(zip(terms, range(len(terms)), strict=True))
        if len(vocabulary) != len(terms):
            raise ArtifactMismatchError("the lexical vocabulary repeats a term")
        self._vocabulary = vocabulary

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Counts -> (1 + log tf) · idf, rows L2-normalised."""
        m = sp.csr_matrix(counts, dtype=np.float32, copy=True)
        m.data = (1.0 + np.log(m.data)) * self._idf[m.indices]
        rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        norms = np.sqrt(np.bincount(rows, weights=m.data * m.data, minlength=m.shape[0]))
        norms[norms == 0] = 1.0
        m.data = (m.data / norms[rows]).astype(np.float32)
        return m

    def _vectorise(self, texts: list[str]) -> sp.csr_matrix:
        """Term counts of `texts` over the fitted vocabulary (unknown terms dropped), weighed."""
        if self._vocabulary is None:
            raise IndexNotReadyError("lexical index is not fitted")
        vocabulary = self._vocabulary
        cols: list[int] = []
        indptr = [0]
        for text in texts:
            cols.extend(c for c in map(vocabulary.get, analyzer.analyze(text)) if c is not None)
            indptr.append(len(cols))
        counts = sp.csr_matrix(
            (np.ones(len(cols), dtype=np.float32), np.asarray(cols, dtype=np.int64), indptr),
            shape=(len(texts), len(vocabulary)),
        )
        counts.sum_duplicates()
        return self._weigh(counts)

    def _query_vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(term columns, weights) of one query."""
        if self._vocabulary is None:
            raise IndexNotReadyError("lexical index is not fitted")
        vocabulary = self._vocabulary
        counts: dict[int, int] = {}
        for gram in analyzer.analyze(text):
            col = vocabulary.get(gram)
            if col is not None:
                counts[col] = counts.get(col, 0) + 1
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        w = (1.0 + np.log(tf)) * self._idf[cols]
        return cols, (w / np.linalg.norm(w)).astype(np.float32)

    def _register(self, ids: np.ndarray) -> None:
        """Map new trailing rows to `ids`, retiring older rows of the same ids."""
        self._memo = None
        first = self._row_ids.size
        for i in ids.tolist():
            old = self._row_of.pop(i, None)
            if old is not None:
                self._row_ids[old] = -1
        self._row_ids = np.concatenate([self._row_ids, ids])
        # a repeated id within the batch: the last row wins
        self._row_of.update({i: first + r for r, i in enumerate(ids.tolist())})
        for r, i in enumerate(ids.tolist()):
            if self._row_of[i] != first + r:
                self._row_ids[first + r] = -1

    def add(self, ids: Any, texts: list[str]) -> None:
        """Index more texts with the fitted vocabulary; an id already present is replaced."""
        id_arr = _as_ids(ids)
        if id_arr.size != len(texts):
            raise ValueError(f"{id_arr.size} ids for {len(texts)} texts")
        if id_arr.size == 0:
            return
        rows = self._vectorise(list(texts))
        self._delta = sp.vstack([self._delta, rows], format="csr", dtype=np.float32)
        self._register(id_arr)
        if self._delta.shape[0] > max(1_000, self._main.shape[0] // 10):
            self._compact_delta()

    def _compact_delta(self) -> None:
        self._main = sp.vstack([self._main.tocsr(), self._delta], format="csc", dtype=np.float32)
        self._delta = sp.csr_matrix((0, self._main.shape[1]), dtype=np.float32)

    def _drop_dead_rows(self) -> None:
        """Fold pending rows into the term-major matrix and drop removed/replaced rows."""
        self._compact_delta()
        self._memo = None
        live = np.flatnonzero(self._row_ids >= 0)
        if live.size < self._row_ids.size:
            self._main = self._main[live, :].tocsc()
            self._row_ids = self._row_ids[live]
            self._row_of = {i: r for r, i in enumerate(self._row_ids.tolist())}

    def remove(self, ids: Any) -> None:
        """Forget ids; unknown ids are ignored."""
        for i in _as_ids(ids).tolist():
            row = self._row_of.pop(i, None)
            if row is not None:
                self._row_ids[row] = -1
        if self._row_ids.size - len(self) > max(1_000, self._row_ids.size // 3):
            self._drop_dead_rows()

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, item: object) -> bool:
        return isinstance(item, int | np.integer) and int(item) in self._row_of

    def ids(self) -> np.ndarray:
        return np.sort(self._row_ids[self._row_ids >= 0])

    # -- querying ----------------------------------------------------------------------------
    def _row_scores(self, text: str) -> np.ndarray:
        """Cosine of `text` with every row (dead rows included), touching only its terms."""
        cols, qw = self._query_vector(text)
        n_rows = self._row_ids.size
        if cols.size == 0 or n_rows == 0:
            return np.zeros(n_rows, dtype=np.float32)
        main = self._main
        starts, ends = main.indptr[cols], main.indptr[cols + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total:
            pos = np.repeat(ends - lengths.cumsum(), lengths) + np.arange(total)
            weights = main.data[pos] * np.repeat(qw, lengths)
            scores = np.bincount(main.indices[pos], weights=weights, minlength=n_rows)
        else:
            scores = np.zeros(n_rows, dtype=np.float64)
        if self._delta.shape[0]:
            dense_q = np.zeros(self._idf.size, dtype=np.float32)
            dense_q[cols] = qw
            scores[main.shape[0] :] += self._delta @ dense_q
        return scores.astype(np.float32)

    def _matching_rows(self, text: str, candidate_ids: Any) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of live rows scoring > 0, optionally among candidates; rows ascending."""
        memo = self._memo
        if memo is not None and memo[0] == text:
            all_scores = memo[1]
        else:
            all_scores = self._row_scores(text)
            all_scores.setflags(write=False)
            self._memo = (text, all_scores)
        if candidate_ids is None:
            rows_arr = np.flatnonzero(all_scores > 0)
        else:
            cand = _as_ids(candidate_ids)
            if cand.size <= SMALL_CANDIDATES:
                # a few ids (the dense-only candidates): look their rows up directly
                row_of = self._row_of
                found = [row_of.get(i, -1) for i in cand.tolist()]
                rows_arr = np.unique(np.asarray(found, dtype=np.int64))
                rows_arr = rows_arr[rows_arr >= 0]
                rows_arr = rows_arr[all_scores[rows_arr] > 0]
            else:
                # vectorised: a Python loop over ~10^5 candidate ids costs more than the scoring
                rows_arr = np.flatnonzero(all_scores > 0)
                rows_arr = rows_arr[np.isin(self._row_ids[rows_arr], cand)]
        rows_arr = rows_arr[self._row_ids[rows_arr] >= 0]
        return rows_arr, all_scores[rows_arr]

    def _ranked(self, rows: np.ndarray, sc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ids and scores (all > 0) best first, ties by ascending id."""
        ids = self._row_ids[rows]
        return ids[(order := rank_desc(sc, ids))], sc[order]

    def scores(self, text: str, candidate_ids: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of every live document scoring > 0, best first; restricted to
        `candidate_ids` (unknown ones ignored) when given."""
        return self._ranked(*self._matching_rows(text, candidate_ids))

    def matches(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of every live document scoring > 0, in index order (unsorted: for
        callers that filter and take their own top-k; cheaper than `scores`)."""
        rows, sc = self._matching_rows(text, None)
        return self._row_ids[rows], sc

    def search(self, text: str, k: int, candidate_ids: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """The best k of `scores` (at most k entries, unpadded, only scores > 0)."""
        if k < 0:
            raise ValueError("k must be >= 0")
        rows, sc = self._matching_rows(text, candidate_ids)
        if k == 0:
            rows, sc = rows[:0], sc[:0]
        elif rows.size > k:
            kth = np.partition(sc, rows.size - k)[rows.size - k]
            keep = sc >= kth  # all ties at the boundary, so the cut below is deterministic
            rows, sc = rows[keep], sc[keep]
        ids, sc = self._ranked(rows, sc)
        return ids[:k], sc[:k]

    # -- persistence -------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write live rows only, as a directory replaced atomically."""
        if self._vocabulary is None:
            raise IndexNotReadyError("lexical index is not fitted")
        self._drop_dead_rows()
        vocab = sorted(self._vocabulary, key=self._vocabulary.__getitem__)
        params = {**_analyzer_params(), "sublinear_tf": True, "bigram_min_df": self.bigram_min_df}
        params["ngram_range"] = list(params["ngram_range"])
        params["dtype"] = "float32"
        buf = io.BytesIO()
        sp.save_npz(buf, self._main, compressed=False)
        with atomic_directory(Path(directory)) as tmp:
            atomic_write_text(tmp / VOCAB_FILE, json.dumps(vocab, ensure_ascii=False))
            atomic_save_npy(tmp / IDF_FILE, self._idf)
            atomic_save_npy(tmp / IDS_FILE, self._row_ids)
            atomic_write_bytes(tmp / MATRIX_FILE, buf.getvalue())
            Manifest.new(self.kind, len(vocab), len(self), params, uses_faiss=False).write(tmp)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """Load a directory written by `save`; ArtifactMismatchError if anything disagrees."""
        directory = Path(directory)
        manifest = expect_manifest(directory, cls.kind)
        try:
            vocab = json.loads((directory / VOCAB_FILE).read_text(encoding="utf-8"))
            idf = np.load(directory / IDF_FILE, allow_pickle=False)
            ids = np.load(directory / IDS_FILE, allow_pickle=False)
            matrix = sp.load_npz(directory / MATRIX_FILE).tocsc().astype(np.float32)
        except (OSError, ValueError) as exc:
            raise ArtifactMismatchError(f"unreadable lexical index at {directory}: {exc}") from exc
        n_terms = manifest.dimension
        if not (len(vocab) == idf.size == matrix.shape[1] == n_terms):
            raise ArtifactMismatchError(f"{directory}: vocabulary, idf and matrix disagree")
        if ids.dtype != np.int64 or ids.size != matrix.shape[0]:
            raise ArtifactMismatchError(f"{directory}: ids do not match the matrix rows")
        index = cls()
        index._set_vocabulary(list(vocab))
        index._idf = idf.astype(np.float32)
        index._main = matrix
        index._delta = sp.csr_matrix((0, n_terms), dtype=np.float32)
        index.bigram_min_df = int(manifest.params.get("bigram_min_df", 1))
        index._register(ids)
        manifest.check_count(len(index), f"lexical index at {directory}")
        return index
