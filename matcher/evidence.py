"""Evidence beyond the profile text: an organisation's line of work and its own programmes.

Two signals, each a score per catalog row (NaN where the organisation gives no such evidence),
fused into retrieval next to dense, lexical and cause-space relevance:

- **focus**: how close the need's asks come to what the organisation says it does in a few words
  (its focus areas: a company's industry, a nonprofit's cause). A need is split into clauses
  ("donations of groceries and protein", "volunteers for Saturday distributions"); the score of a
  focus phrase is the mean of its best clause match and its match with the whole need. Short
  labels are matched to short asks: a grocery chain to "groceries", not to a long mission.
- **programmes**: how close the need comes to the programmes and open opportunities an
  organisation runs (needs stored with it as requester, e.g. a federal agency's assistance
  programmes). The best one is kept, so the reason can name it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from matcher.benefits import LISTED, named_in, share_named
from matcher.capabilities import capabilities_in, surely_asked
from matcher.places.words import HELD_COMMA, hold_place_commas, states_named
from matcher.telling import asker_words

# "or" in capitals is Oregon ("Portland, OR needs employers"), not a list's last item
_CLAUSE_SPLIT = re.compile(
    r"(?<=[.!?;:])\s+|,\s+|\s+(?:and|plus|(?-i:or|Or)|but|while|so that|because)\s+",
    re.IGNORECASE,
)
_LEADING = re.compile(r"^(?:and|plus|or|but|also|then)\s+", re.IGNORECASE)
MIN_CLAUSE_CHARS = 8
# held inside a list of benefits, or a place and its state, while splitting
_SPACE, _COMMA = "\ue000", HELD_COMMA
MAX_CLAUSES = 16

Encode = Callable[[Sequence[str]], np.ndarray]  # texts -> centred, unit vectors


def clauses(
    text: str,
    *,
    keep_named: bool = True,
    drop: Callable[[str], bool] | None = None,
    places: bool = True,
) -> list[str]:
    """The short parts of a need that each ask for something (at most MAX_CLAUSES): the parts
    of MIN_CLAUSE_CHARS or more, and (with `keep_named`) the shorter ones that name a capability,
    a list's items ("funding", "a van", "mentors" in "we need funding, volunteers and a van";
    "fans" in "we need water and fans", named by a word sure in asks). The length alone dropped
    those, so the asks never read them. `drop`: parts left out before the first MAX_CLAUSES
    are taken. `places` (a need's text; descriptions are cut as before): a place and its
    state stay in one part (`_without_placed_asker`)."""
    return [
        p
        for p in split_parts(text, places=places)
        if (
            len(p) >= MIN_CLAUSE_CHARS
            or (keep_named and len(p) >= 3 and (capabilities_in(p) or surely_asked(p)))
        )
        and not (drop is not None and drop(p))
    ][:MAX_CLAUSES]


def split_parts(text: str, *, places: bool = True) -> list[str]:
    """`text` cut at sentence ends, commas and joining words, each part stripped of
    punctuation and a leading "and" (`clauses` before its filters; empty parts kept)."""
    # a list of benefits is one ask: "help signing up for SNAP and WIC" gave a part "WIC",
    # for which a food charity "joined" (real data walk)
    text = LISTED.sub(lambda m: m.group(0).replace(" ", _SPACE).replace(",", _COMMA), text)
    if places:  # "Portland, Oregon" is one place, not two clauses
        text = hold_place_commas(text)
    parts = [
        _LEADING.sub("", p.strip(" .;:!?\"'()")).replace(_SPACE, " ").replace(_COMMA, ",")
        for p in _CLAUSE_SPLIT.split(text)
    ]
    return [_without_placed_asker(p) for p in parts] if places else parts


def _without_placed_asker(part: str) -> str:
    """`part` from its verb when it opens with the group asking and its place and state ("The
    Eastside food pantry in Albuquerque, NM needs volunteers": "needs volunteers"). Cut at
    the place's comma, as before places were held, the ask stood alone; held, the clause read
    as the pantry's name and lost volunteers (real data walk). Other groups naming themselves
    ("Our peer-run recovery group wants to open two recovery homes") stay in their clause."""
    asker, rest = asker_words(part)
    return rest if rest and "," in asker else part


def as_written(parts: Sequence[str], written: Sequence[str]) -> list[str]:
    """Each part (a clause read without place words) as the group wrote it: the written clause
    sharing the most words with it (the part itself when none shares any)."""
    out = []
    for part in parts:
        words = set(part.lower().split())
        best = max(written, key=lambda w: len(words & set(w.lower().split())), default=part)
        out.append(best if words & set(best.lower().split()) else part)
    return out


class FocusVectors:
    """Vectors of the distinct focus phrases of the catalog, indexed by the catalog's focus
    codes (code 0 is "none"); grows as new phrases arrive."""

    def __init__(self, dimension: int) -> None:
        self.vectors_ = np.zeros((1, dimension), dtype=np.float32)

    def update(self, phrases: Sequence[str], encode: Encode) -> None:
        """Embed the phrases (by code: phrases[code]) that have no vector yet."""
        have = self.vectors_.shape[0]
        if len(phrases) <= have:
            return
        new = np.asarray(encode(list(phrases[have:])), dtype=np.float32)
        self.vectors_ = np.concatenate([self.vectors_, new])

    def scores(
        self, focus_codes: np.ndarray, query: np.ndarray, clause_vectors: np.ndarray
    ) -> np.ndarray:
        """Per row: the best of its focus phrases' scores; NaN for rows without focus."""
        f = self.vectors_
        whole = f @ query
        if clause_vectors.size:
            per_phrase = 0.5 * (clause_vectors @ f.T).max(axis=0) + 0.5 * whole
        else:
            per_phrase = whole
        per_phrase = per_phrase.astype(np.float32)
        per_phrase[0] = np.nan  # code 0: no phrase
        if focus_codes.size == 0:
            return np.zeros(0, np.float32)
        # slot by slot: fmax skips a NaN (no phrase) unless both are; a max over the short
        # axis of the gathered rows x slots cost 2.7 ms a request at 55k rows, this 0.5 ms
        out = per_phrase[focus_codes[:, 0]]
        for slot in range(1, focus_codes.shape[1]):
            out = np.fmax(out, per_phrase[focus_codes[:, slot]])
        return out


@dataclass
class ProgrammeHit:
    need_id: str
    title: str
    similarity: float


class Programmes:
    """The stored needs that belong to an organisation (requester), as evidence of its work."""

    def __init__(
        self,
        owners: Sequence[str],
        need_ids: Sequence[str],
        titles: Sequence[str],
        vectors: np.ndarray,
    ) -> None:
        self.owners_ = list(owners)
        self.need_ids_ = list(need_ids)
        self.titles_ = list(titles)
        self.vectors_ = np.asarray(vectors, dtype=np.float32)
        if not self.owners_:
            self.vectors_ = self.vectors_.reshape(0, max(self.vectors_.shape[-1], 1))
        self.owner_names_ = sorted(set(self.owners_))
        index = {o: i for i, o in enumerate(self.owner_names_)}
        self.owner_index_ = np.asarray([index[o] for o in self.owners_], dtype=np.int64)
        # the programmes whose title names the states they are for ("Nutrition Assistance For
        # Puerto Rico"), and those states
        self.placed_ = {i: named for i, t in enumerate(self.titles_) if (named := states_named(t))}
        # the programmes whose title names public benefits (matcher.benefits): index -> bits
        self.naming_benefits_ = {
            i: bits for i, t in enumerate(self.titles_) if (bits := named_in(t))
        }

    def __len__(self) -> int:
        return len(self.owners_)

    def naming(self, bits: int, query: np.ndarray | None) -> dict[str, str]:
        """Owner -> the title of its programme that is most nearly one of the benefits `bits`
        (`benefits.share_named`; then the closest to `query`): the Food and Nutrition Service
        has fourteen naming SNAP, the first "SNAP-Ed Toolkit", the one closest to a pantry's
        need "Team Nutrition Grants"; its "Supplemental Nutrition Assistance Program" is
        named."""
        found = [i for i, named in self.naming_benefits_.items() if named & bits]
        if not found:
            return {}
        sims = (
            self.vectors_[found] @ np.asarray(query, dtype=np.float32)
            if query is not None
            else np.zeros(len(found))
        )
        out: dict[str, tuple[float, float, str]] = {}
        for i, sim in zip(found, sims.tolist(), strict=True):
            owner, title = self.owners_[i], self.titles_[i]
            rank = (share_named(title, bits), sim, title)
            if owner not in out or rank[:2] > out[owner][:2]:
                out[owner] = rank
        return {owner: title for owner, (_, _, title) in out.items()}

    def best(self, query: np.ndarray, region: str | None = None) -> dict[str, ProgrammeHit]:
        """Per owner, its programme closest to the query; with the need's `region` (a state
        code), never one whose title names only other states: the Food and Nutrition Service
        "runs a related programme: 'Nutrition Assistance For Puerto Rico'" for a need in
        Albuquerque (real data walk). An owner with no other programme has none."""
        if not self.owners_:
            return {}
        sims = (self.vectors_ @ query).astype(np.float64)
        if region:
            for i, named in self.placed_.items():
                if region not in named:
                    sims[i] = -np.inf
        best = np.full(len(self.owner_names_), -np.inf)
        np.maximum.at(best, self.owner_index_, sims)
        which = np.full(len(self.owner_names_), -1, dtype=np.int64)
        hit = (sims >= best[self.owner_index_]) & np.isfinite(sims)
        which[self.owner_index_[hit]] = np.flatnonzero(hit)
        return {
            owner: ProgrammeHit(self.need_ids_[j], self.titles_[j], float(sims[j]))
            for owner, j in zip(self.owner_names_, which.tolist(), strict=True)
            if j >= 0
        }
