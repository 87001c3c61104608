"""The people a partner is for, when its name says it serves one group of people only.

The Veterans Affairs Department came among the first five federal partners for youth sports in
Portland, a domestic violence shelter, an eviction defence clinic and isolated older adults
(helper-74's walk and the T4 lists, 2026-12-06): its long description names housing, health,
jobs and schooling, so its meaning is near most needs, yet it serves veterans. A partner whose
name says whom it serves (veterans and the military; American Indians, Alaska Natives, Native
Hawaiians and tribes) fits a need that names none of them less well: it may still help, but it
is not the first to call. `of_name` gives a name's groups, `of_need` a need's; the score takes
POPULATION_PENALTY off a partner for a need naming none of its groups
(`matcher.score_arrays.score_all`, `matcher.score.score_candidate`), and the card says why.

Only the name is read: a description naming veterans among many others ("including veterans
and seniors") does not make a partner one group's.
"""

from __future__ import annotations

import re

# what a partner for a need naming none of its people loses from its score (scores of the first
# few partners of a sector are often within 0.02 of each other)
POPULATION_PENALTY = 0.04

# group -> (words in a partner's name, words in a need's text); whole words, any case
_GROUPS: dict[str, tuple[str, str]] = {
    "veterans": (
        r"veterans?|vfw|amvets|american\s+legion",
        r"veterans?|vets|vfw|military|service\s*members?|soldiers|troops|army|navy|air\s+force"
        r"|marines|national\s+guard|gold\s+star|deployed|deployment",
    ),
    "native": (
        r"indian|tribal|tribes?|native\s+americans?|alaska\s+natives?|native\s+hawaiians?"
        r"|indigenous",
        r"indian|tribal|tribes?|natives?|indigenous|reservations?|pueblos?|rancherias?"
        r"|first\s+nations?|navajo|din[eé]|hopi|zuni|apache|lakota|dakota\s+sioux|sioux"
        r"|cherokee|blackfeet|crow\s+nation|northern\s+cheyenne|shoshone|arapaho|ute"
        r"|hawaiian|alaska\s+natives?",
    ),
}
# the armed services' public bodies serve the military too ("Defense Intelligence Agency" came
# for youth jobs and a girls' coding club in T4's lists, "Air Force Department" for youth
# sports); of government bodies only (the Salvation Army, the Environmental Defense Fund), and
# not the Corps of Engineers (the registry's "Engineers Corps"), a partner in floods
_ARMED_SERVICES = re.compile(
    r"\b(?:defen[cs]e|army(?!\s+corps\s+of\s+engineers)|navy|air\s+force|marine\s+corps"
    r"|military)\b",
    re.IGNORECASE,
)
BITS: dict[str, int] = {g: 1 << i for i, g in enumerate(_GROUPS)}
LABELS: dict[str, str] = {
    "veterans": "veterans and the military",
    "native": "American Indians, Alaska Natives or Native Hawaiians",
}
_IN_NAMES = {g: re.compile(rf"\b(?:{names})\b", re.IGNORECASE) for g, (names, _) in _GROUPS.items()}
_IN_NEEDS = {g: re.compile(rf"\b(?:{words})\b", re.IGNORECASE) for g, (_, words) in _GROUPS.items()}


def of_name(name: str, government: bool = False) -> int:
    """The bits of the groups of people a partner's name says it serves ("Veterans Affairs
    Department": veterans; "Indian Health Service": native; a `government` body of the armed
    services, "Air Force Department": veterans and the military); 0 for none."""
    bits = _bits(_IN_NAMES, name)
    if government and _ARMED_SERVICES.search(name):
        bits |= BITS["veterans"]
    return bits


def of_need(text: str) -> int:
    """The bits of the groups of people a need's text names ("homeless veterans": veterans)."""
    return _bits(_IN_NEEDS, text)


def unnamed(partner_bits: int, need_bits: int) -> bool:
    """Whether a partner serves groups of people (its bits) of which the need names none."""
    return partner_bits != 0 and partner_bits & need_bits == 0


def labels(bits: int) -> list[str]:
    """The groups of `bits`, as a card says them."""
    return [LABELS[g] for g, bit in BITS.items() if bits & bit]


def _bits(patterns: dict[str, re.Pattern[str]], text: str) -> int:
    return sum(BITS[g] for g, p in patterns.items() if p.search(text))
