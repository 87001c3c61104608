"""The score components of every candidate at once, over column arrays (matcher.score says what
each component means; `score_candidate` is the one-candidate reference these equal).

`score_all` computes the components and scores of all candidates with numpy over the columns of
`matcher.score_columns.ScoreColumns` (what scoring reads of each profile); `Ranked` holds them
best first and builds a `Scored` (with what it covers and gains, for the reasons) only for the
entries that are shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from matcher import benefits, funding_kinds, populations
from matcher.catalog import Profile
from matcher.domain import Need
from matcher.evidence import ProgrammeHit
from matcher.score import (
    COMPONENTS,
    IMPLIED_REQUESTER_OFFERS,
    NEUTRAL,
    Scored,
    _component_weights,
    freshness_clock,
)
from matcher.score_columns import ScoreColumns, micros


def _exp(x: np.ndarray) -> np.ndarray:
    """math.exp of each value: numpy's exp differs from it in the last bit for some inputs,
    and the scores must equal `score_candidate`'s exactly (same order on near ties)."""
    return np.fromiter(map(math.exp, x.tolist()), np.float64, x.size)


# P(org | need) from the partnership-history model from which an organisation's own outcomes
# vouch for it, relevance floor or not: one chance in ten that it takes the need up, and more
# than an even share of the organisations the model knows (with 2 of them, above 0.5).
HISTORY_EVIDENCE = 0.1


def history_evidence(known: int) -> float:
    """The history probability above which an organisation among `known` ones is vouched for
    (one organisation alone: never, its probability is 1 whatever the need)."""
    return max(HISTORY_EVIDENCE, 1.0 / known) if known > 0 else float("inf")


@dataclass
class Ranked:
    """Scored candidates, best first, as arrays; `scored(i)` explains entry i (on demand)."""

    positions: np.ndarray
    score: np.ndarray
    components: np.ndarray  # (n, len(COMPONENTS))
    history: np.ndarray  # the history component, NaN where the model does not know the row
    distance: np.ndarray  # km, NaN where unknown
    relevance: np.ndarray
    context: _Explain
    vouched: float = float("inf")  # history probability that passes the floor (history_evidence)
    _made: dict[int, Scored] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.positions.size)

    def take(self, rows: np.ndarray) -> Ranked:
        return Ranked(
            self.positions[rows],
            self.score[rows],
            self.components[rows],
            self.history[rows],
            self.distance[rows],
            self.relevance[rows],
            self.context,
            self.vouched,
        )

    def above(self, floor: float) -> Ranked:
        """The entries whose relevance reaches the floor, and those the partnership-history
        model finds likely to take this need up (`vouched`, history_evidence), in order: a
        partner chosen by its own past outcomes is not an absurd match, however little its
        profile's words share with the need (a funder known by its name only)."""
        keep = (self.relevance >= floor) | (self.history > self.vouched)  # NaN: not known
        return self.take(np.flatnonzero(keep))

    def without(self, rows: np.ndarray | None) -> Ranked:
        """The entries whose catalog row is not set in `rows` (a mask over the catalog), in
        order; all of them when `rows` is None."""
        if rows is None:
            return self
        return self.take(np.flatnonzero(~rows[self.positions]))

    def head(self, k: int) -> list[Scored]:
        return self.explain(list(range(min(k, len(self)))))

    def explain(self, rows: list[int]) -> list[Scored]:
        """`scored(i)` of these entries, their profiles read from the database at once."""
        self.context.columns.catalog.prefetch(self.positions[rows])
        return [self.scored(i) for i in rows]

    def scored(self, i: int) -> Scored:
        made = self._made.get(i)
        if made is None:
            made = self._made[i] = self.context.scored(self, i)
        return made


@dataclass
class _Explain:
    """What explaining one entry reads besides its arrays."""

    columns: ScoreColumns
    required: Mapping[str, str]
    requester: Profile | None
    hits: Mapping[str, ProgrammeHit] | None
    offered: Mapping[str, tuple[float, str]] | None = None  # a company's closest clause
    asked_benefits: benefits.AskedBenefits | None = None  # the benefits the ask names
    text: str = ""  # the need's (matcher.funding_kinds: money given or lent)

    def scored(self, r: Ranked, i: int) -> Scored:
        pos = int(r.positions[i])
        prof = self.columns.catalog.profile(pos)
        offers: Mapping[str, str] = self.columns.offers_at(pos)
        if self.asked_benefits is not None:
            bits = int(self.columns.benefits_[pos])
            offers = self.asked_benefits.offers(offers, bits, pos)
        offers = funding_kinds.answering(offers, self.required, self.text)  # lenders: no stipends
        covers = {c: offers[c] for c in self.required if c in offers}
        giver = self.requester.offers if self.requester is not None else IMPLIED_REQUESTER_OFFERS
        needs = prof.needs
        gains = {c: needs[c] for c in needs if c in giver}
        shared: list[str] = []
        if self.requester is not None:
            shared = sorted(set(self.requester.org.focus_areas) & set(prof.org.focus_areas))
        comps = dict(zip(COMPONENTS, r.components[i].tolist(), strict=True))
        if not math.isnan(r.history[i]):
            comps["history"] = float(r.history[i])
        d = float(r.distance[i])
        s = Scored(
            pos,
            float(r.score[i]),
            comps,
            None if math.isnan(d) else d,
            covers,
            gains,
            shared,
            offers=dict(offers),
        )
        s.relevance = float(r.relevance[i])
        if self.hits:
            s.programme = self.hits.get(prof.org.id)
        if self.offered:
            s.offering = self.offered.get(prof.org.id)
        return s


@dataclass
class Inputs:
    """The per-request inputs of `score_all` besides the candidates' columns."""

    need: Need
    required: Mapping[str, str]
    requester: Profile | None
    weights: Mapping[str, float]
    scale_km: float
    now: datetime
    history_weight: float = 0.0
    history_proba: np.ndarray | None = None  # P(org | need) by model column
    hits: Mapping[str, ProgrammeHit] | None = None
    offered: Mapping[str, tuple[float, str]] | None = None  # org id -> (score, clause)
    asked_benefits: benefits.AskedBenefits | None = None  # the benefits the ask names


def score_all(
    cols: ScoreColumns,
    positions: np.ndarray,
    fused: np.ndarray,
    relevance: np.ndarray,
    distance: np.ndarray | None,
    x: Inputs,
) -> Ranked:
    """Score every candidate (as `score_candidate` with fit from the fused relevance) and rank
    them best first (ties keep the candidates' order)."""
    cols.fill(positions)
    need, n = x.need, positions.size
    fit = 1.0 - _exp(-np.maximum(fused.astype(np.float64), 0.0) / 2.5)
    req_keys = [k for k in x.required if k in cols.caps]
    unnamed = _unnamed(cols, positions, x)
    if x.required:
        offered = cols.offers_[positions][:, cols.cap_columns(req_keys)]
        if unnamed.any():
            offered[unnamed, req_keys.index(benefits.CAPABILITY)] = False
        lends = _lending_only(cols, positions, x)
        if lends.any():
            offered[lends, req_keys.index(funding_kinds.FUNDING)] = False
        coverage = offered.sum(axis=1) / len(x.required)
    else:
        coverage = np.full(n, NEUTRAL)
    giver = x.requester.offers if x.requester is not None else IMPLIED_REQUESTER_OFFERS
    n_needs = cols.n_needs_[positions]
    gained = cols.needs_[positions][:, cols.cap_columns(list(giver))].sum(axis=1)
    gain = gained / np.maximum(n_needs, 1)
    if x.requester is not None:
        theirs = [cols.focus.of[f] for f in set(x.requester.org.focus_areas) if f in cols.focus.of]
        shared = np.isin(cols.focus_[positions], theirs).sum(axis=1)
        reciprocity = 0.75 * gain + 0.25 * np.minimum(1.0, shared / 2)
    else:
        reciprocity = gain
    reciprocity = np.where(n_needs > 0, reciprocity, NEUTRAL)
    d = distance if distance is not None else np.full(n, np.nan)
    proximity = _proximity(cols, positions, need, d, x.scale_km)
    clock = micros(freshness_clock(x.now))
    age_days = np.maximum(0.0, (clock - cols.updated_us_[positions]) / 1e6 / 86400)
    freshness = _exp(-age_days / 730)
    w_fit, w_cov, w_rec, w_prox, w_fresh = _component_weights(x.weights)
    conf = (1.0 if need.required_capabilities else 0.5) * np.where(
        cols.inferred_[positions], 0.25, 1.0
    )
    w_cov_each = w_cov * conf
    total_w = w_fit + w_cov_each + w_rec + w_prox + w_fresh
    total_w = np.where(total_w == 0, 1.0, total_w)
    score = (
        w_fit * fit + w_cov_each * coverage + w_rec * reciprocity + w_prox * proximity
    ) + w_fresh * freshness
    score = score / total_w
    serves = cols.populations_[positions].astype(np.int64)
    others = (serves != 0) & ((serves & populations.of_need(need.text)) == 0)
    score = np.where(others, score - populations.POPULATION_PENALTY, score)
    history = np.full(n, np.nan)
    if x.history_proba is not None:
        col = cols.history_[positions]
        known = col >= 0
        history[known] = x.history_proba[col[known]].astype(np.float64)
        score = np.where(known, score + x.history_weight * np.nan_to_num(history), score)
    comps = np.stack([fit, coverage, reciprocity, proximity, freshness], axis=1)
    order = np.argsort(-score, kind="stable")
    return Ranked(
        positions[order],
        score[order],
        comps[order],
        history[order],
        d[order],
        relevance[order],
        _Explain(
            cols,
            x.required,
            x.requester,
            x.hits,
            x.offered,
            x.asked_benefits,
            x.need.text,
        ),
        history_evidence(x.history_proba.size) if x.history_proba is not None else float("inf"),
    )


def _lending_only(cols: ScoreColumns, positions: np.ndarray, x: Inputs) -> np.ndarray:
    """The candidates whose offer of funding does not cover this need's ask for it: the ask
    wants money given and their funding only lends or invests (matcher.funding_kinds)."""
    col = cols.caps.get(funding_kinds.LENDS_ONLY)
    asked = x.required.get(funding_kinds.FUNDING)
    if col is None or not funding_kinds.asks_gift(asked, x.need.text):
        return np.zeros(positions.size, dtype=bool)
    return np.asarray(cols.offers_[positions, col], dtype=bool)


def _unnamed(cols: ScoreColumns, positions: np.ndarray, x: Inputs) -> np.ndarray:
    """The candidates whose offer of public programmes does not cover this need's ask for
    them, since the ask names a benefit their profile and programmes do not name
    (matcher.benefits)."""
    col = cols.caps.get(benefits.CAPABILITY)
    if x.asked_benefits is None or col is None:
        return np.zeros(positions.size, dtype=bool)
    named = x.asked_benefits.named(cols.benefits_[positions], positions)
    return cols.offers_[positions, col] & ~named


def _proximity(
    cols: ScoreColumns, positions: np.ndarray, need: Need, d: np.ndarray, scale_km: float
) -> np.ndarray:
    """`proximity_component` of every candidate."""
    n = positions.size
    if need.lat is not None:
        out = np.full(n, 0.2)  # the need has a place; the partner gave no coordinates
    else:
        out = np.full(n, 0.1 if (need.city or need.region or need.country) else NEUTRAL)
        if need.country:
            out[cols.country_[positions] == cols.countries.get(need.country)] = 0.4
        if need.region:
            out[cols.region_[positions] == cols.regions.get(need.region.lower())] = 0.7
        if need.city:
            out[cols.city_[positions] == cols.cities.get(need.city.lower())] = 1.0
    placed = ~np.isnan(d)
    if placed.any():
        near = _exp(-d[placed] / scale_km)
        radius = cols.radius_[positions][placed]
        within = d[placed] <= radius  # False where no radius (NaN)
        out[placed] = np.where(within, np.maximum(0.8, near), near)
    return out
