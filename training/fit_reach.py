"""Where a fit's training queries come from, against where the service is asked.

A model learned from one country's partnerships is compared with the published one on held-out
queries of that same country, so the publish gate passed a model fitted on UK grants alone (its
coverage weight 0) for a service asked about Rhode Island, where it then put Hasbro in a
Providence food coalition (real data walk). `reach_of` measures the share of the service's
asks (the needs of its recent recommendations and its open community needs; the catalog's
organisations while fewer than MIN_ASKS of them name a country) in the countries the training
queries come from. A fit below NARROW_SHARE is marked narrow, and publishing it needs --force
(training.registry).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

NARROW_SHARE = 0.5  # of the asks (or the catalog) in the countries of the training queries
MIN_ASKS = 10  # asks naming a country before they, not the catalog, say where the service works
RECENT_ASKS = 2_000  # the newest recommendations read
UNKNOWN = "unknown"


def asked_countries(db: Any, recent: int = RECENT_ASKS) -> Counter[str]:
    """Countries of the needs the service was asked about: its newest `recent` recommendations'
    needs and its open community needs (not programmes), by code; needs naming none left out."""
    from sqlalchemy import select

    from matcher.store.models import NeedRow, RecommendationRow

    out: Counter[str] = Counter()
    with db.session() as s:
        q = select(RecommendationRow.need).order_by(RecommendationRow.created_at.desc())
        for need in s.scalars(q.limit(recent)):
            out[str((need or {}).get("country") or "").upper()] += 1
        q2 = select(NeedRow.country).where(NeedRow.status == "open", NeedRow.kind == "need")
        for country in s.scalars(q2):
            out[(country or "").upper()] += 1
    out.pop("", None)
    return out


def reach_of(
    query_countries: Iterable[str | None],
    catalog_countries: Mapping[str, int],
    asked: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """{"queries_by_country", "basis", "share", "narrow", "note"}: the training queries per
    country (their need's, from the source organisation's place; "unknown" when none); what
    they are measured against (`basis`: "asks" when at least MIN_ASKS of `asked` name a
    country, else "catalog": the located organisations); the share the queries and it have in
    common, country by country (the queries of known country all in the basis's countries, in
    its proportions: 1.0); whether that share is below NARROW_SHARE, and then `note`, saying so
    in words.
    Queries of no known country, or nothing located to compare with, are never narrow."""
    by_country = Counter((c or "").upper() or UNKNOWN for c in query_countries)
    asks = {c.upper(): n for c, n in (asked or {}).items() if c and n > 0}
    basis = "asks" if sum(asks.values()) >= MIN_ASKS else "catalog"
    base = asks if basis == "asks" else {c: n for c, n in catalog_countries.items() if c and n > 0}
    total = sum(base.values())
    known = {c for c in by_country if c != UNKNOWN}
    result: dict[str, Any] = {
        "queries_by_country": dict(by_country.most_common()),
        "basis": basis,
        "share": None,
        "narrow": False,
        "note": None,
    }
    if not total or not known:
        return result
    # how much the two distributions overlap (the sum of the smaller share of each country):
    # 152 US queries beside 7,424 British ones made a share of 1.0 for a service asked about
    # the US only, whatever their number (helper-76's walk, 2026-12-06); now 0.02
    queries = sum(by_country[c] for c in known)
    share = sum(min(by_country[c] / queries, base.get(c, 0) / total) for c in known)
    result["share"] = round(share, 4)
    if share < NARROW_SHARE:
        where = ", ".join(f"{c} ({n:,})" for c, n in by_country.most_common(3) if c != UNKNOWN)
        held = ", ".join(f"{c} {n / total:.0%}" for c, n in Counter(base).most_common(3))
        what = (
            "the needs this service was asked about"
            if basis == "asks"
            else "the catalog's organisations"
        )
        result["narrow"] = True
        # said plainly (helper-82's walk: "... come from GB (7424), US (152), where 2% of the
        # needs this service was asked about are (US 100%)" read as garbled)
        result["note"] = (
            f"the training queries come from {where}; {what} are in {held}. The two overlap "
            f"{share:.0%} only, so its held-out figures measure matches mostly elsewhere. "
            "Publishing it needs --force (force=true over HTTP): check it on needs from where "
            "the service is asked first"
        )
    return result
