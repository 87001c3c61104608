"""Where a fit's training queries come from, against where the catalog's organisations are.

A model learned from one country's partnerships is compared with the published one on held-out
queries of that same country, so the publish gate passed a model fitted on UK grants alone
(its proximity weight 0.44) for a service whose catalog is almost all in the US, where it then
put Hasbro in a Providence food coalition (real data walk). `reach_of` measures the share of
the catalog in the countries the queries come from; a fit whose queries cover less than
NARROW_SHARE of it is marked narrow, and publishing it needs --force (training.registry).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

NARROW_SHARE = 0.5  # of the catalog's live rows in the countries the training queries are in
UNKNOWN = "unknown"


def reach_of(
    needs_countries: Iterable[str | None], catalog_countries: Mapping[str, int]
) -> dict[str, Any]:
    """{"queries_by_country", "catalog_share", "narrow", "note"}: the training queries per
    country (their need's country, from the source organisation's place; "unknown" when
    none), the share of the catalog's located rows in those countries, and whether that share
    is below NARROW_SHARE (then `note` says so in words). Queries of no known country, or a
    catalog with no located row, are never narrow: nothing to compare."""
    by_country = Counter((c or "").upper() or UNKNOWN for c in needs_countries)
    located = {c: n for c, n in catalog_countries.items() if c and n > 0}
    total = sum(located.values())
    known = {c for c in by_country if c != UNKNOWN}
    if not total or not known:
        return {
            "queries_by_country": dict(by_country.most_common()),
            "catalog_share": None,
            "narrow": False,
            "note": None,
        }
    share = sum(located.get(c, 0) for c in known) / total
    narrow = share < NARROW_SHARE
    note = None
    if narrow:
        where = ", ".join(f"{c} ({n})" for c, n in by_country.most_common(3) if c != UNKNOWN)
        held = ", ".join(f"{c} {n / total:.0%}" for c, n in Counter(located).most_common(3))
        note = (
            f"the training queries come from {where}, where {share:.0%} of the catalog's "
            f"organisations are (the catalog: {held}); its held-out figures measure matches "
            "there only. Publishing it needs --force: check it on needs from the rest first"
        )
    return {
        "queries_by_country": dict(by_country.most_common()),
        "catalog_share": round(share, 4),
        "narrow": narrow,
        "note": note,
    }
