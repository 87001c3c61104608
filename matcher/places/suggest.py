"""Suggestions for a place field: states, US cities ("City, ST"), counties, ZIP codes and
countries whose name starts with what was typed, the likeliest first."""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass

from matcher.places import gazetteer
from matcher.places.gazetteer import key, us_gazetteer

_STATE_WEIGHT = 1_000_000
_COUNTRY_WEIGHT = 500_000


@dataclass(frozen=True)
class Suggestion:
    label: str
    kind: str
    region: str | None
    country: str

    def as_dict(self) -> dict[str, str | None]:
        return {
            "label": self.label,
            "kind": self.kind,
            "region": self.region,
            "country": self.country,
        }


class _Index:
    """Every name as (key, -weight, suggestion), sorted by key: a prefix is one bisect range."""

    def __init__(self) -> None:
        import pycountry

        g = us_gazetteer()
        rows: list[tuple[str, int, Suggestion]] = []
        by_key, names = gazetteer.states()
        for code, name in names.items():
            s = Suggestion(name, "state", code, "US")
            rows += [(key(name), -_STATE_WEIGHT, s), (code.lower(), -_STATE_WEIGHT, s)]
        for c in pycountry.countries:
            name = getattr(c, "common_name", None) or c.name
            rows.append((key(name), -_COUNTRY_WEIGHT, Suggestion(name, "country", None, c.alpha_2)))
        for table, kind, scale in ((g.cities, "city", 1), (g.counties, "county", 4)):
            for entries in table.values():
                for e in entries:
                    s = Suggestion(e.label, kind, e.region, e.country)
                    rows.append((key(e.label), -(e.weight // scale), s))
        rows.sort(key=lambda r: (r[0], r[1]))
        self.keys = [r[0] for r in rows]
        self.rows = rows
        self.zips = sorted(g.zips)

    def find(self, prefix: str, limit: int) -> list[Suggestion]:
        p = key(prefix)
        if not p:
            return []
        if p[:1].isdigit():
            g = us_gazetteer()
            i = bisect.bisect_left(self.zips, p)
            out = []
            for code in self.zips[i : i + limit]:
                if not code.startswith(p):
                    break
                z = g.zips[code]
                out.append(Suggestion(f"{code} ({z.city}, {z.state})", "zip", z.state, "US"))
            return out
        lo = bisect.bisect_left(self.keys, p)
        hi = bisect.bisect_left(self.keys, p + "\uffff", lo)
        # the places named exactly what was typed first ("Newport": the Newports before
        # Newport News and Newport Beach, larger as they are), then the likeliest
        hits = sorted(self.rows[lo:hi], key=lambda r: (_name_key(r) != p, r[1], r[0]))
        seen: dict[str, Suggestion] = {}
        for _, _, s in hits:
            seen.setdefault(s.label, s)
            if len(seen) == limit:
                break
        return list(seen.values())


def _name_key(row: tuple[str, int, Suggestion]) -> str:
    """A row's key without its state or country ("Newport, RI": "newport")."""
    s = row[2]
    return key(s.label.rsplit(",", 1)[0]) if s.kind in ("city", "county") else row[0]


_lock = threading.Lock()
_index: _Index | None = None


def suggest(prefix: str, limit: int = 10) -> list[Suggestion]:
    """Up to `limit` places whose name starts with `prefix` (case and punctuation ignored)."""
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = _Index()
    return _index.find(prefix, max(1, limit))
