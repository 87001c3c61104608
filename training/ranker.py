"""A learned ranker over the engine's score components, and the data it is fitted on.

- `LinearRanker` (scikit-learn style) fits a logistic regression over the five components
  (fit, coverage, reciprocity, proximity, freshness) and turns its coefficients into
  non-negative weights the engine can use (`Engine.use_weights`). Given `groups` (one query per
  group), it learns from pairs within each group, positive minus negative (a RankSVM-style
  pairwise logistic regression): that optimises the order the engine shows. Without groups it
  is a plain pointwise classifier. With fewer than `min_pairs` labelled pairs, one class only,
  or no positive coefficient, it keeps the default weights and says why (`fallback_`).
- `build_queries` turns labelled pairs (`training.history.labelled_pairs`) into queries: all
  pairs of one source on one text form a query; the need is the pair's text (the need the
  partnership met, or the feedback's need) placed where the source is, asked by the source;
  a feedback label's query is the need as the person asked it (place, radius, sectors,
  capabilities, filters: `asked_of`), so it ranks and filters as their page did.
- `candidate_features` runs each query through the engine once and returns the components of
  every candidate it scored, labelled (1 for the source's partners in that query, 0 for the
  others). Positives the engine did not retrieve are not learnable by a re-ranker and are left
  out of training (they count as misses in evaluation).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from matcher.domain import Filters, Need
from matcher.errors import MatcherError, NotFoundError
from matcher.score import COMPONENTS
from training.history import ASKED_COLUMNS

logger = logging.getLogger(__name__)

FEATURES: tuple[str, ...] = COMPONENTS


def default_weights() -> dict[str, float]:
    from matcher.settings import ScoreWeights

    return ScoreWeights().as_dict()


def normalise(weights: Mapping[str, float]) -> dict[str, float]:
    """Non-negative weights summing to 1 (rounded to 4 places), in component order."""
    clipped = {c: max(0.0, float(weights.get(c, 0.0))) for c in FEATURES}
    total = sum(clipped.values())
    if total <= 0:
        raise ValueError("weights must have at least one positive component")
    return {c: round(v / total, 4) for c, v in clipped.items()}


def score_frame(X: pd.DataFrame, weights: Mapping[str, float]) -> np.ndarray:
    """The engine's score for rows of components: sum(w * c) / sum(w)."""
    w = np.asarray([float(weights.get(c, 0.0)) for c in FEATURES])
    total = w.sum() or 1.0
    return np.asarray(X[list(FEATURES)].to_numpy(dtype=float) @ w / total)


class LinearRanker:
    """Logistic regression over the score components with non-negative weights.

    Parameters follow scikit-learn: `__init__` only stores them; learned attributes end in `_`
    (`weights_`, `coef_`, `n_pairs_`, `n_positive_`, `n_train_pairs_`, `fallback_`).
    """

    def __init__(
        self,
        *,
        C: float = 1.0,
        min_pairs: int = 50,
        max_pairs: int = 200_000,
        class_weight: str | None = "balanced",
        random_state: int = 0,
        fallback_weights: Mapping[str, float] | None = None,
    ) -> None:
        self.C = C
        self.min_pairs = min_pairs
        self.max_pairs = max_pairs
        self.class_weight = class_weight
        self.random_state = random_state
        self.fallback_weights = fallback_weights

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {
            "C": self.C,
            "min_pairs": self.min_pairs,
            "max_pairs": self.max_pairs,
            "class_weight": self.class_weight,
            "random_state": self.random_state,
            "fallback_weights": self.fallback_weights,
        }

    def set_params(self, **params: Any) -> LinearRanker:
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"unknown parameter {k!r}")
            setattr(self, k, v)
        return self

    # ----------------------------------------------------------------------------------
    def fit(
        self,
        X: pd.DataFrame,
        y: Sequence[int] | np.ndarray | pd.Series,
        sample_weight: Sequence[float] | np.ndarray | pd.Series | None = None,
        groups: Sequence[Any] | np.ndarray | pd.Series | None = None,
    ) -> LinearRanker:
        missing = [c for c in FEATURES if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks component column(s) {', '.join(missing)}")
        feats = X[list(FEATURES)].to_numpy(dtype=float)
        labels = np.asarray(y, dtype=int)
        if len(labels) != len(feats):
            raise ValueError(f"X has {len(feats)} rows but y has {len(labels)}")
        weights = (
            np.ones(len(labels)) if sample_weight is None else np.asarray(sample_weight, float)
        )
        self.n_pairs_ = int(len(labels))
        self.n_positive_ = int((labels == 1).sum())
        self.n_train_pairs_ = 0
        self.coef_ = np.zeros(len(FEATURES))
        self.fallback_ = ""
        base = normalise(self.fallback_weights or default_weights())

        if self.n_pairs_ < self.min_pairs:
            return self._fall_back(base, f"{self.n_pairs_} labelled pairs < min_pairs")
        if self.n_positive_ == 0 or self.n_positive_ == self.n_pairs_:
            return self._fall_back(base, "labelled pairs of one class only")

        if groups is not None:
            A, t, sw = _pairwise(
                feats, labels, weights, np.asarray(groups), self.max_pairs, self.random_state
            )
            fit_intercept = False
            if len(t) == 0:
                return self._fall_back(base, "no query has both a positive and a negative")
        else:
            A, t, sw = feats, labels, weights
            fit_intercept = True
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(
            C=self.C,
            class_weight=self.class_weight,
            fit_intercept=fit_intercept,
            max_iter=1000,
            random_state=self.random_state,
        )
        model.fit(A, t, sample_weight=sw)
        self.n_train_pairs_ = int(len(t))
        self.coef_ = model.coef_.ravel().copy()
        if not (self.coef_ > 0).any():
            return self._fall_back(base, "no component has a positive coefficient")
        self.weights_ = normalise(dict(zip(FEATURES, self.coef_, strict=True)))
        return self

    def _fall_back(self, base: dict[str, float], reason: str) -> LinearRanker:
        logger.warning("ranker keeps the default weights: %s", reason)
        self.weights_ = dict(base)
        self.fallback_ = reason
        return self

    @property
    def is_fallback(self) -> bool:
        return bool(getattr(self, "fallback_", ""))

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        return score_frame(X, self._fitted())

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The engine's score for each row (ranking is what matters, not the scale)."""
        return self.decision_function(X)

    def _fitted(self) -> dict[str, float]:
        if not hasattr(self, "weights_"):
            raise RuntimeError("LinearRanker is not fitted yet: call fit first")
        return self.weights_

    def summary(self) -> dict[str, Any]:
        return {
            "weights": self._fitted(),
            "coef": [round(float(c), 6) for c in self.coef_],
            "n_pairs": self.n_pairs_,
            "n_positive": self.n_positive_,
            "n_train_pairs": self.n_train_pairs_,
            "fallback": self.fallback_ or None,
            "params": {k: v for k, v in self.get_params().items() if k != "fallback_weights"},
        }


def _pairwise(
    feats: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    groups: np.ndarray,
    max_pairs: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Differences positive - negative within each group, both signs (labels 1 and 0)."""
    diffs: list[np.ndarray] = []
    sw: list[np.ndarray] = []
    codes, inverse = np.unique(groups, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(codes) + 1))
    for g in range(len(codes)):
        rows = order[bounds[g] : bounds[g + 1]]
        pos = rows[labels[rows] == 1]
        neg = rows[labels[rows] == 0]
        if not len(pos) or not len(neg):
            continue
        d = (feats[pos][:, None, :] - feats[neg][None, :, :]).reshape(-1, feats.shape[1])
        w = (weights[pos][:, None] * weights[neg][None, :]).reshape(-1)
        diffs.append(d)
        sw.append(w)
    if not diffs:
        return np.zeros((0, feats.shape[1])), np.zeros(0, int), np.zeros(0)
    D = np.vstack(diffs)
    W = np.concatenate(sw)
    if len(D) > max_pairs // 2:
        keep = np.random.default_rng(seed).choice(len(D), max_pairs // 2, replace=False)
        D, W = D[keep], W[keep]
    A = np.vstack([D, -D])
    t = np.concatenate([np.ones(len(D), int), np.zeros(len(D), int)])
    return A, t, np.concatenate([W, W])


# ------------------------------------------------------------------------------- queries


@dataclass
class Query:
    """One engine query built from labelled pairs of one source on one text."""

    id: str
    source_id: str
    need: Need
    gains: dict[str, float]  # partner id -> gain (label * weight) for positives
    negatives: set[str] = field(default_factory=set)  # explicit label-0 partners
    timestamp: pd.Timestamp | None = None
    filters: Filters | None = None  # the explicit filters the need was asked with, if any


def query_key(source_id: str, text: str, asked: str = "") -> str:
    """A query's id: its source and text, and (when given) the need as asked (`asked_key`);
    a query with nothing asked keeps the id it always had."""
    extra = f"\x1f{asked}" if asked else ""
    digest = hashlib.sha1(f"{source_id}\x1f{text}{extra}".encode()).hexdigest()[:12]
    return f"q-{digest}"


# pairs columns of the need as asked (training.history.ASKED_COLUMNS) -> Need fields
_ASKED_PLACE = {
    "need_place": "place",
    "need_city": "city",
    "need_region": "region",
    "need_country": "country",
    "need_lat": "lat",
    "need_lon": "lon",
}
_ASKED_LISTS = {"need_sectors": "wanted_sectors", "need_capabilities": "required_capabilities"}
_ASKED_COLUMNS = tuple(ASKED_COLUMNS)  # what history writes; read by `asked_of`


def asked_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """The need as asked, from one pairs row: Need fields (place, city, region, country, lat,
    lon, radius_km, wanted_sectors, required_capabilities) and "filters" (a dict), only those
    set. A row without the columns (history, introductions, an older pairs frame) gives {}."""
    out: dict[str, Any] = {}
    for col, name in [*_ASKED_PLACE.items(), ("need_radius_km", "radius_km")]:
        v = _present(row.get(col))
        if v is not None:
            out[name] = float(v) if name in ("lat", "lon", "radius_km") else str(v)
    for col, name in _ASKED_LISTS.items():
        v = _present(row.get(col))
        if v is not None:
            items = [i.strip() for i in str(v).split("|") if i.strip()]
            if items:
                out[name] = items
    v = _present(row.get("need_filters"))
    if v is not None:
        try:
            doc = json.loads(str(v))
        except ValueError:
            doc = None
        if isinstance(doc, dict) and doc:
            out["filters"] = doc
    return out


def asked_key(asked: Mapping[str, Any]) -> str:
    return json.dumps(dict(asked), sort_keys=True, default=str) if asked else ""


def _present(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, str) and not v.strip():
        return None
    return v


def build_queries(
    pairs: pd.DataFrame,
    engine: Any,
    *,
    max_text: int = 4_000,
    skipped: Counter[str] | None = None,
) -> list[Query]:
    """Group pairs by (source, text, need as asked) into queries. Pairs with no text use the
    source's own profile; when neither exists (an unknown source with no text), the pairs are
    skipped and counted in `skipped`. A source that is not an organisation (`need:<id>`, a
    deleted organisation) is never an error: its text is the query.

    Place: a feedback label carries the need as the person asked it (`asked_of`): its place
    (with its hard region/country filter), radius, wanted sectors, capabilities and filters
    are the query's, so training and evaluation rank and filter as the person's page did,
    also for an organisation's need that named its own place. Otherwise (history,
    introductions, a need asked without a place) the need takes the source organisation's
    place so that proximity means something. It is asked by the source when the source is a
    known organisation."""
    out: list[Query] = []
    if pairs.empty:
        return out
    orgs = _organisations(engine, set(pairs["source_id"].astype(str)))
    frame = pairs.copy()
    frame["text"] = frame["text"].fillna("").astype(str).str.strip()
    cols = [c for c in _ASKED_COLUMNS if c in frame]
    frame["_asked"] = ""
    if cols:  # only the rows that say something (feedback), not the whole history
        said = frame[cols].notna().any(axis=1)
        frame.loc[said, "_asked"] = [
            asked_key(asked_of({str(k): v for k, v in r.items()}))
            for r in frame.loc[said, cols].to_dict("records")
        ]
    for key, rows in frame.groupby(["source_id", "text", "_asked"], sort=False):
        source, text, asked_id = str(key[0]), str(key[1]), str(key[2])  # type: ignore[index]
        org = orgs.get(source)
        query_text = text or (org.profile_text() if org is not None else "")
        query_text = query_text[:max_text].strip()
        if len(query_text) < 3:
            if skipped is not None:
                skipped["unknown source without text"] += len(rows)
            continue
        asked = dict(json.loads(asked_id)) if asked_id else {}
        need, filters = _need_of(query_key(source, text, asked_id), query_text, org, asked)
        gains: dict[str, float] = {}
        negatives: set[str] = set()
        for label, weight, partner in zip(
            rows["label"], rows["weight"], rows["partner_id"].astype(str), strict=True
        ):
            if int(label) == 1:
                gains[partner] = max(gains.get(partner, 0.0), float(weight))
            else:
                negatives.add(partner)
        negatives -= set(gains)
        ts = rows["timestamp"].dropna()
        out.append(
            Query(
                id=need.id,
                source_id=source,
                need=need,
                gains=gains,
                negatives=negatives,
                timestamp=ts.max() if len(ts) else None,
                filters=filters,
            )
        )
    return out


def _need_of(qid: str, text: str, org: Any, asked: dict[str, Any]) -> tuple[Need, Filters | None]:
    """The query's need and filters: the place as asked when the need named one, else the
    source organisation's; the rest of what was asked as it was."""
    filters_doc = asked.pop("filters", None)
    fields = dict(asked)
    if not any(k in fields for k in _ASKED_PLACE.values()) and org is not None:
        fields.update(city=org.city, region=org.region, country=org.country, lat=org.lat)
        fields.update(lon=org.lon)
        fields.pop("radius_km", None)  # a radius without the asked point means nothing
    if org is not None:
        fields["requester_id"] = org.id
    filters: Filters | None = None
    if filters_doc:
        try:
            filters = Filters.model_validate(filters_doc)
        except ValueError as exc:
            logger.warning("query %s: stored filters no longer valid (%s); left out", qid, exc)
    # the stored need was valid when asked; a place name that no longer resolves (gazetteer
    # changed) keeps the fields it resolved to, and anything else invalid falls back to the
    # text alone rather than losing the label
    unplaced = {k: v for k, v in fields.items() if k != "place"}
    for attempt in (fields, unplaced):
        try:
            return Need(id=qid, text=text, **attempt), filters
        except (ValueError, MatcherError) as exc:
            logger.warning("query %s: asked need not usable as stored (%s)", qid, exc)
    return Need(id=qid, text=text, requester_id=fields.get("requester_id")), filters


def _organisations(engine: Any, ids: set[str]) -> dict[str, Any]:
    """The organisations among `ids`; the others (needs, deleted organisations) are absent."""
    out = {}
    for i in ids:
        if i.startswith("need:"):
            continue
        try:
            out[i] = engine.store.get_organisation(i).record
        except NotFoundError:
            continue
    return out


def split_queries(
    queries: Sequence[Query], *, by: str = "time", test_share: float = 0.2, seed: int = 0
) -> tuple[list[Query], list[Query]]:
    """Held-out split. by="time": the newest `test_share` of dated queries are held out
    (undated ones fall back to the id hash); by="id": a stable hash of the query id decides."""
    if by not in ("time", "id"):
        raise ValueError(f"unknown split {by!r} (expected time or id)")
    if not 0 < test_share < 1:
        raise ValueError("test_share must be between 0 and 1")

    def hashed(q: Query) -> bool:
        h = int(hashlib.sha1(f"{seed}:{q.id}".encode()).hexdigest()[:8], 16)
        return (h % 10_000) < test_share * 10_000

    if by == "id":
        test_ids = {q.id for q in queries if hashed(q)}
    else:
        dated = sorted(
            (q for q in queries if q.timestamp is not None), key=lambda q: (q.timestamp, q.id)
        )
        cut = int(round(len(dated) * (1 - test_share)))
        test_ids = {q.id for q in dated[cut:]}
        test_ids |= {q.id for q in queries if q.timestamp is None and hashed(q)}
    train = [q for q in queries if q.id not in test_ids]
    test = [q for q in queries if q.id in test_ids]
    return train, test


def candidate_features(
    engine: Any,
    queries: Sequence[Query],
    *,
    negatives_per_query: int = 20,
    seed: int = 0,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Components of the engine's candidates for each query, labelled.

    Columns: query_id, partner_id, label, weight, rank, and the five components. Every
    positive the engine returned is kept, every explicit negative, and up to
    `negatives_per_query` other candidates sampled at random (seeded) from those it returned.
    Components do not depend on the weights, so one engine call per query suffices. `now`: the
    clock freshness is measured against (the current time when not given)."""
    rng = np.random.default_rng(seed)
    limit = limit or engine.settings.max_limit
    rows: list[dict[str, Any]] = []
    for i, q in enumerate(queries):
        rec = engine.recommend(q.need, filters=q.filters or Filters(), limit=limit, now=now)
        others: list[tuple[int, Any]] = []
        for rank, m in enumerate(rec.results, start=1):
            if m.id in q.gains:
                rows.append(_row(q, m, rank, 1, q.gains[m.id]))
            elif m.id in q.negatives:
                rows.append(_row(q, m, rank, 0, 1.0))
            else:
                others.append((rank, m))
        if others and negatives_per_query > 0:
            take = min(negatives_per_query, len(others))
            for j in sorted(rng.choice(len(others), take, replace=False).tolist()):
                rank, m = others[j]
                rows.append(_row(q, m, rank, 0, 1.0))
        if progress is not None:
            progress(i + 1, len(queries))
    cols = ["query_id", "partner_id", "label", "weight", "rank", *FEATURES]
    return pd.DataFrame.from_records(rows, columns=cols)


def _row(q: Query, m: Any, rank: int, label: int, weight: float) -> dict[str, Any]:
    return {
        "query_id": q.id,
        "partner_id": m.id,
        "label": label,
        "weight": weight,
        "rank": rank,
        **{c: float(m.components.get(c, 0.0)) for c in FEATURES},
    }


def fit_ranker(
    features: pd.DataFrame, ranker: LinearRanker | None = None, *, pairwise: bool = True
) -> LinearRanker:
    """Fit on `candidate_features` output (pairwise within queries by default)."""
    ranker = ranker or LinearRanker()
    X = features[list(FEATURES)]
    return ranker.fit(
        X,
        features["label"],
        sample_weight=features["weight"],
        groups=features["query_id"] if pairwise else None,
    )


def data_hash(pairs: pd.DataFrame) -> str:
    """sha256 of the labelled pairs in a canonical form (column order and row order fixed)."""
    wanted = ("source_id", "partner_id", "label", "weight", "timestamp", "text")
    cols = [c for c in wanted if c in pairs]
    # the need as asked counts once any row has it (a frame without it hashes as it always did)
    cols += [c for c in _ASKED_COLUMNS if c in pairs and pairs[c].notna().any()]
    canon = pairs[cols].copy()
    if "timestamp" in canon:
        canon["timestamp"] = canon["timestamp"].astype(str)
    canon = canon.astype(str).sort_values(cols, kind="stable")
    return "sha256:" + hashlib.sha256(canon.to_csv(index=False).encode()).hexdigest()
