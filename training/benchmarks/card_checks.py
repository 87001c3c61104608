"""Checks of a recommendation card (a Match's reasons and covers) that a reader would flag.

Pure functions: `card_problems(match, need)` returns the problems of one card, each a
`CardProblem(kind, detail)`. Kinds:

- `contradiction`: a reason says the partner covers X and another says it does not cover X, or
  a capability is in `covers` and also listed as not covered;
- `unreadable_offer`: a quoted offer phrase that is not a short readable phrase (more than
  MAX_OFFER_CHARS characters or MAX_OFFER_WORDS words, or mostly upper-case letters: a shouted
  fragment of a mission statement);
- `shared_stop_word`: "shared terms" listing a stop word (the English list of the lexical
  index, matcher.index.analyzer, the same as sklearn's, plus a few
  profile boiler-plate words);
- `shared_place_name`: "shared terms" listing a place name (the need's city or state, or a US
  state name): a shared place says nothing about fit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from matcher.index.analyzer import STOP_WORDS as ENGLISH_STOP_WORDS

KINDS = ("contradiction", "unreadable_offer", "shared_stop_word", "shared_place_name")
MAX_OFFER_CHARS = 80
MAX_OFFER_WORDS = 12
MAX_UPPER_SHARE = 0.6  # of the letters of a phrase with at least MIN_LETTERS_FOR_CASE letters
MIN_LETTERS_FOR_CASE = 6
EXTRA_STOP_WORDS = frozenset(
    {"since", "focus", "focuses", "offers", "offer", "seeks", "also", "including", "within"}
)
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | EXTRA_STOP_WORDS

US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin",
    "WY": "Wyoming",
}  # fmt: skip
# Words of multi-word state names too common to mean the place on their own.
_GENERIC_PLACE_WORDS = frozenset({"new", "north", "south", "west", "of", "island", "district"})
STATE_NAME_WORDS = frozenset(
    w for name in US_STATES.values() for w in name.lower().split() if w not in _GENERIC_PLACE_WORDS
)

# "Covers 'X' with its offer 'Y'." (earlier cards) or "Covers <capability> (asked: 'X') with its
# offer 'Y'." / "Covers <capability> (asked: 'X'): its profile is about this."
_COVERS = re.compile(r"^Covers '(?P<asked>.*?)' with its offer '(?P<offer>.*)'\.?$", re.S)
_COVERS_NAMED = re.compile(
    r"^Covers (?P<name>[^(']+?) \(asked: '(?P<asked>.*?)'\)"
    r"(?: with its offer '(?P<offer>.*)'\.?|: .*)$",
    re.S,
)
_NOT_COVERED = re.compile(r"^Does not cover: (?P<items>.*?)\.?$", re.S)
_QUOTED = re.compile(r"'([^']*)'")
_SHARED = re.compile(r"\(shared terms: (?P<terms>[^)]*)\)")


@dataclass(frozen=True)
class CardProblem:
    kind: str
    detail: str


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").split())


def _capability_names(key: str) -> set[str]:
    names = {_norm(key)}
    try:
        from matcher import capabilities

        names.add(_norm(capabilities.label(key)))
    except Exception:  # noqa: BLE001 - an unknown key is still compared by its own name
        pass
    return names


def covered_phrases(reasons: Sequence[str]) -> list[str]:
    """What every "Covers ..." reason says is covered: the capability it names, or the quoted
    X of "Covers 'X' with its offer '...'"."""
    out: list[str] = []
    for r in reasons:
        if m := _COVERS_NAMED.match(r.strip()):
            out.append(m.group("name"))
        elif m := _COVERS.match(r.strip()):
            out.append(m.group("asked"))
    return out


def asked_phrases(reasons: Sequence[str]) -> list[str]:
    """The quoted asks of "Covers <capability> (asked: 'X') ..." reasons."""
    return [m.group("asked") for r in reasons if (m := _COVERS_NAMED.match(r.strip()))]


def offer_phrases(reasons: Sequence[str]) -> list[str]:
    """The quoted offer of every "Covers ... with its offer 'Y'" reason."""
    out: list[str] = []
    for r in reasons:
        m = _COVERS_NAMED.match(r.strip()) or _COVERS.match(r.strip())
        if m and m.group("offer") is not None:
            out.append(m.group("offer"))
    return out


def not_covered_phrases(reasons: Sequence[str]) -> list[str]:
    """The items of every "Does not cover: 'A'; 'B'." or "Does not cover: a, b." reason."""
    out: list[str] = []
    for r in reasons:
        m = _NOT_COVERED.match(r.strip())
        if m:
            items = m.group("items")
            out.extend(_QUOTED.findall(items) or [i.strip() for i in items.split(",")])
    return out


def shared_terms(reasons: Sequence[str]) -> list[str]:
    out: list[str] = []
    for r in reasons:
        for m in _SHARED.finditer(r):
            out.extend(t.strip().lower() for t in m.group("terms").split(",") if t.strip())
    return out


def unreadable(phrase: str) -> str | None:
    """Why a quoted phrase is not a short readable phrase, or None when it is."""
    if len(phrase) > MAX_OFFER_CHARS:
        return f"{len(phrase)} characters"
    if len(phrase.split()) > MAX_OFFER_WORDS:
        return f"{len(phrase.split())} words"
    letters = [c for c in phrase if c.isalpha()]
    if len(letters) >= MIN_LETTERS_FOR_CASE:
        upper = sum(c.isupper() for c in letters) / len(letters)
        if upper > MAX_UPPER_SHARE:
            return f"{upper:.0%} upper-case"
    return None


def place_words(city: str | None, region: str | None) -> frozenset[str]:
    """Lower-case words naming the need's city and state, and single US state-name words."""
    words = set(STATE_NAME_WORDS)
    for part in (city or "", US_STATES.get((region or "").upper(), region or "")):
        words.update(w for w in re.findall(r"[a-z][a-z'\-]*", part.lower()) if len(w) > 2)
    return frozenset(words)


def card_problems(match: Any, need: Any) -> list[CardProblem]:
    """The problems of one card. `match`: anything with `reasons` (and optionally `covers`);
    `need`: anything with `city` and `region` (matcher.domain.Match and Need)."""
    reasons = [str(r) for r in getattr(match, "reasons", [])]
    problems: list[CardProblem] = []
    not_covered = {_norm(p) for p in not_covered_phrases(reasons)}
    reported: set[str] = set()
    for asked in covered_phrases(reasons):
        if _norm(asked) in not_covered and _norm(asked) not in reported:
            reported.add(_norm(asked))
            problems.append(CardProblem("contradiction", f"covers and does not cover '{asked}'"))
    for key in getattr(match, "covers", []) or []:
        hit = (_capability_names(str(key)) & not_covered) - reported
        if hit:
            reported |= hit
            problems.append(
                CardProblem("contradiction", f"'{key}' is in covers and listed as not covered")
            )
    for offer in [*offer_phrases(reasons), *asked_phrases(reasons)]:
        why = unreadable(offer)
        if why:
            problems.append(CardProblem("unreadable_offer", f"'{offer[:60]}' ({why})"))
    places = place_words(getattr(need, "city", None), getattr(need, "region", None))
    for term in shared_terms(reasons):
        if term in STOP_WORDS:
            problems.append(CardProblem("shared_stop_word", term))
        elif term in places:
            problems.append(CardProblem("shared_place_name", term))
    return problems


def count_by_kind(cards: Iterable[Sequence[CardProblem]]) -> dict[str, int]:
    """Per kind, the number of cards with at least one problem of that kind; `any`: cards with
    any problem; `cards`: all cards."""
    counts: Counter[str] = Counter()
    total = 0
    for problems in cards:
        total += 1
        kinds = {p.kind for p in problems}
        counts.update(kinds)
        counts["any"] += bool(kinds)
    return {"cards": total, "any": counts["any"], **{k: counts[k] for k in KINDS}}
