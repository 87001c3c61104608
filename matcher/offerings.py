"""What a company says it offers, line by line, as evidence of what it can supply to a need.

A company's description (an S&P 500 summary, a registry's business description) lists its
products and services clause by clause ("operates kidney dialysis centers", "offers regional
less-than-truckload services", "distributes natural gas to residential customers"). Matched as one
long text, or through its industry's name alone, a company reads like every other of its sector
(a dialysis chain and a transport company both "serve patients"). Each clause is matched to the
need's clauses instead, as the focus evidence matches an industry (matcher.evidence): the score of
a clause is the mean of its best match with a clause of the need and its match with the whole need;
a company scores its best clause. Only the sectors in OFFERING_SECTORS are read this way: a
nonprofit's mission is one short statement, which its profile already is.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from matcher.atomic import atomic_write_bytes
from matcher.catalog import Catalog
from matcher.evidence import MAX_CLAUSES, MIN_CLAUSE_CHARS, Encode, split_parts
from matcher.row_dot import row_dot

logger = logging.getLogger(__name__)
FILENAME = "offerings.npz"  # saved with an index generation, beside its catalog snapshot
# how descriptions are cut into clauses: saved offerings of another recipe are read again from
# the profiles (3: a list's one-word items joined to their neighbours)
RECIPE = 3

OFFERING_SECTORS = ("business",)
# sentences about the company itself, not what it offers: its seat, its age, its former names
_ABOUT_ITSELF = re.compile(
    r"headquarter|incorporated|\bfounded\b|formerly known|changed its name", re.IGNORECASE
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# a clause of names only ("Marina Bay Sands in Singapore", "Kate Spade", "W Hotels") says where
# or under which brand, not what is offered: its few words matched a need by their look
# (Las Vegas Sands joined a flood coalition for "sandbags ... near the harbour", real data walk)
_WORD = re.compile(r"[^\W\d_][\w'’&.-]*")
_LINKING = frozenset(("in", "of", "the", "and", "at", "on", "for", "by", "de", "la", "du", "del"))


def names_only(clause: str) -> bool:
    """Whether every word of `clause` but linking ones is capitalised (a name or a place);
    text all in capitals (IRS missions) is not read as names."""
    words = [w for w in _WORD.findall(clause) if w.lower() not in _LINKING]
    return (
        bool(words) and all(w[0].isupper() for w in words) and not all(w.isupper() for w in words)
    )


def offering_clauses(description: str) -> list[str]:
    """The clauses of a description that say what the organisation does (at most
    evidence.MAX_CLAUSES, the first ones), sentences about its seat, founding or names left out,
    and clauses of names only (`names_only`). A list's one-word items are read with the item
    after them (`with_list_neighbours`)."""
    kept = [s for s in _SENTENCE.split(description) if not _ABOUT_ITSELF.search(s)]
    units = [u for s in kept for u in with_list_neighbours(split_parts(s, places=False))]
    return [u for u in units if len(u) >= MIN_CLAUSE_CHARS][:MAX_CLAUSES]


def with_list_neighbours(parts: Sequence[str]) -> list[str]:
    """One sentence's parts with each item of one word joined to the part after it:
    "paints, coatings, protective and marine products" gives "coatings, protective, marine
    products", not "coatings" alone, which matched a need for winter coats by its look
    (Sherwin-Williams; Nucor's "cold-rolled" for blankets; real data walk). Items of one word
    at a sentence's end are one part ("shoes, apparel and accessories"); a last one alone is
    left out ("... in the United States and internationally"). An activity ("managing,
    franchising, owning and leasing hotels") stands alone as before: joining activities too,
    and a last item to the part before it, diluted "leasing hotels" and "casualty insurance"
    (T4 business P@5 0.400 -> 0.370). Parts of names only are left out first (`names_only`)."""
    units: list[str] = []
    pending: list[str] = []
    for part in parts:
        if not part or names_only(part):
            continue
        if len(_WORD.findall(part)) <= 1 and not part.lower().endswith("ing"):  # no activity
            pending.append(part)
            continue
        units.append(", ".join([*pending, part]))
        pending = []
    if len(pending) > 1 or (pending and not units):  # "... shoes, apparel and accessories"
        units.append(", ".join(pending))
    return units


def known_vectors(texts: Sequence[str], encode: Encode) -> Encode:
    """An encoder for these texts only, embedded now (with `encode`): what a write embeds
    before it takes the engine's lock, and reads under it."""
    unique = list(dict.fromkeys(texts))
    vectors = np.asarray(encode(unique), dtype=np.float32) if unique else np.zeros((0, 1))
    row = {t: i for i, t in enumerate(unique)}
    return lambda asked: vectors[[row[t] for t in asked]]


class Offerings:
    """The offering clauses of organisations (by id) and their vectors. Immutable: `replaced`
    returns a new one, so a request reads one consistent set while a write makes the next."""

    def __init__(self, owners: Sequence[str], phrases: Sequence[str], vectors: np.ndarray):
        if len(owners) != len(phrases) or len(owners) != len(vectors):
            raise ValueError("owners, phrases and vectors differ in length")
        self.owner_names_ = sorted(set(owners))
        self._row_of_owner = {o: i for i, o in enumerate(self.owner_names_)}
        index = np.asarray([self._row_of_owner[o] for o in owners], dtype=np.int64)
        # each owner's clauses side by side, in their order: a request takes each owner's
        # best with one reduction over the array, not a Python loop over owners
        order = np.argsort(index, kind="stable")
        self.owner_index_ = index[order]
        self.owners_ = [owners[i] for i in order.tolist()]
        self.phrases_ = [phrases[i] for i in order.tolist()]
        self.vectors_ = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32)[order])
        change = np.flatnonzero(self.owner_index_[1:] != self.owner_index_[:-1]) + 1
        self._starts = np.concatenate([[0], change]).astype(np.int64)
        self._counts = np.diff(np.concatenate([self._starts, [len(self.owners_)]]))
        self._positions: tuple[object, np.ndarray] | None = None  # (catalog, owners' rows)

    @classmethod
    def empty(cls, dimension: int) -> Offerings:
        return cls([], [], np.zeros((0, dimension), np.float32))

    def __len__(self) -> int:
        return len(self.owners_)

    def save(self, folder: Path) -> None:
        """Write these offerings into an index generation's folder (atomically)."""
        buf = io.BytesIO()
        np.savez(
            buf,
            owners=np.asarray(self.owners_, dtype=str),
            phrases=np.asarray(self.phrases_, dtype=str),
            vectors=self.vectors_,
            recipe=np.asarray(RECIPE),
        )
        atomic_write_bytes(Path(folder) / FILENAME, buf.getvalue())

    @classmethod
    def load(cls, folder: Path, dimension: int) -> Offerings | None:
        """The offerings saved in a generation's folder; None when absent or unreadable."""
        path = Path(folder) / FILENAME
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                recipe = int(data["recipe"]) if "recipe" in data.files else 1
                if recipe != RECIPE:
                    raise ValueError(f"clauses cut by recipe {recipe}, this code cuts by {RECIPE}")
                owners, phrases = data["owners"].tolist(), data["phrases"].tolist()
                vectors = np.asarray(data["vectors"], dtype=np.float32)
            if vectors.ndim != 2 or (len(owners) and vectors.shape[1] != dimension):
                raise ValueError(f"vectors of shape {vectors.shape}, expected width {dimension}")
            return cls(owners, phrases, vectors.reshape(len(owners), dimension))
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("saved offerings %s not used: %s", path, exc)
            return None

    def kept(self, owners: set[str]) -> Offerings:
        """Only these owners' clauses."""
        keep = [i for i, o in enumerate(self.owners_) if o in owners]
        if len(keep) == len(self.owners_):
            return self
        return Offerings(
            [self.owners_[i] for i in keep], [self.phrases_[i] for i in keep], self.vectors_[keep]
        )

    def replaced(self, clauses_of: Mapping[str, Sequence[str]], encode: Encode) -> Offerings:
        """These owners' clauses set anew (an empty list: the owner has none now); the
        others' kept. Only the new clauses are embedded."""
        if not clauses_of:
            return self
        keep = [i for i, o in enumerate(self.owners_) if o not in clauses_of]
        owners = [self.owners_[i] for i in keep]
        phrases = [self.phrases_[i] for i in keep]
        new_owners = [o for o, cs in clauses_of.items() for _ in cs]
        new_phrases = [c for cs in clauses_of.values() for c in cs]
        parts = [self.vectors_[keep]]
        if new_phrases:
            parts.append(np.asarray(encode(new_phrases), dtype=np.float32))
        return Offerings(owners + new_owners, phrases + new_phrases, np.concatenate(parts))

    def best(
        self, query: np.ndarray, clause_vectors: np.ndarray, owners: np.ndarray | None = None
    ) -> OfferedLines:
        """Per owner, its clause closest to the need: (its score, see the module doc; the
        clause), read from arrays as asked (`OfferedLines`). `owners`: the ones to read
        (indexes into owner_names_, ascending; None: every owner); the others score NaN."""
        n = len(self.owner_names_)
        best = np.full(n, np.nan)
        which = np.full(n, -1, dtype=np.int64)
        if owners is None:
            owners = np.arange(n, dtype=np.int64)
        if not owners.size:
            return OfferedLines(self, best, which)
        counts = self._counts[owners]
        ends = np.cumsum(counts)
        # the rows of the chosen owners' clauses, owner after owner
        rows = np.repeat(self._starts[owners] - (ends - counts), counts) + np.arange(ends[-1])
        # the rows are read where they lie, one query at a time (faiss's kernel): gathering
        # them and one BLAS product with the clauses cost 5.1 against 3.5 ms a request at 100k
        # (1,000 companies, 4,320 clauses). Always by row number, even for every row: one
        # kernel, so an owner scores the same however many others are read
        whole = row_dot(self.vectors_, np.ascontiguousarray(query, dtype=np.float32), rows)
        if clause_vectors.size:
            closest = np.maximum.reduce(
                [
                    row_dot(self.vectors_, np.ascontiguousarray(c, dtype=np.float32), rows)
                    for c in clause_vectors
                ]
            )
            per_clause = 0.5 * closest + 0.5 * whole
        else:
            per_clause = whole
        scores = per_clause.astype(np.float64)
        segment = np.concatenate([[0], ends[:-1]])
        top_scores = np.maximum.reduceat(scores, segment)
        hit = np.flatnonzero(scores >= np.repeat(top_scores, counts))
        first = np.concatenate([[True], np.diff(np.searchsorted(ends, hit, side="right")) != 0])
        best[owners] = top_scores
        which[owners] = rows[hit[first]]  # the first of equal clauses
        return OfferedLines(self, best, which)

    def rows_in(self, catalog: Catalog) -> np.ndarray:
        """Per catalog row, its owner's index in owner_names_ (-1: no offerings)."""
        positions = self.positions_in(catalog)
        out = np.full(catalog.alive_.size, -1, dtype=np.int64)
        known = positions >= 0
        out[positions[known]] = np.flatnonzero(known)
        return out

    def owner_row(self, owner: str) -> int:
        """`owner`'s index in owner_names_ (KeyError: no clauses of it)."""
        return self._row_of_owner[owner]

    def positions_in(self, catalog: Catalog) -> np.ndarray:
        """Each owner's row in `catalog` (owner_names_ order; -1: not in it), kept until the
        catalog is another one (a write that changes the offerings makes new Offerings)."""
        kept = self._positions
        if kept is not None and kept[0] is catalog:
            return kept[1]
        found = [catalog.position_of_id(o) for o in self.owner_names_]
        rows = np.asarray([-1 if p is None else p for p in found], dtype=np.int64)
        self._positions = (catalog, rows)
        return rows


class OfferedLines(Mapping[str, tuple[float, str]]):
    """Owner id -> (score, its closest clause) over one request's arrays: only the owners a
    card explains are looked up."""

    def __init__(self, offerings: Offerings, best: np.ndarray, which: np.ndarray) -> None:
        self.offerings, self.best, self.which = offerings, best, which
        self._read = int(np.count_nonzero(which >= 0))  # asked at every card (`if offered`)

    def __getitem__(self, owner: str) -> tuple[float, str]:
        i = self.offerings.owner_row(owner)
        if self.which[i] < 0:  # not read for this request
            raise KeyError(owner)
        return float(self.best[i]), self.offerings.phrases_[int(self.which[i])]

    def __iter__(self) -> Iterator[str]:
        names = self.offerings.owner_names_
        return (names[i] for i in np.flatnonzero(self.which >= 0).tolist())

    def __len__(self) -> int:
        return self._read
