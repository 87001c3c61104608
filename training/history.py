"""Partnership history and feedback as labelled pairs, and profiles enriched from that history.

- `load_partnership_file` reads past partnerships (CSV, JSON Lines, Parquet) with a row/column
  reason for every rejected row; `store_partnerships` upserts them by id in one transaction.
- `labelled_pairs` returns past partnerships, feedback from API keys and signed-in people
  (FeedbackRow joined to the RecommendationRow it answers) and answered introductions as one
  DataFrame: source_id, partner_id, label, weight, timestamp, text, origin, ref, outcome, and
  for feedback the need as it was asked (`ASKED_COLUMNS`: its place, sectors, capabilities,
  filters), so a training query ranks and filters as the person's recommendation did.
- `enrich_profiles` gives organisations with little description the text of their past
  partnerships: a funder is described by what it funded ("Funded: ...").
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from matcher.domain import Organisation
from matcher.errors import ValidationError
from matcher.feedback_standing import COUNTED, SKIP_REASONS, standing
from matcher.loaders import RowError
from matcher.store import Store
from matcher.store.db import aware as _aware
from matcher.store.models import (
    FeedbackRow,
    IntroductionRow,
    OrganisationRow,
    PartnershipRow,
    PersonRow,
    RecommendationRow,
)
from matcher.store.repository import UpsertReport
from training.importers.base import (
    ImportBatch,
    RowRejected,
    iter_rows,
    number,
    parse_date,
    safe_text,
    validated,
)
from training.partnership import Partnership, label_of

logger = logging.getLogger(__name__)

# The need as it was asked, for feedback rows (empty for history and introductions): what of
# the stored recommendation changes its ranking. Place fields as stored (the place name, and
# the city, region, country, lat and lon it resolved to or was given), the radius, the wanted
# sectors and required capabilities ("|"-joined), and the explicit filters (a JSON object of
# the ones set). Older pairs frames without these columns still build queries.
ASKED_COLUMNS = [
    "need_place",
    "need_city",
    "need_region",
    "need_country",
    "need_lat",
    "need_lon",
    "need_radius_km",
    "need_sectors",
    "need_capabilities",
    "need_filters",
]
PAIR_COLUMNS = [
    "source_id",
    "partner_id",
    "label",
    "weight",
    "timestamp",
    "text",
    "origin",
    "ref",
    "outcome",
    *ASKED_COLUMNS,
]
# Our field -> accepted column names (first present wins); `mapping` overrides.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "partnership_id", "grant_id"),
    "source_id": ("source_id", "source", "funder_id", "organisation_id", "org_id"),
    "partner_id": ("partner_id", "partner", "recipient_id"),
    "title": ("title", "project", "name"),
    "description": ("description", "summary", "details"),
    "started_at": ("started_at", "date", "start_date", "award_date", "when"),
    "outcome": ("outcome", "status", "result"),
    "amount": ("amount", "amount_awarded", "value"),
}
HISTORY_MARKER = "\n\nFrom partnership history: "
_CHUNK = 500


# ---------------------------------------------------------------------------------- files


@dataclass
class PartnershipLoad:
    accepted: list[Partnership] = field(default_factory=list)
    rejected: list[RowError] = field(default_factory=list)
    total_rows: int = 0
    source: str = ""
    rows: dict[str, int] = field(default_factory=dict)  # partnership id -> its row
    columns: dict[str, str] = field(default_factory=dict)  # field -> the file's column
    warnings: list[RowError] = field(default_factory=list)


def stored_ids(store: Store) -> set[str]:
    with store.db.session() as s:
        return set(s.scalars(select(OrganisationRow.id)))


def check_partnerships(load: PartnershipLoad, known: set[str], now: datetime) -> None:
    """Warn, on its row and column, of an accepted partnership that names no stored
    organisation (stored, it teaches nothing until the organisation is) or starts in the future
    (a typo of a year, most likely): both were stored without a word (real data walk)."""
    for p in load.accepted:
        row = load.rows.get(p.id, 0)
        for name in ("source_id", "partner_id"):
            org_id = getattr(p, name)
            if org_id not in known:
                col = load.columns.get(name, name)
                load.warnings.append(
                    RowError(row, col, f"no organisation '{org_id}' is stored here")
                )
        started = p.started_at
        if started is not None:
            when = started if started.tzinfo else started.replace(tzinfo=UTC)
            if when > now:
                col = load.columns.get("started_at", "started_at")
                load.warnings.append(
                    RowError(row, col, f"starts in the future ({when.date().isoformat()})")
                )
    load.warnings.sort(key=lambda e: e.row)


def load_partnership_file(
    path: str | Path, *, mapping: dict[str, str] | None = None, limit: int | None = None
) -> PartnershipLoad:
    """Read past partnerships. Columns: source_id, partner_id (required), id, title,
    description, started_at (ISO date), outcome (partnered, funded, declined, ...), amount.
    Rows without an id get a stable one from source, partner, title and date."""
    p = Path(path)
    mapping = {k.strip().lower(): v.strip().lower() for k, v in (mapping or {}).items()}
    unknown = sorted(set(mapping) - set(COLUMN_ALIASES))
    if unknown:
        raise ValidationError(
            f"mapping names unknown partnership field(s) {', '.join(unknown)} "
            f"(known: {', '.join(COLUMN_ALIASES)})"
        )
    batch = ImportBatch(source=p.name)
    out = PartnershipLoad(source=p.name)
    seen: dict[str, int] = {}
    columns: dict[str, str] | None = None
    for row, values in iter_rows(p, batch, required=(), limit=limit, desc="partnerships"):
        if columns is None:
            columns = _resolve_columns(values, mapping)
        try:
            item = _partnership(values, columns)
        except RowRejected as exc:
            out.rejected.append(RowError(row, exc.column, exc.reason))
            continue
        if item.id in seen:
            col = columns.get("id", "id")
            out.rejected.append(
                RowError(row, col, f"duplicate id '{item.id}' (first at row {seen[item.id]})")
            )
            continue
        seen[item.id] = row
        out.accepted.append(item)
    out.rejected[:0] = batch.rejected
    out.rejected.sort(key=lambda e: e.row)
    out.total_rows = batch.total_rows
    out.rows = seen
    out.columns = columns or {}
    return out


def _resolve_columns(values: dict[str, Any], mapping: dict[str, str]) -> dict[str, str]:
    present = set(values)
    columns: dict[str, str] = {}
    for name, aliases in COLUMN_ALIASES.items():
        if name in mapping:
            if mapping[name] not in present:
                raise ValidationError(f"mapped column '{mapping[name]}' for '{name}' is missing")
            columns[name] = mapping[name]
            continue
        for alias in aliases:
            if alias in present:
                columns[name] = alias
                break
    for name in ("source_id", "partner_id"):
        if name not in columns:
            raise ValidationError(
                f"missing required column '{name}' (or one of {', '.join(COLUMN_ALIASES[name])})"
            )
    return columns


def _partnership(values: dict[str, Any], columns: dict[str, str]) -> Partnership:
    data: dict[str, Any] = {}
    for name, col in columns.items():
        if name == "amount":
            data[name] = number(values, col)
        elif name == "started_at":
            data[name] = parse_date(safe_text(values, col), column=col)
        else:
            data[name] = safe_text(values, col) or None
    for name in ("source_id", "partner_id"):
        if not data.get(name):
            raise RowRejected(columns[name], "missing required value")
    where = {**columns, "__model__": columns["partner_id"]}
    return validated(Partnership, data, where)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------- storage


def _values(p: Partnership) -> dict[str, Any]:
    return p.model_dump(mode="python")


def store_partnerships(store: Store, items: Sequence[Partnership]) -> UpsertReport:
    """Upsert by id in one transaction: identical records are left alone; all or nothing."""
    report = UpsertReport()
    with store.db.session() as s:
        for start in range(0, len(items), _CHUNK):
            chunk = items[start : start + _CHUNK]
            rows = s.scalars(
                select(PartnershipRow).where(PartnershipRow.id.in_([p.id for p in chunk]))
            )
            existing = {r.id: r for r in rows}
            for item in chunk:
                values = _values(item)
                row = existing.get(item.id)
                if row is None:
                    row = PartnershipRow(**values)
                    s.add(row)
                    existing[item.id] = row
                    report.inserted.append(item.id)
                    continue
                current = {k: getattr(row, k) for k in values}
                current["started_at"] = _aware(current["started_at"])
                if current == values:
                    report.unchanged.append(item.id)
                    continue
                for k, v in values.items():
                    setattr(row, k, v)
                report.updated.append(item.id)
            s.flush()
    return report


def positive_partnerships(
    store: Store, *, exclude: Collection[str] = (), until: datetime | None = None
) -> list[Partnership]:
    """The partnerships history may learn from: label 1, with text, not in `exclude`
    (partnership ids), started before `until` (undated ones count) when given."""
    limit = _aware(until)
    return [
        p
        for p in list_partnerships(store)
        if p.label == 1
        and p.id not in exclude
        and (limit is None or p.started_at is None or p.started_at < limit)
        and p.text()
    ]


def list_partnerships(store: Store) -> list[Partnership]:
    with store.db.session() as s:
        rows = s.scalars(select(PartnershipRow).order_by(PartnershipRow.pk)).all()
        return [
            Partnership.model_validate(
                {
                    "id": r.id,
                    "source_id": r.source_id,
                    "partner_id": r.partner_id,
                    "title": r.title,
                    "description": r.description,
                    "started_at": _aware(r.started_at),
                    "outcome": r.outcome,
                    "amount": r.amount,
                }
            )
            for r in rows
        ]


# ---------------------------------------------------------------------------------- pairs


def labelled_pairs(
    store: Store,
    *,
    include_feedback: bool = True,
    skipped: Counter[str] | None = None,
    include_introductions: bool = True,
) -> pd.DataFrame:
    """Past partnerships and API feedback as labelled (source, partner) pairs.

    label 1: partnered, funded, accepted, contacted (weights 1.0, 1.0, 0.8, 0.5); label 0:
    declined, not_relevant (1.0). 'viewed' feedback carries no label and is left out. For
    feedback, the source is the need's requester (or `need:<need id>` when it has none), the
    text is the need's text, the `ASKED_COLUMNS` are the need as it was asked (its place,
    radius, sectors, capabilities and filters: training ranks as the person's page did), and
    only the latest outcome per (recommendation, organisation) counts. Feedback counts when
    someone is behind it: an API key, or a person signed in on the web page (`person_id`).
    The source stays the recommendation's subject either way (what was
    asked, as it was served), not the marking person's organisation. Feedback given by nobody
    (a visitor not signed in) is not a label: it is left out and counted in `skipped`
    ("anonymous feedback"), and never replaces a counted mark. Sorted by timestamp (missing
    last), then ref.

    Introductions (origin "introduction", ref the introduction id): the asking organisation is
    the source, the asked one the partner, the request's need the text. An accepted request is
    a positive (1, weight 0.8, as 'accepted' feedback), a declined one a negative (0, 1.0).
    A request alone (still open, withdrawn or expired) is left out: it says only what the asker
    thought, and its answer, when it comes, is the label; an unanswered request is no evidence
    either way.
    """
    records: list[dict[str, Any]] = []
    for p in list_partnerships(store):
        records.append(
            {
                "source_id": p.source_id,
                "partner_id": p.partner_id,
                "label": p.label,
                "weight": p.weight,
                "timestamp": p.started_at,
                "text": p.text(),
                "origin": "history",
                "ref": p.id,
                "outcome": p.outcome,
            }
        )
    if include_feedback:
        records.extend(_feedback_records(store, skipped if skipped is not None else Counter()))
    if include_introductions:
        records.extend(_introduction_records(store))
    frame = pd.DataFrame.from_records(records, columns=PAIR_COLUMNS)
    frame["label"] = frame["label"].astype("int64")
    frame["weight"] = frame["weight"].astype("float64")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    for col in ("need_lat", "need_lon", "need_radius_km"):
        frame[col] = pd.to_numeric(frame[col]).astype("float64")
    return frame.sort_values(["timestamp", "ref"], na_position="last", kind="stable").reset_index(
        drop=True
    )


def _feedback_records(store: Store, skipped: Counter[str]) -> list[dict[str, Any]]:
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    with store.db.session() as s:
        q = (
            select(FeedbackRow, RecommendationRow, PersonRow.email_verified)
            .join(RecommendationRow, FeedbackRow.recommendation_id == RecommendationRow.id)
            .outerjoin(PersonRow, FeedbackRow.person_id == PersonRow.id)
            .order_by(FeedbackRow.created_at, FeedbackRow.pk)
        )
        for fb, rec, confirmed in s.execute(q):
            labelled = label_of(fb.outcome)
            key = (fb.recommendation_id, fb.organisation_id)
            if labelled is None:
                continue
            given = standing(fb.api_key_id, fb.person_id, confirmed)
            if given != COUNTED:  # a visitor's, or a person's not yet confirmed
                skipped[SKIP_REASONS[given]] += 1
                continue
            need = rec.need or {}
            # "subject" is fixed when the recommendation is stored; older rows fall back.
            subject = need.get("subject") or need.get("requester_id")
            source = subject or f"need:{need.get('id') or rec.id}"
            latest[key] = {
                "source_id": str(source),
                "partner_id": fb.organisation_id,
                "label": labelled[0],
                "weight": labelled[1],
                "timestamp": _aware(fb.created_at),
                "text": str(need.get("text") or ""),
                "origin": "feedback",
                "ref": f"{fb.recommendation_id}:{fb.organisation_id}",
                "outcome": fb.outcome,
                **asked_fields(need),
            }
    return list(latest.values())


def asked_fields(need: dict[str, Any]) -> dict[str, Any]:
    """The `ASKED_COLUMNS` of a stored need document (None where it does not say)."""

    def text(key: str) -> str | None:
        v = need.get(key)
        return (str(v).strip() or None) if v is not None else None

    def num(key: str) -> float | None:
        v = need.get(key)
        try:
            return float(v) if v is not None else None
        except (TypeError, ValueError):
            return None

    def joined(key: str) -> str | None:
        v = need.get(key) or []
        items = [str(i).strip() for i in (v if isinstance(v, list) else [v]) if str(i).strip()]
        return "|".join(items) or None

    filters = need.get("filters")
    set_filters = (
        {k: v for k, v in filters.items() if v not in (None, [], False, "")}
        if isinstance(filters, dict)
        else {}
    )
    return {
        "need_place": text("place"),
        "need_city": text("city"),
        "need_region": text("region"),
        "need_country": text("country"),
        "need_lat": num("lat"),
        "need_lon": num("lon"),
        "need_radius_km": num("radius_km"),
        "need_sectors": joined("wanted_sectors"),
        "need_capabilities": joined("required_capabilities"),
        "need_filters": json.dumps(set_filters, sort_keys=True) if set_filters else None,
    }


INTRODUCTION_LABELS = ("accepted", "declined")


def _introduction_records(store: Store) -> list[dict[str, Any]]:
    I = IntroductionRow  # noqa: E741
    q = select(I).where(I.status.in_(INTRODUCTION_LABELS)).order_by(I.decided_at, I.pk)
    out: list[dict[str, Any]] = []
    with store.db.session() as s:
        for row in s.scalars(q):
            labelled = label_of(row.status)
            assert labelled is not None
            out.append(
                {
                    "source_id": row.from_org,
                    "partner_id": row.to_org,
                    "label": labelled[0],
                    "weight": labelled[1],
                    "timestamp": _aware(row.decided_at),
                    "text": row.need_text or "",
                    "origin": "introduction",
                    "ref": row.id,
                    "outcome": row.status,
                }
            )
    return out


# ---------------------------------------------------------------------------------- enrichment


@dataclass
class EnrichReport:
    enriched: list[Organisation] = field(default_factory=list)  # changed profiles
    considered: int = 0  # organisations with little description
    with_history: int = 0  # of those, how many have usable partnership text
    stored: UpsertReport | None = None


def base_description(description: str) -> str:
    """The description without any text an earlier enrichment appended."""
    return description.split(HISTORY_MARKER, 1)[0].rstrip()


def enrich_profiles(
    store: Store,
    *,
    min_chars: int = 300,
    max_chars: int = 2_000,
    item_chars: int = 300,
    exclude: Collection[str] = (),
    until: datetime | None = None,
    order: str = "typical",
    apply: bool = True,
) -> EnrichReport:
    """Append the text of past partnerships to organisations whose own description is shorter
    than `min_chars`, up to `max_chars` of added text (each item cut to `item_chars`).

    A funder is described by what it funded ("Funded: ..."), a recipient by what it was funded
    for, other partners by what they partnered on. Only positive partnerships count; `exclude`
    (partnership ids) and `until` (start date) keep held-out history out of the profiles.
    `order="typical"` puts the partnerships most like the organisation's others first (TF-IDF
    centroid), so an embedding of the first few hundred words sees the typical work;
    `order="recent"` puts the newest first. Re-running recomputes from the original
    description, so it never appends twice; with `apply` the changes are stored in one
    transaction (run `matcher build` afterwards to re-index).
    """
    if order not in ("typical", "recent"):
        raise ValidationError(f"unknown order '{order}' (expected typical or recent)")
    if min_chars < 0 or max_chars < 50 or item_chars < 20:
        raise ValidationError("min_chars >= 0, max_chars >= 50 and item_chars >= 20 are needed")
    items = positive_partnerships(store, exclude=exclude, until=until)
    sections = _sections(items)
    ranks = _typicality(items) if order == "typical" else {}
    report = EnrichReport()
    for _pk, org in store.organisations():
        base = base_description(org.description)
        if len(base) >= min_chars:
            if base != org.description:  # an earlier enrichment it no longer needs
                report.enriched.append(org.model_copy(update={"description": base}))
            continue
        report.considered += 1
        mine = sections.get(org.id, {})
        if mine:
            report.with_history += 1
        added = _history_text(mine, order, ranks.get(org.id, {}), max_chars, item_chars)
        description = base + HISTORY_MARKER + added if added else base
        if description != org.description:
            report.enriched.append(org.model_copy(update={"description": description}))
    if apply and report.enriched:
        report.stored = store.upsert_organisations(report.enriched)
    logger.info(
        "enrichment: %d short profiles, %d with history, %d changed",
        report.considered,
        report.with_history,
        len(report.enriched),
    )
    return report


_FUNDED = ("funded",)


def _sections(items: list[Partnership]) -> dict[str, dict[str, list[Partnership]]]:
    out: dict[str, dict[str, list[Partnership]]] = defaultdict(lambda: defaultdict(list))
    for p in items:
        funded = p.outcome in _FUNDED or p.amount is not None
        out[p.source_id]["Funded" if funded else "Partnered on"].append(p)
        out[p.partner_id]["Funded for" if funded else "Partnered on"].append(p)
    return out


def _typicality(items: list[Partnership]) -> dict[str, dict[str, float]]:
    """Per organisation, per partnership id: cosine of its TF-IDF vector to the org's centroid."""
    if not items:
        return {}
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [p.text() for p in items]
    matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=1).fit_transform(texts)
    rows_of: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(items):
        rows_of[p.source_id].append(i)
        rows_of[p.partner_id].append(i)
    out: dict[str, dict[str, float]] = {}
    for org_id, rows in rows_of.items():
        if len(rows) < 3:
            continue
        sub = matrix[rows]
        centroid = np.asarray(sub.mean(axis=0)).ravel()
        scores = sub @ centroid
        out[org_id] = {items[r].id: float(v) for r, v in zip(rows, scores, strict=True)}
    return out


def _history_text(
    sections: dict[str, list[Partnership]],
    order: str,
    org_ranks: dict[str, float],
    max_chars: int,
    item_chars: int,
) -> str:
    if not sections:
        return ""
    from training.importers.base import shorten

    parts: list[str] = []
    budget = max_chars
    # The largest section first: it says most about what the organisation does.
    for heading, group in sorted(sections.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        ordered = _ordered(group, order, org_ranks)
        texts: list[str] = []
        seen: set[str] = set()
        used = len(heading) + 2
        for p in ordered:
            t = shorten(p.text().rstrip(". "), item_chars)
            if t.lower() in seen:
                continue
            if used + len(t) + 2 > budget:
                break
            seen.add(t.lower())
            texts.append(t)
            used += len(t) + 2
        if texts:
            parts.append(f"{heading}: " + "; ".join(texts) + ".")
            budget -= used + 1
        if budget < 40:
            break
    return " ".join(parts)


def _ordered(
    group: list[Partnership], order: str, org_ranks: dict[str, float]
) -> list[Partnership]:
    oldest = datetime.min.replace(tzinfo=UTC)
    if order == "recent" or not org_ranks:
        return sorted(group, key=lambda p: (p.started_at or oldest, p.id), reverse=True)
    return sorted(group, key=lambda p: (-org_ranks.get(p.id, 0.0), p.id))
