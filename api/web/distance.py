"""How far from a need's place the home page searches: the distances offered (the aligned
page offers the same), the form's `within` read as the need's `radius_km`, and the sentences
that say where a recommendation searched and why a distance was not used."""

from __future__ import annotations

import re
from collections.abc import Callable

from matcher.domain import Need
from matcher.errors import ValidationError
from matcher.geo import km_said

WITHIN_KM = (25, 50, 100, 250)  # the distances offered; none: anywhere in the place's state
ANYWHERE = "Anywhere in the state"
RADIUS_MAX = 20_000  # what a need's radius_km takes


# other places named in a need, offered beside the one searched
MAX_ALSO = 4


def km(radius: float) -> str:
    """50.0 -> '50', 12.5 -> '12.5'."""
    return f"{radius:g}"


def read_within(value: str) -> float | None:
    """The form's distance: empty is anywhere (None); else km, as the API's radius_km takes.
    Raises ValidationError saying what to choose."""
    value = value.strip()
    if not value:
        return None
    try:
        radius = float(value)
    except ValueError:
        radius = -1.0
    if not 0 < radius <= RADIUS_MAX:  # also NaN
        offered = ", ".join(f"{d} km" for d in WITHIN_KM)
        raise ValidationError(f"Distance: choose {ANYWHERE.lower()} or within {offered}.")
    return radius


def within_value(radius: float | None) -> str:
    """The form's `within` for a stored need's radius_km ('' for none)."""
    return km(radius) if radius else ""


def within_options(current: str) -> list[tuple[str, str]]:
    """The select's (value, label) pairs: anywhere, the distances offered, and a stored need's
    own when it is none of them (asked through the API: kept when asked again)."""
    options = [("", ANYWHERE)] + [(str(d), f"Within {d} km") for d in WITHIN_KM]
    if current and current not in {v for v, _ in options}:
        try:
            radius = read_within(current)
        except ValidationError:  # sent by hand: the form says why beside it
            return options
        if radius is not None:
            options.append((current, f"Within {km(radius)} km"))
    return options


def statewide(region: str | None) -> str:
    """The word for working across a whole US state: "district-wide" for Washington, DC and
    "territory-wide" for Puerto Rico, Guam and the other territories, which are no states (the
    real data's DC bodies read "works statewide"). Any spelling the gazetteer knows."""
    import us

    from matcher.places.gazetteer import key, states

    code = states()[0].get(key(region)) if region else None
    if code == "DC":
        return "district-wide"
    if code in {t.abbr for t in us.states.TERRITORIES}:
        return "territory-wide"
    return "statewide"


def _place(need: Need) -> str | None:
    """The place as the form gave it; a ZIP code with its town ("59401 (Great Falls, MT)": the
    code alone was echoed back, real data walk)."""
    town = ", ".join(p for p in (need.city, need.region) if p)
    typed = (need.place or "").strip()
    if typed.replace("-", "").isdigit() and town:
        return f"{typed} ({town})"
    return typed or town or None


def searched_area(need: Need) -> str | None:
    """Where a recommendation searched, in the words of the form (None without a place)."""
    place = _place(need)
    if place is None:
        return None
    from matcher.places.gazetteer import country_name

    # a country by its name: "anywhere in CA" for Toronto read as California
    state = need.region or (country_name(need.country) if need.country else None)
    if need.radius_km and need.lat is not None:
        near = f"Searched within {km(need.radius_km)} km of {place}: organisations based that close"
        if not state:
            return f"{near}, and the bodies that work nationwide."
        wide = f"the {statewide(state)} and nationwide bodies that serve {state}"
        return f"{near}, and {wide}, wherever their office is."
    if not need.place:  # asked through the API by city or region: nothing is filtered on it
        return None
    if need.lat is None or not state:  # a whole state or country: searched anywhere in it
        return f"Searched anywhere in {with_article(place)}, and the bodies that work nationwide."
    return (
        f"Searched anywhere in {state} (nearer {place} ranks higher), and the bodies that work "
        "nationwide."
    )


_THE = re.compile(
    r"^(?:United\s|Netherlands$|Philippines$|Bahamas$|Gambia$|Maldives$|Comoros$|Seychelles$)"
    r"|(?:Republic|Islands|Emirates)$"
)


def with_article(name: str) -> str:
    """A country's name as a sentence says it: "the United States", "the Netherlands"
    ("Searched anywhere in United States": helper-72's walk, 2026-12-06); any other name as
    it is."""
    return f"the {name}" if _THE.search(name.strip()) else name


def unused_distance(place: str, within: str) -> str:
    """Why a chosen distance was not used: no place to measure from, or a place without a
    point (a whole state or country)."""
    chosen = f"“Within {km(float(within))} km”"
    if not place.strip():
        return (
            f"A distance needs a place: {chosen} was not used, so partners come from "
            "everywhere. Add a city, county or ZIP code to search near it."
        )
    return (
        f"“{place.strip()}” is a whole state or country, with no point to measure from: "
        f"{chosen} was not used, so partners come from anywhere in it. Give a city, county or "
        "ZIP code to search near it."
    )


def km_away(km: float) -> str:
    """A distance as the cards say it (`matcher.geo.km_said`: "12 km", "less than 1 km")."""
    return km_said(km)


def place_in_text(text: str, holds: Callable[[str], bool] | None = None) -> str | None:
    """The place a need's text names when the form's place was left empty: its "<City>,
    <state>" ("Our reentry program in Salem, OR needs ..."; "Salem OR" with the state's code in
    capitals, as `places_named` reads it, and given with the comma), the first when it names several
    of one state ("Eugene, OR and Springfield, OR"); None when it names none, places of
    several states, or one the gazetteer cannot read as one place. Without a city, the one
    state it names ("Families across New Mexico need ..."). An organiser who wrote the town
    in the need and not in Place was shown partners of every state (New Mexico's for Salem:
    real data walk, 2026-12-06). A town named alone ("Our clinic in Taos") when only one
    state has a town of that name, or only one of the states the data holds does (`holds`:
    whether organisations are held in a state), or the one state the text names does
    (`matcher.places.towns`)."""
    from matcher.errors import PlaceError
    from matcher.places.resolve import resolve, state_name
    from matcher.places.towns import town_read
    from matcher.places.words import places_named, states_named

    named = places_named(text)
    if not named:
        town = town_read(text, holds)
        if town is not None:
            return town
        alone = states_named(text)
        return state_name(next(iter(alone))) if len(alone) == 1 else None
    try:
        regions = {resolve(n).region for n in named}
    except PlaceError:
        return None
    return named[0] if len(regions) == 1 and None not in regions else None


def places_also(text: str, read: str, holds: Callable[[str], bool] | None = None) -> list[str]:
    """The other places a need's text names beside `read` (the one `place_in_text` gave),
    of the same state: "Families in Santa Fe and Espanola" searched near Santa Fe and said
    nothing of Española (helper-72's walk, 2026-12-06). The page offers to search near each."""
    from matcher.places.towns import towns_read
    from matcher.places.words import places_named

    named = places_named(text)
    # its towns named alone too ("Eugene and Springfield, Oregon"), each place once:
    # "Salem, Oregon" named and "Salem, OR" read are one, Salem, MA and Salem, OR two
    seen = {_same_place(p) for p in named}
    towns = [t for t in towns_read(text, holds) if _same_place(t) not in seen]
    return [p for p in dict.fromkeys([*named, *towns]) if p != read][:MAX_ALSO]


def _same_place(label: str) -> tuple[str, str]:
    """What a "<City>, <state>" label is, however its state is written: ("salem", "OR") for
    "Salem, Oregon" and for "Salem, OR"."""
    from matcher.places.gazetteer import key
    from matcher.places.resolve import state_code

    name, _, state = label.rpartition(",")
    return key(name), state_code(state.strip()) or state.strip()


def held_first(typed: str, candidates: list[str], holds: Callable[[str], bool]) -> list[str]:
    """The places a Place typed could be (`candidates`, of an ambiguous or unknown place), those
    of the states the data holds first, the largest first, with any of them the candidates
    left out: "Sheridan" on Connecticut's and Wyoming's data offers Sheridan, WY first."""
    from matcher.places.gazetteer import key, us_gazetteer

    g = us_gazetteer()
    entries = [*g.cities.get(key(typed), ()), *g.counties.get(key(typed), ())]
    largest = sorted(entries, key=lambda e: -e.weight)
    held = [e.label for e in largest if e.region and holds(e.region)]
    return list(dict.fromkeys([*held, *candidates]))
