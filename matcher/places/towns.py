"""Towns a need's text names without their state: "Our rural clinic in Taos needs nurses".

`matcher.places.words` reads "<Name>, <state>" ("Salem, OR"). A group that writes only its town
("in Taos", "near Medford") was searched in every state (real data walk, 2026-12-06: "In
Medford", "Espanola" without "NM"). `towns_named` finds such a name after a word that places
it ("in", "near", "around", "outside", "across"), and gives each US city or
county of that name (the gazetteer's entries, one a state). `town_read` picks one when the
text, or the states the caller holds data in, leave only one state; `town_choices` lists the
places it could be when they do not, so a page can ask which.

Read only as capitalised words, never a language, month, weekday or season ("in Spanish":
English is a town in Indiana; "in May"), an abstract noun a need may capitalise ("in Reserve",
"in Hope"), nor a state or country (read as such elsewhere).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from matcher.places.gazetteer import Entry, key, us_gazetteer
from matcher.places.words import _NAME, states_named

# a town after a word that places it ("In Medford" too); not "from" or "serving", which are
# followed by the names of firms and peoples ("from Home Depot", "serving Navajo families")
_PLACED = re.compile(
    r"\b(?i:in|near|around|outside(?:\s+of)?|across|(?:north|south|east|west)(?:east|west)?\s+of"
    r"|(?:the\s+)?(?:city|town|village)\s+of)\s+" + _NAME
)
# a sentence opening with a town, then its people or a body of it: "Gallup families need
# roofs", "The Dalles library wants a coding club", "Santa Fe youth orchestra needs
# instruments" (real data walk: every state was searched)
_OF_A_TOWN = (
    *("families", "residents", "seniors", "elders", "youth", "kids", "children", "teens"),
    *("students", "parents", "tenants", "neighbors", "neighbours", "veterans", "farmers"),
    *("ranchers", "farmworkers", "fishermen", "workers", "women", "moms", "mums"),
    *("immigrants", "refugees", "library", "libraries", "school", "schools", "clinic"),
    *("pantry", "food bank", "shelter", "community", "nonprofit", "council", "center"),
    *("centre", "club", "orchestra", "team", "league", "hospital", "church", "volunteers"),
)
_OPENING = re.compile(
    r"(?:^|[.!?]\s+)" + _NAME + r"(?:['’]s)?\s+(?:" + "|".join(_OF_A_TOWN) + r")\b"
)
_SENTENCE_END = re.compile(r"[.!?]$")
_POSSESSIVE = re.compile(r"['’]s$")
# a town of the states the data holds is not read when a town of that name elsewhere is far
# larger (this many times its ZIP codes, and at least FAMOUS_ZIPS): "Our shelter in Phoenix"
# on New Mexico's and Oregon's data read Phoenix, OR (real data walk); the page asks instead
FAMOUS_RATIO = 4
FAMOUS_ZIPS = 5
_COUNTY = re.compile(r"\s+(?:County|Parish|Borough)$")
MAX_CHOICES = 5


@dataclass(frozen=True)
class Town:
    """A name the text places itself in, as written, and the US places of that name."""

    said: str
    places: tuple[Entry, ...]


@lru_cache(maxsize=1)
def _not_towns() -> frozenset[str]:
    """Capitalised words that follow "in" and are no town: languages ("in Spanish", "in
    English"), months, weekdays and seasons."""
    import pycountry

    words = {key(lang.name) for lang in pycountry.languages if " " not in lang.name}
    words |= {key(m) for m in calendar.month_name if m} | {key(d) for d in calendar.day_name}
    words |= {"spring", "summer", "autumn", "fall", "winter", "christmas", "easter"}
    # words a need capitalises for emphasis or as a name of its own ("We keep food in Reserve
    # for emergencies" read Reserve, NM: helper-72's walk, 2026-12-06)
    words |= {"reserve", "hope", "grace", "faith", "charity", "unity", "liberty", "justice"}
    words |= {"friendship", "harmony", "progress", "promise", "welcome", "opportunity"}
    return frozenset(words)


def _places_of(name: str) -> tuple[Entry, ...]:
    g = us_gazetteer()
    if _COUNTY.search(name):
        return tuple(g.counties.get(key(name), ()))
    return tuple(g.cities.get(key(name), ()))


def _run(words: list[str]) -> list[str]:
    """The capitalised words up to the end of their sentence ("Taos. We need": "Taos."), or
    to a possessive ("Portland's Lents neighborhood": "Portland")."""
    for i, w in enumerate(words):
        if _POSSESSIVE.search(w):
            return [*words[:i], w[:-2]]
        if _SENTENCE_END.search(w):
            return words[: i + 1]
    return words


def towns_named(text: str) -> list[Town]:
    """Each town `text` places itself in without its state, in text order (once each): the
    whole run of capitalised words after the placing word names a US city or county, or all
    of it but a state or country at its end ("in Taos New Mexico"). A run that names a
    place only in part is a name of something else ("in Home Depot"), and none is read."""
    from matcher.places.words import _state_and_country_names

    general = _state_and_country_names()
    out: dict[str, Town] = {}
    found = sorted([*_PLACED.finditer(text), *_OPENING.finditer(text)], key=lambda m: m.start(1))
    for m in found:
        words = _run(m.group(1).split())
        for n in range(len(words), 0, -1):
            rest = key(" ".join(words[n:]).rstrip(".,;:!?'’"))
            if rest and rest not in general:
                continue  # what follows the name is not its state: no town alone
            said = " ".join(words[:n]).rstrip(".,;:!?'’")
            k = key(said)
            if not said or k in general or k in _not_towns():
                continue
            places = _places_of(said)
            if places:
                out.setdefault(k, Town(said, places))
                break
    return list(out.values())


def _candidates(text: str, holds: Callable[[str], bool] | None) -> list[tuple[str, Entry]]:
    """The places the text's towns could be, each with the town as written: of the one state
    it names when it names one ("Families across New Mexico ... in Espanola"), else of the
    states `holds` says data is held in (when that leaves any), with any far larger town of
    that name elsewhere (`FAMOUS_RATIO`)."""
    found = [(t.said, e) for t in towns_named(text) for e in t.places]
    if not found:
        return []
    states = states_named(text)
    if len(states) == 1:
        return [(s, e) for s, e in found if e.region in states]
    if holds is not None:
        states_held = {r for r in {e.region for _, e in found} if r and holds(r)}  # once each
        held = [(s, e) for s, e in found if e.region in states_held]
        if held:
            floor = max(FAMOUS_ZIPS, FAMOUS_RATIO * max(max(e.weight for _, e in held), 1))
            found = held + [
                (s, e) for s, e in found if e.region not in states_held and e.weight >= floor
            ]
    return _dominant(found)


def _dominant(found: list[tuple[str, Entry]]) -> list[tuple[str, Entry]]:
    """The one of `found` far larger than those of every other state (`FAMOUS_RATIO`, at
    least FAMOUS_ZIPS: Salem, OR beside Salem, NM; Portland, OR beside Portland, ME), else
    all of them."""
    if len({e.region for _, e in found}) < 2:
        return found
    first = max(found, key=lambda se: se[1].weight)
    others = max(e.weight for _, e in found if e.region != first[1].region)
    big = first[1].weight >= max(FAMOUS_ZIPS, FAMOUS_RATIO * max(others, 1))
    return [first] if big else found


def _label(said: str, place: Entry) -> str:
    """ "Española, NM": the town as written (its accents kept), with its state."""
    return f"{said}, {place.region}" if place.region else place.label


def town_read(text: str, holds: Callable[[str], bool] | None = None) -> str | None:
    """The one place ("Taos, NM") the towns of `text` name, or None when none, or several
    states' (see `_candidates`)."""
    found = _candidates(text, holds)
    return _label(*found[0]) if len({e.region for _, e in found}) == 1 else None


def town_choices(text: str, holds: Callable[[str], bool] | None = None) -> list[str]:
    """When the towns of `text` could be in several states: the places they could be, the
    likeliest first (most ZIP codes), at most MAX_CHOICES; else none."""
    found = _candidates(text, holds)
    if len({e.region for _, e in found}) < 2:
        return []
    ranked = sorted(found, key=lambda se: -se[1].weight)
    return list(dict.fromkeys(_label(s, e) for s, e in ranked))[:MAX_CHOICES]
