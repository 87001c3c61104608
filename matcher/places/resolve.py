"""Places, offline: resolve a place name, normalise regions and countries, suggest names for a
place field, and find the words of a text that name places.

    resolve("Providence, RI")          -> Place(kind="city", city="Providence", region="RI", ...)
    resolve("02903"), resolve("Sussex County, Delaware"), resolve("Rhode Island"), resolve("USA")
    resolve("Portland")                -> AmbiguousPlaceError(candidates=["Portland, OR", ...])
    normalise_region("Rhode Island")   -> "RI";   normalise_country("United States") -> "US"

The gazetteer (`matcher.gazetteer`) is loaded on first use: about 1 s for the US, 1 s more the
first time a place outside the US is looked up.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Protocol

from matcher.errors import AmbiguousPlaceError, PlaceError, UnknownPlaceError
from matcher.places import gazetteer
from matcher.places.gazetteer import Entry, key, us_gazetteer, world_gazetteer

KINDS = ("zip", "city", "county", "state", "country")
MAX_CANDIDATES = 10
_ZIP_START = re.compile(r"^(\d{5})(?:-\d{4})?\b")
_ZIP_END = re.compile(r"\b(\d{5})(?:-\d{4})?$")
# provinces and states abroad as a qualifier, by code or name -> their country: "Vancouver, BC"
# was "'BC' is neither a US state nor a country" (the world gazetteer has no regions); a code
# that is also a US state's ("WA") stays the state's
_PROVINCE_NAMES = {
    "CA": (
        *("AB", "Alberta", "BC", "British Columbia", "MB", "Manitoba", "NB", "New Brunswick"),
        *("NL", "Newfoundland and Labrador", "Newfoundland", "NS", "Nova Scotia", "ON"),
        *("Ontario", "PE", "PEI", "Prince Edward Island", "QC", "Quebec", "Québec", "SK"),
        *("Saskatchewan", "YT", "Yukon", "Northwest Territories", "NU", "Nunavut"),
    ),
    "AU": (
        *("NSW", "New South Wales", "VIC", "Victoria", "QLD", "Queensland", "TAS"),
        *("Tasmania", "ACT", "Australian Capital Territory", "South Australia"),
        *("Western Australia", "Northern Territory"),
    ),
}
_PROVINCES = {key(name): c for c, names in _PROVINCE_NAMES.items() for name in names}


@dataclass(frozen=True)
class Place:
    label: str
    kind: str  # one of KINDS
    country: str
    region: str | None = None
    city: str | None = None
    county: str | None = None
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def need_fields(self) -> dict[str, Any]:
        """What of it places a need there (`Need.model_copy(update=...)`)."""
        return {
            "city": self.city,
            "region": self.region,
            "country": self.country,
            "lat": self.lat,
            "lon": self.lon,
        }


# normalisers ----------------------------------------------------------------------------------
def state_code(text: str | None) -> str | None:
    """The two-letter code of a US state, DC or territory given by name or code; else None."""
    if not text:
        return None
    return gazetteer.states()[0].get(key(text))


def state_name(code: str) -> str:
    return gazetteer.states()[1].get(code, code)


def normalise_region(text: str | None, country: str | None = None) -> str | None:
    """'Rhode Island', 'ri' -> 'RI' for a US state (when `country` is None or the US); any other
    region is returned with its whitespace collapsed; blank -> None."""
    if text is None or not str(text).strip():
        return None
    s = " ".join(str(text).split())
    if country is None or gazetteer.country_code(country) == "US":
        return state_code(s) or s
    return s


def region_key(text: str | None) -> str:
    """What region filters compare: a US state's code (by name or code), else the lower-cased
    text; '' for none. Country-blind, so 'Oregon', 'oregon' and 'OR' all agree."""
    if not text or not str(text).strip():
        return ""
    code = state_code(str(text))
    return code.lower() if code else " ".join(str(text).split()).lower()


def region_keys(text: str) -> tuple[str, ...]:
    """The stored spellings a region filter matches (lower case): a US state's code and name."""
    code = state_code(text)
    if code:
        return (code.lower(), state_name(code).lower())
    return (" ".join(text.split()).lower(),)


def normalise_country(text: str | None) -> str | None:
    """'USA', 'United States', 'us', 'GBR' -> ISO 3166 alpha-2; an unknown two- or three-letter
    code is kept (upper case); an unknown name raises ValueError naming it."""
    if text is None or not str(text).strip():
        return None
    s = " ".join(str(text).split())
    code = gazetteer.country_code(s)
    if code:
        return code
    if len(s) in (2, 3) and s.isalpha():
        return s.upper()
    raise ValueError(f"unknown country '{s}' (give a code such as US or a name such as Canada)")


# resolve ----------------------------------------------------------------------------------
def resolve(text: str) -> Place:
    """The one place `text` names; UnknownPlaceError or AmbiguousPlaceError (with candidates)."""
    s = " ".join(str(text).split()).strip(" ,")
    if not s:
        raise UnknownPlaceError("the place is empty", place=str(text))
    return _resolve(s)


@lru_cache(maxsize=4096)
def _resolve(s: str) -> Place:
    m = _ZIP_START.match(s) or _ZIP_END.search(s)
    if m:
        return zip_place(m.group(1), s)
    parts = [p.strip() for p in s.split(",") if p.strip()]
    country = None
    if len(parts) > 1 and state_code(parts[-1]) is None:
        country = gazetteer.country_code(parts[-1]) or _PROVINCES.get(key(parts[-1]))
        if country is None and (within := _in_city(parts[-2], parts[-1], s)) is not None:
            return within
        if country is None:
            raise UnknownPlaceError(
                f"unknown place '{s}': '{parts[-1]}' is neither a US state nor a country",
                place=s,
            )
        parts = parts[:-1]
    if len(parts) == 1:
        return _single(parts[0], country, s)
    name, qualifier = parts[-2], parts[-1]
    st = state_code(qualifier) if country in (None, "US") else None
    if st is None:
        raise UnknownPlaceError(f"unknown place '{s}': '{qualifier}' is not a US state", place=s)
    return _in_state(name, st, s)


def _in_city(name: str, city: str, s: str) -> Place | None:
    """A place named with its US city as the qualifier ("South Valley, Albuquerque", "Capitol
    Hill, Seattle"): the place in the city's state when the gazetteer knows it, else the city
    (a neighbourhood is searched around its city); None when the qualifier is no one US city."""
    try:
        where = _single(city, None, city)
    except PlaceError:
        return None
    if where.kind != "city" or where.country != "US" or where.region is None:
        return None
    try:
        return _in_state(name, where.region, s)
    except PlaceError:
        return where


def zip_place(code: str, text: str | None = None) -> Place:
    z = us_gazetteer().zips.get(code)
    if z is None:
        raise UnknownPlaceError(
            f"unknown place '{text or code}': no US ZIP code {code}", place=text or code
        )
    return Place(
        f"{z.code} ({z.city}, {z.state})",
        "zip",
        "US",
        z.state,
        z.city,
        z.county,
        z.code,
        z.lat,
        z.lon,
    )


def _entry_place(e: Entry) -> Place:
    city = e.name if e.kind == "city" else None
    return Place(e.label, e.kind, e.country, e.region, city, e.county, None, e.lat, e.lon)


def _state_place(code: str) -> Place:
    return Place(state_name(code), "state", "US", code)


def _single(p: str, country: str | None, s: str) -> Place:
    in_state_miss: UnknownPlaceError | None = None
    if country in (None, "US"):
        st = state_code(p)
        if st:
            return _state_place(st)
    if country is None:
        c = gazetteer.country_code(p)
        if c:
            return Place(gazetteer.country_name(c), "country", c)
        words = p.split()
        for n in (1, 2, 3):  # "Providence RI", "Great Falls Montana"
            if len(words) > n and (st := state_code(" ".join(words[-n:]))):
                try:
                    return _in_state(" ".join(words[:-n]), st, s)
                except UnknownPlaceError as exc:
                    # "Providnce RI": its state's near names, should nothing else match (it
                    # said only "unknown place", where "Providnce, RI" suggested Providence)
                    in_state_miss = in_state_miss or (exc if exc.candidates else None)
    if country is not None and country != "US":
        hits = [e for e in world_gazetteer().cities.get(key(p), ()) if e.country == country]
        if not hits:
            where = gazetteer.country_name(country)
            raise UnknownPlaceError(f"unknown place '{s}': no city '{p}' in {where}", place=s)
        return _entry_place(hits[0])
    g = us_gazetteer()
    hits = [*g.cities.get(key(p), ()), *g.counties.get(key(p), ())]
    if country is None:
        hits += world_gazetteer().cities.get(key(p), [])
    hits.sort(key=lambda e: -(e.weight if e.country == "US" else e.weight // 10_000))
    if len(hits) == 1:
        return _entry_place(hits[0])
    labels = list(dict.fromkeys(e.label for e in hits))
    if len(labels) > 1:
        shown = labels[:MAX_CANDIDATES]
        more = f" and {len(labels) - len(shown)} more" if len(labels) > len(shown) else ""
        raise AmbiguousPlaceError(
            f"'{s}' could be several places: {'; '.join(shown)}{more}. "
            f"Add the state or country, e.g. '{shown[0]}'",
            place=s,
            candidates=shown,
        )
    if hits:
        return _entry_place(hits[0])
    close = difflib.get_close_matches(key(p), list(g.cities), n=5, cutoff=0.85)
    if not close and in_state_miss is not None:
        raise in_state_miss
    cands = [g.cities[c][0].label for c in close]
    hint = f" (did you mean {'; '.join(cands)}?)" if cands else ""
    raise UnknownPlaceError(f"unknown place '{s}'{hint}", place=s, candidates=cands)


def _in_state(name: str, st: str, s: str) -> Place:
    g = us_gazetteer()
    e = g.city(name, st) or g.county(name, st)
    if e is not None:
        return _entry_place(e)
    in_state = [k for k, es in g.cities.items() if any(x.region == st for x in es)]
    close = difflib.get_close_matches(key(name), in_state, n=5, cutoff=0.75)
    cands = [f"{g.city(c, st).name}, {st}" for c in close if g.city(c, st) is not None]  # type: ignore[union-attr]
    hint = f" (did you mean {'; '.join(cands)}?)" if cands else ""
    raise UnknownPlaceError(
        f"unknown place '{s}': no city or county '{name}' in {state_name(st)}{hint}",
        place=s,
        candidates=cands,
    )


class _Located(Protocol):
    place: str | None
    city: str | None
    region: str | None
    country: str | None


def place_of(record: _Located) -> Place | None:
    """The place of a need (or anything with place/city/region/country): its resolved `place`,
    else one made of its city and region; None when it has neither."""
    if record.place:
        try:
            return resolve(record.place)
        except PlaceError:
            return None
    if not record.city and not record.region:
        return None
    region = normalise_region(record.region, record.country)
    label = ", ".join(x for x in (record.city, region) if x)
    kind = "city" if record.city else "state"
    return Place(label, kind, record.country or "", region, record.city)
