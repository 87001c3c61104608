"""Towns a need's text names without their state: "Our rural clinic in Taos needs nurses".

`matcher.places.words` reads "<Name>, <state>" ("Salem, OR"). A group that writes only its town
("in Taos", "near Medford") was searched in every state (real data walk, 2026-12-06: "In
Medford", "Espanola" without "NM"). `towns_named` finds such a name after a word that places
it ("in", "near", "around", "outside", "across"), and gives each US city or
county of that name (the gazetteer's entries, one a state), and the towns listed after it ("in
Santa Fe and Espanola"). `towns_read` reads each town whose text, or the states the caller
holds data in, leave only one state, and one of several states in the state of the towns
beside it; `town_read` is the first. `town_choices` lists the places a town could be when
none is read, so a page can ask which.

Read only as capitalised words, never a language, month, weekday or season ("in Spanish":
English is a town in Indiana; "in May"), an abstract noun a need may capitalise ("in Reserve",
"in Hope"), nor a state or country (read as such elsewhere).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
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
# a further town listed after one placed: "in Santa Fe and Espanola", "in Bend, Redmond or
# Prineville" (not after a sentence's end)
_LISTED = re.compile(r"(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&)\s+)(?:(?i:in|near)\s+)?" + _NAME)
_SENTENCE_END = re.compile(r"[.!?]$")
_POSSESSIVE = re.compile(r"['’]s$")
# a town of the states the data holds is not read when a town of that name elsewhere is far
# larger (this many times its ZIP codes, and at least FAMOUS_ZIPS): "Our shelter in Phoenix"
# on New Mexico's and Oregon's data read Phoenix, OR (real data walk); the page asks instead
FAMOUS_RATIO = 4
FAMOUS_ZIPS = 5
_COUNTY = re.compile(r"\s+(?:County|Parish|Borough)$")
MAX_CHOICES = 5
TOWN_OF_A_LANGUAGE_ZIPS = 2


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

    cities = us_gazetteer().cities
    # a language that names a town of a few ZIP codes is that town: Cheyenne, Miami, Wichita,
    # Spokane, Biloxi ("a shelter in Cheyenne" searched every state: helper-75's walk,
    # 2026-12-06); "in Navajo", "in English" (a village each) stay languages
    languages = {key(lang.name) for lang in pycountry.languages if " " not in lang.name}
    words = {
        k
        for k in languages
        if max((e.weight for e in cities.get(k, ())), default=0) < TOWN_OF_A_LANGUAGE_ZIPS
    }
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
    from matcher.places.words import _named_in_state, _state_and_country_names

    general = _state_and_country_names()
    with_state = _named_in_state(text)  # "Salem, MA" is no town alone (second review)
    out: dict[str, Town] = {}
    found = sorted([(m.start(1), m.group(1)) for m in _OPENING.finditer(text)] + _placed_runs(text))
    for at, run in found:
        if any(start <= at < end for start, end in with_state):
            continue
        words = _run(run.split())
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


def _placed_runs(text: str) -> list[tuple[int, str]]:
    """(start, words) of each run of capitalised words a placing word puts the need in, and
    of each further one listed with it ("in Santa Fe and Espanola": both; helper-72's walk,
    2026-12-06, searched near Santa Fe and said nothing of Española)."""
    runs = []
    for m in _PLACED.finditer(text):
        runs.append((m.start(1), m.group(1)))
        at = m.end(1)
        while (more := _LISTED.match(text, at)) is not None:
            runs.append((more.start(1), more.group(1)))
            at = more.end(1)
    return runs


def _candidates(text: str, holds: Callable[[str], bool] | None) -> list[tuple[str, Entry]]:
    """The places the text's towns could be, each with the town as written (see
    `_town_candidates`)."""
    states = states_named(text)
    return [c for town in towns_named(text) for c in _town_candidates(town, states, holds)]


def _town_candidates(
    town: Town, states: AbstractSet[str], holds: Callable[[str], bool] | None
) -> list[tuple[str, Entry]]:
    """The places one town could be: of the one state the text names when it names one
    ("Families across New Mexico ... in Espanola"), else of the states `holds` says data is
    held in (when that leaves any), and then the largest of them when far larger than the
    rest (`_dominant`). A far larger town of that name elsewhere (`FAMOUS_RATIO`) stays
    beside them, and the page asks which is meant: "Our shelter in Phoenix" on New Mexico's
    and Oregon's data had read Phoenix, OR (helper-72's walk), and then "Families in Las
    Vegas need rent help" read Las Vegas, NV (helper-74's walk, 2026-12-06)."""
    found = [(town.said, e) for e in town.places]
    if len(states) == 1:
        return [(s, e) for s, e in found if e.region in states]
    if holds is not None:
        states_held = {r for r in {e.region for _, e in found} if r and holds(r)}  # once each
        held = [(s, e) for s, e in found if e.region in states_held]
        if held:
            floor = max(FAMOUS_ZIPS, FAMOUS_RATIO * max(max(e.weight for _, e in held), 1))
            famous = [(s, e) for s, e in found if e.region not in states_held and e.weight >= floor]
            return _dominant(held) + famous
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
    """The place ("Taos, NM") of the first town of `text` that is of one state (see
    `_town_candidates`), or None."""
    read = towns_read(text, holds)
    return read[0] if read else None


def towns_read(text: str, holds: Callable[[str], bool] | None = None) -> list[str]:
    """The place of each town of `text` that is of one state, in text order ("Families in
    Santa Fe and Espanola": Santa Fe, NM and Espanola, NM). A town of several states is read
    in the state of the text's other towns when it has a namesake there ("Students in
    Corvallis and Albany": Albany, OR, not the larger Albany, NY; helper-74's walk)."""
    states = states_named(text)
    towns = [(t, _town_candidates(t, states, holds)) for t in towns_named(text)]
    sure = {found[0][1].region for _, found in towns if _one_state(found)}
    out = []
    for town, found in towns:
        if not _one_state(found):
            found = _dominant([(town.said, e) for e in town.places if e.region in sure])
        if _one_state(found):
            out.append(_label(*found[0]))
    return list(dict.fromkeys(out))


def _one_state(found: list[tuple[str, Entry]]) -> bool:
    return len({e.region for _, e in found}) == 1


def town_choices(text: str, holds: Callable[[str], bool] | None = None) -> list[str]:
    """When no town of `text` is of one state and its towns could be in several: the places
    they could be, the likeliest first (most ZIP codes), at most MAX_CHOICES; else none."""
    if towns_read(text, holds):
        return []
    found = _candidates(text, holds)
    if len({e.region for _, e in found}) < 2:
        return []
    ranked = sorted(found, key=lambda se: -se[1].weight)
    return list(dict.fromkeys(_label(s, e) for s, e in ranked))[:MAX_CHOICES]
