"""The US states a company is limited to, read from its industry and business summary.

Two kinds of company work in a territory rather than the whole country:

- a regulated utility (industry "Utilities - Regulated ...", "Utilities - Diversified") serves
  a licensed territory: its home state and every state its summary names outside the sentences
  about its seat (headquarters, incorporation, former names);
- a regional bank (or savings bank) and a homebuilder work where their branches or
  communities are: limited only when the summary lists the states as where it operates ("its
  branches in New York, Pennsylvania and Ohio", "primarily serves in Maryland, Virginia, ..."),
  plus its home state. A state named otherwise ("offices in Chicago, Illinois", a segment
  called "Texas"), a list that runs on into a wider region or a country ("..., Ohio, and the
  Mid-Atlantic"), or a summary that says it works across the country ("nationwide", "across the
  United States") leaves the company national: a wrong limit would hide a real partner.
"""

from __future__ import annotations

import re
from functools import lru_cache

from matcher.domain import SERVED_REGIONS_MAX

_DASH = r"\s*[-\u2013\u2014]\s*"
# Industries whose customers are those of a licensed territory: electricity, gas and water
# distribution (Yahoo Finance's industry names, as in the S&P 500 list; GICS's "Electric
# Utilities", "Gas Utilities", "Water Utilities", "Multi-Utilities" read the same way).
_TERRITORIAL = re.compile(
    rf"^utilities{_DASH}(?:regulated|diversified)\b|^(?:electric|gas|water|multi-)\s*utilities$",
    re.IGNORECASE,
)
# Industries that work where their branches or building sites are (Yahoo's and GICS's names):
# limited only by a footprint their summary lists (`footprint_states`).
_FOOTPRINT = re.compile(
    rf"^banks{_DASH}regional\b|^regional banks$|^savings\s*(?:&|and)\s*cooperative banks$"
    rf"|^residential construction$|^homebuilding$",
    re.IGNORECASE,
)
# a state's name that names something else: "Michigan City", "Delaware River", "Washington, D.C."
_NOT_THE_STATE = (
    r"(?!\s+(?:city|county|valley|river|street|avenue|road|park|bay|basin)\b)(?!,?\s*d\.\s?c\.)"
)
# sentences about the company's seat, not where it serves: "headquartered in Springfield,
# Massachusetts", "incorporated in New Jersey", "formerly known as ..."
_SEAT = re.compile(r"headquarter|incorporated|\bfounded\b|formerly known", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.;])\s+")
# a summary saying the company works across the country: no footprint limits it
_NATIONWIDE = re.compile(
    r"\bnationwide\b|\bnationally\b|\bcoast[- ]to[- ]coast\b|\ball 50 states\b"
    r"|\b(?:across|throughout) the (?:united states|u\.\s?s\.|country|nation)\b",
    re.IGNORECASE,
)

# names of several states at once ("in the Carolinas"); wider regions ("the Midwest") are too
# loosely bounded to read as a territory
_GROUPS = {
    "carolinas": ("NC", "SC"),
    "dakotas": ("ND", "SD"),
    "new england": ("CT", "ME", "MA", "NH", "RI", "VT"),
}
# the capital as a footprint's list names it ("..., Florida, and Washington, D.C.")
_CAPITAL = r"washington,?\s*d\.\s?c\.|washington\s+dc\b"


def is_territorial(industry: str) -> bool:
    """Whether a company of this industry serves a licensed territory (a regulated utility)."""
    return bool(_TERRITORIAL.search(industry.strip()))


def works_in_a_footprint(industry: str) -> bool:
    """Whether a company of this industry works where its branches or sites are (a regional
    bank, a homebuilder): limited when its summary lists those states."""
    return bool(_FOOTPRINT.search(industry.strip()))


@lru_cache(maxsize=1)
def _state_names() -> tuple[str, dict[str, tuple[str, ...]]]:
    """(regex alternation of state and group names, lowercase name -> codes)."""
    from matcher.places import gazetteer

    _, names = gazetteer.states()
    by_name: dict[str, tuple[str, ...]] = {n.lower(): (code,) for code, n in names.items()}
    by_name.update(_GROUPS)
    alternation = "|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True))
    return alternation, by_name


@lru_cache(maxsize=1)
def _state_pattern() -> re.Pattern[str]:
    alternation, _ = _state_names()
    return re.compile(rf"\b(?:{alternation})\b{_NOT_THE_STATE}", re.IGNORECASE)


def _codes(name: str) -> tuple[str, ...]:
    """The codes of a state, group or capital name as matched."""
    if re.fullmatch(_CAPITAL, name, re.IGNORECASE):
        return ("DC",)
    return _state_names()[1][" ".join(name.split()).lower()]


def named_states(summary: str) -> list[str]:
    """The US states (codes, in order of first mention) a summary names as where the company
    works: sentences about its headquarters, incorporation or former names left out."""
    found: list[str] = []
    for sentence in _SENTENCE.split(summary):
        if _SEAT.search(sentence):
            continue
        for m in _state_pattern().finditer(sentence):
            for code in _codes(m.group(0)):
                if code not in found:
                    found.append(code)
    return found


# what a footprint's sentence says before "in <states>": its branches, where it operates or
# serves (a bank's "banking offices" are branches; other offices are not)
_CUE = (
    r"branch(?:es)?|banking (?:offices|centers|centres|locations)|financial centers"
    r"|operat(?:es|ing|ions)|serv(?:es|ing|ice areas?)|footprint|presence|market areas?"
    r"|communities|builds|homebuilding"
)
_OTHER_OFFICE = re.compile(r"(?<!banking )(?<!branch )\boffices?\b", re.IGNORECASE)
# "Eastern Pennsylvania", "parts of Ohio", "the Commonwealth of Virginia"
_QUALIFIER = (
    r"(?:(?:north|south)?(?:east|west)(?:ern)?|(?:north|south)(?:ern)?|central|upstate"
    r"|downstate|(?:most|much|parts|portions) of|the (?:state|commonwealth)s? of)\s+"
)
_SEPARATOR = r"(?:\s*,\s*(?:and\s+|as well as\s+)?|\s+and\s+|\s+as well as\s+)"


def _listed_state() -> str:
    """A state, group or the capital as a footprint's list names it."""
    alternation, _ = _state_names()
    return rf"(?:{_CAPITAL}|\b(?:{alternation})\b{_NOT_THE_STATE})"


@lru_cache(maxsize=1)
def _listed_pattern() -> re.Pattern[str]:
    return re.compile(_listed_state(), re.IGNORECASE)


@lru_cache(maxsize=1)
def _wider_region() -> re.Pattern[str]:
    """A region wider than a state ("the Southeast", "Mid-Atlantic markets"), not a part of one
    ("Southeastern Pennsylvania"): a footprint that names one is not bounded by its states."""
    alternation, _ = _state_names()
    return re.compile(
        r"\b(?:mid-?atlantic|mid-?west(?:ern)?|(?:north|south)(?:east|west)(?:ern)?"
        r"|great lakes|great plains|gulf coast|sun ?belt|mountain west|(?:east|west) coast"
        rf"|pacific northwest|appalachia)\b(?!\s+(?:{alternation})\b)",
        re.IGNORECASE,
    )


@lru_cache(maxsize=1)
def _footprint_pattern() -> re.Pattern[str]:
    state = _listed_state()
    item = rf"(?:{_QUALIFIER})*(?:the\s+)?{state}"
    return re.compile(
        rf"\b(?:{_CUE})\b(?P<gap>[^.;]{{0,80}}?)\bin\s+(?:the\s+states?\s+of\s+)?"
        rf"(?P<states>{item}(?:{_SEPARATOR}{item})*)"
        # the list runs on into something that is no state ("..., and the Mid-Atlantic",
        # "..., Ohio, and Ontario"): its footprint is wider than the states it names
        rf"(?P<more>{_SEPARATOR}(?:the\s+)?(?-i:[A-Z]))?",
        re.IGNORECASE,
    )


def footprint_states(summary: str) -> list[str] | None:
    """The states (codes, in order) a summary lists as where the company's branches are or
    where it operates or serves; None when it lists none, when a list runs on past the states
    it names, when it also works in a region wider than a state, or when the summary says it
    works across the country."""
    if _NATIONWIDE.search(summary):
        return None
    found: list[str] = []
    for sentence in _SENTENCE.split(summary):
        if _SEAT.search(sentence):
            continue
        if _wider_region().search(sentence):
            return None
        for m in _footprint_pattern().finditer(sentence):
            if _OTHER_OFFICE.search(m.group("gap")):
                continue
            if m.group("more"):
                return None
            for s in _listed_pattern().finditer(m.group("states")):
                for code in _codes(s.group(0)):
                    if code not in found:
                        found.append(code)
    return found or None


def served_regions(industry: str, summary: str, home: str) -> list[str]:
    """The states a company is limited to: a regulated utility's home state (a utility's seat
    is in its territory) and the states its summary names; a regional bank's or homebuilder's
    home state and the footprint its summary lists, when it lists one; [] for every other
    company (its service level decides)."""
    if is_territorial(industry):
        named = named_states(summary)
    elif works_in_a_footprint(industry):
        listed = footprint_states(summary)
        if listed is None:
            return []
        named = listed
    else:
        return []
    from matcher.places.resolve import state_code

    seat = state_code(home)
    states = ([seat] if seat else []) + named
    return list(dict.fromkeys(states))[:SERVED_REGIONS_MAX]
