"""Geocode an organisation on write: the one function every write path goes through.

The Store calls `locate` on every organisation it inserts or updates (API, CLI, engine ingest,
importers and loaders alike); importers and loaders also call it first to report a per-row
warning when an address does not geocode. It:
- normalises the country to ISO 3166 alpha-2 and a US state to its code ('Rhode Island' -> 'RI'),
  setting the country to US when the region is a US state and no country is given;
- fills lat/lon when they are missing: in the US from the ZIP code first, else from city + state
  (or a county); elsewhere from a city of 15,000 people or more in that country. Without a
  country (and no US state) nothing is guessed: a 5-digit postcode is not always a US ZIP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from matcher.domain import Organisation
from matcher.places.gazetteer import Entry, key, us_gazetteer, world_gazetteer
from matcher.places.resolve import state_code

_ZIP5 = re.compile(r"^\s*(\d{3,5})(?:\s*-\s*\d{4})?\s*$")


@dataclass(frozen=True)
class Located:
    org: Organisation
    warning: str | None = None  # why an address given did not geocode
    field: str | None = None  # the field the warning is about first


def zip5(postcode: str | None) -> str | None:
    """The 5-digit ZIP of '02903', '02903-1234' or '2903' (a leading zero lost to a spreadsheet)."""
    m = _ZIP5.match(postcode or "")
    return m.group(1).zfill(5) if m else None


def locate(org: Organisation) -> Located:
    """`org` with its region and country normalised and, where it can be found, its point."""
    updates: dict[str, object] = {}
    country = org.country
    region = org.region
    unknown_state = None
    if region and country in (None, "US"):
        code = state_code(region)
        if code:
            region = code
            if code != org.region:
                updates["region"] = code
            if country is None:
                country = updates["country"] = "US"
        elif country == "US":
            # "ZZ" was stored without a word, and no search by place found it (real data walk)
            unknown_state = (
                f"region '{region}' is not a US state or territory: searches by place "
                "will not find it"
            )
    if org.lat is not None and org.lon is not None:
        return Located(
            org.model_copy(update=updates) if updates else org,
            unknown_state,
            "region" if unknown_state else None,
        )
    warning = None
    if country == "US":
        g = us_gazetteer()
        z = g.zips.get(zip5(org.postcode) or "")
        if z is not None and (region is None or region == z.state):
            updates.update(lat=z.lat, lon=z.lon)
            if region is None:
                updates["region"] = z.state
            if org.city is None:
                updates["city"] = z.city
        else:
            hit = (
                (g.city(org.city, region) or g.county(org.city, region))
                if org.city and region
                else None
            )
            if hit is not None:
                updates.update(lat=hit.lat, lon=hit.lon)
            warning = _warning(org, region, z is not None, hit is not None)
    elif country is not None and org.city:
        found = _world_city(org.city, country)
        if found is not None:
            updates.update(lat=found.lat, lon=found.lon)
        else:
            warning = f"no coordinates: city '{org.city}' is not in the gazetteer for {country}"
    field = "postcode" if org.postcode else "city"
    if unknown_state:
        warning = f"{unknown_state}; {warning}" if warning else unknown_state
        field = "region"
    return Located(org.model_copy(update=updates) if updates else org, warning, field)


def _warning(
    org: Organisation, region: str | None, zip_known: bool, city_found: bool
) -> str | None:
    if not org.postcode and not org.city:
        return None
    problems = []
    if org.postcode and not zip_known:
        problems.append(f"ZIP '{org.postcode}' is not a known US ZIP code")
    elif org.postcode and zip_known:
        problems.append(f"ZIP '{org.postcode}' is not in {region}")
    if city_found:
        return "; ".join(problems) + "; located by its city instead" if problems else None
    if org.city:
        where = f"{org.city}, {region}" if region else f"{org.city} (no state given)"
        problems.append(f"city '{where}' is not in the gazetteer")
    return "no coordinates: " + "; ".join(problems)


def _world_city(city: str, country: str | None) -> Entry | None:
    hits = world_gazetteer().cities.get(key(city), [])
    return next((e for e in hits if e.country == country), None)
