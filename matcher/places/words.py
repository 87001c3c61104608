"""The words of a need's text that name places: location, never topic.

"Flooding keeps damaging homes in Dover, Delaware" must not match Dover Corporation on the word
"Dover", and a childcare need in Pawtucket must not pull every organisation with Pawtucket in its
name. `place_words` finds such spans; `topic_text` blanks them out of a text.

What counts as a place word:
- the need's own place (its city, county, state and country names), in any case;
- a capitalised name of a city or county of the need's state, of any state, or of a country;
- "<Name>, <state>" anywhere ("Dover, DE", "Great Falls, Montana"), and ZIP codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from matcher.places import gazetteer
from matcher.places.gazetteer import key, us_gazetteer
from matcher.places.resolve import Place, state_code
from matcher.text_cuts import cut_spans

_TOKEN = re.compile(r"[A-Za-z][A-Za-z.'’ʻ‘ʼ\-]*")
_ZIP = re.compile(r"\b\d{5}(?:-\d{4})?\b")
# a place's name: up to three capitalised words, which may hold accented letters ("Española,
# NM" named no place: real data walk)
_NAME = r"((?:[A-ZÀ-ÖØ-Þ][\w.'’ʻ‘ʼ\-]*\s+){0,2}[A-ZÀ-ÖØ-Þ][\w.'’ʻ‘ʼ\-]*)"
_NAMED_IN_STATE = re.compile(_NAME + r",\s*([A-Z][A-Za-z.]*(?:\s+[A-Z][a-z]+)?)")
# "<Name> <ST>" without the comma ("Our reentry program in Salem OR needs mentors"): the
# state's two-letter code in capitals only, not followed by a word in capitals ("OR WA")
_NAMED_BEFORE_CODE = re.compile(_NAME + r"\s+([A-Z]{2})(?![\w'’-]|\.\w|\s+[A-Z]{2}\b)")
MAX_WORDS = 3
# what makes a state's name a town's or county's ("Kansas City", "Delaware County")
_TOWN_OF_A_STATE_S_NAME = re.compile(r"\s+(?:City|County)\b")


@dataclass(frozen=True)
class PlaceSpan:
    start: int
    end: int
    text: str


@lru_cache(maxsize=64)
def _state_names(state: str) -> frozenset[str]:
    """Keys of the city and county names of one state ('sussex county' and 'sussex')."""
    g = us_gazetteer()
    out: set[str] = set()
    for k, entries in g.cities.items():
        if any(e.region == state for e in entries):
            out.add(k)
    for k, entries in g.counties.items():
        if any(e.region == state for e in entries):
            out.add(k)
            out.add(k.rsplit(" ", 1)[0])
    return frozenset(out)


@lru_cache(maxsize=1)
def _state_and_country_names() -> frozenset[str]:
    import pycountry

    names = {key(n) for n in gazetteer.states()[1].values()}
    names |= {key(getattr(c, "common_name", None) or c.name) for c in pycountry.countries}
    return frozenset(names | {"usa", "america"})


def _own_names(place: Place | None) -> frozenset[str]:
    if place is None:
        return frozenset()
    names = {place.city, place.county}
    if place.county:
        names.add(place.county.rsplit(" ", 1)[0])
    if place.region and state_code(place.region):
        names.add(gazetteer.states()[1].get(state_code(place.region) or "", None))
    names.add(gazetteer.country_name(place.country) if place.country else None)
    return frozenset(key(n) for n in names if n)


def place_words(text: str, place: Place | None = None) -> list[PlaceSpan]:
    """Spans of `text` that name places (see the module's docstring), in text order."""
    spans: list[tuple[int, int]] = [m.span() for m in _ZIP.finditer(text)]
    state = state_code(place.region) if place is not None and place.region else None
    own = _own_names(place)
    local = _state_names(state) if state else frozenset()
    general = _state_and_country_names()
    spans += _named_in_state(text)
    tokens = list(_TOKEN.finditer(text))
    i = 0
    while i < len(tokens):
        for n in range(min(MAX_WORDS, len(tokens) - i), 0, -1):
            first, last = tokens[i], tokens[i + n - 1]
            phrase = text[first.start() : last.end()].rstrip(".'’-")
            k = key(phrase)
            if k in own or (
                all(t.group(0)[0].isupper() for t in tokens[i : i + n])
                and (k in local or k in general)
                and len(k) > 2
            ):
                end = first.start() + len(phrase)
                if k in general and (town := _TOWN_OF_A_STATE_S_NAME.match(text, end)):
                    end = town.end()  # "Kansas City", "Oregon City": the town, not "City"
                spans.append((first.start(), end))
                i += n - 1
                break
        i += 1
    return [PlaceSpan(a, b, text[a:b]) for a, b in _merge(spans)]


def _named_in_state(text: str) -> list[tuple[int, int]]:
    """The spans of "<Name>, <state>" where the name is a city or county of that state
    ("Great Falls, Montana", "Dover, DE"; "Acme, Inc" is none)."""
    spans = []
    # in text all in capitals "SALEM OR PORTLAND" is a choice of two towns
    bare = [m for m in _NAMED_BEFORE_CODE.finditer(text) if not m.group(1).isupper()]
    matches = [*_NAMED_IN_STATE.finditer(text), *bare]
    for m in sorted(matches, key=lambda m: m.start()):
        found = _state_said(m.group(2))
        if found is None:
            continue
        st, length = found
        words = m.group(1).split()
        names = _state_names(st)
        for n in range(len(words)):  # the longest tail of the words that names a place there
            name = " ".join(words[n:])
            if key(name) in names:
                start = m.start(1) + m.group(1).index(name, len(" ".join(words[:n])))
                spans.append((start, m.start(2) + length))
                break
    return spans


def _state_said(said: str) -> tuple[str, int] | None:
    """(the state code, how many characters of `said` name it) for the words after a
    "<Name>, ": all of them ("New Mexico"), else the first ("OR. We need mentors": the next
    sentence's first word was read as part of the state, and "Salem, OR." named no place);
    a sentence's full stop is not part of it, an abbreviation's is ("D.C."). A two-letter code
    counts only in capitals ("or")."""
    words = said.split()
    for cand in (said, words[0]) if len(words) > 1 else (said,):
        c = cand[:-1] if cand.endswith(".") and "." not in cand[:-1] else cand
        st = state_code(c) if c else None
        if st and not (len(c) == 2 and not c.isupper()):
            return str(st), len(c)
    return None


def places_named(text: str) -> list[str]:
    """The distinct "<City>, <state>" places a text names, as written, in text order ("Salem,
    OR" once however often it is named; "Salem, Oregon" is the same place)."""
    out: dict[tuple[str, str], str] = {}
    for start, end in _named_in_state(text):
        said = text[start:end]
        name, comma, state = said.rpartition(",")
        if not comma:  # "Salem OR": written with the comma, as the gazetteer reads it
            name, _, state = said.rpartition(" ")
            said = f"{name}, {state}"
        out.setdefault((key(name), state_code(state.strip()) or ""), said)
    return list(out.values())


# what a held comma is while a text is cut at its commas (`hold_place_commas`); put the
# commas back with .replace(HELD_COMMA, ",")
HELD_COMMA = "\ue001"


def hold_place_commas(text: str) -> str:
    """`text` with the comma of each "<City>, <state>" as HELD_COMMA, so that cutting a need into
    clauses at its commas keeps "Portland, Oregon" in one: "Our youth job programme in
    Portland, Oregon needs employers" had made "Our youth job programme in Portland" a clause
    of its own, read as asking jobs and public programmes (real data walk)."""
    for start, end in _named_in_state(text):
        at = text.find(",", start, end)
        if at >= 0:
            text = text[:at] + HELD_COMMA + text[at + 1 :]
    return text


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@lru_cache(maxsize=1024)
def topic_text(text: str, place: Place | None = None) -> str:
    """`text` with its place words blanked out (what lexical matching should read)."""
    return cut_spans(text, [(s.start, s.end) for s in place_words(text, place)])


# a state's name before these is a river, a people, a region or a person's name, not the state
# ("Colorado River", "Alaska Natives", "Mississippi Delta", "Washington Metropolitan Area",
# "Virginia Graeme Baker Pool and Spa Safety": federal programme titles)
# and before "City" or "County" a town's or county's ("Kansas City" is Missouri's first, "Oregon
# City" is a town, "Delaware County" is Pennsylvania's or Ohio's: second review, 2026-12-06)
_NOT_THE_STATE = (
    r"(?!\s+(?:Rivers?|Natives?|Delta|Basins?|Metropolitan|Graeme|City|County)(?![A-Za-z]))"
)


@lru_cache(maxsize=1)
def _state_codes_by_name() -> dict[str, str]:
    by_name = {n.lower(): code for code, n in gazetteer.states()[1].items()}
    return by_name | {"cnmi": "MP", "district of columbia": "DC"}


@lru_cache(maxsize=1)
def _state_name_pattern() -> re.Pattern[str]:
    alternatives = sorted(_state_codes_by_name(), key=len, reverse=True)  # "West Virginia" first
    return re.compile(
        r"(?<![A-Za-z])("
        + "|".join(re.escape(n) for n in alternatives)
        + r")(?![A-Za-z])"
        + _NOT_THE_STATE,
        re.IGNORECASE,
    )


def states_named(text: str) -> frozenset[str]:
    """The codes of the US states and territories `text` names in full as places ("Nutrition
    Assistance For Puerto Rico": PR; "West Virginia" is not Virginia too; "Colorado River" and
    "Alaska Natives" name no state)."""
    codes = _state_codes_by_name()
    return frozenset(codes[m.group(1).lower()] for m in _state_name_pattern().finditer(text))
