"""Named public benefits: help to reach one is covered only by those who name it.

"help enrolling people in SNAP" asks for public programmes and benefits (the capability's
`sure_in_asks`). Every federal agency lists "public programme funding", so every one of them
"covered" it: FEMA, the Community Living Administration and the National Institute of Food and
Agriculture each "Covers public programmes and benefits (asked: 'help enrolling people in SNAP')
with its offer 'public programme funding'" (real data walk, Albuquerque). An ask that names a
benefit is covered only by an organisation whose profile names it (`named_in`), or whose related
programme does (the Food and Nutrition Service runs the Supplemental Nutrition Assistance
Program, which its description never names).

The programmes counted are all of the organisation's, not only the one closest to the need:
the Food and Nutrition Service's closest programme to a pantry's need is "Team Nutrition
Grants", yet it runs SNAP; a group listing "help enrolling people in SNAP" beside a text that
never names it found no one covering it (real data walk, Albuquerque).

Each benefit is a bit; `named_in` gives a profile's bits, `asked_in` an ask's. In profiles an
acronym counts in capitals only ("Snap-on" names no SNAP); in asks, as the capability reads them,
in any case.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from matcher.need_reading import quote_core

if TYPE_CHECKING:
    from matcher.domain import Organisation

# the capability a named benefit asks (matcher.capabilities)
CAPABILITY = "public_programmes"

# benefit -> (acronyms, in capitals; names and plain words, any case)
_BENEFITS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "snap": (
        ("SNAP", "EBT"),
        (
            "food stamp",
            "supplemental nutrition assistance",
            "electronic benefit transfer",
            "electronic benefits transfer",
        ),
    ),
    "wic": (("WIC",), ("women, infants, and children", "women, infants and children")),
    "medicaid": ((), ("medicaid",)),
    "medicare": ((), ("medicare",)),
    "tanf": (("TANF",), ("temporary assistance for needy families",)),
    "liheap": (("LIHEAP",), ("low income home energy assistance", "low-income home energy")),
}
BITS: dict[str, int] = {k: 1 << i for i, k in enumerate(_BENEFITS)}
# how a benefit is named to the group: its first acronym, else its key ("Medicaid")
NAMES: dict[str, str] = {k: acr[0] if acr else k.capitalize() for k, (acr, _) in _BENEFITS.items()}
# between the titles of an organisation's programmes for several benefits asked, in one offer
TITLES_JOIN = "\n"
_SENTENCE_END = re.compile(r"[.;!?](?:\s+|$)|\n")


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in words)


def _pattern(
    acronyms: tuple[str, ...], names: tuple[str, ...], *, any_case: bool
) -> re.Pattern[str]:
    parts = []
    if acronyms:
        flag = "(?i:" if any_case else "(?:"
        parts.append(flag + _alternation(acronyms) + r")(?![A-Za-z0-9])")
    if names:
        parts.append("(?i:" + _alternation(names) + ")")
    return re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(parts) + ")")


_IN_PROFILES = {k: _pattern(a, n, any_case=False) for k, (a, n) in _BENEFITS.items()}
_ANY_NAME = "(?:" + _alternation(tuple(w for a, n in _BENEFITS.values() for w in (*a, *n))) + ")s?"
# benefits named one after another ("SNAP, WIC and Medicaid"): one ask, not several clauses
LISTED = re.compile(
    rf"(?<![A-Za-z0-9]){_ANY_NAME}(?:(?:\s*,\s*(?:(?:and|or)\s+)?|\s+(?:and|or)\s+){_ANY_NAME})+"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_IN_ASKS = {k: _pattern(a, n, any_case=True) for k, (a, n) in _BENEFITS.items()}


def _bits(text: str, patterns: Mapping[str, re.Pattern[str]]) -> int:
    return sum(BITS[k] for k, p in patterns.items() if p.search(text))


def names_of(bits: int) -> list[str]:
    """The benefits `bits` holds, as the group would name them, in a fixed order."""
    return [NAMES[k] for k, bit in BITS.items() if bits & bit]


def bit_named(name: str) -> int:
    """The bit of a benefit as `names_of` names it (0: none)."""
    return next((BITS[k] for k, n in NAMES.items() if n == name), 0)


def key_of(bit: int) -> str:
    """The key one benefit's coverage is counted under in a coalition (`CAPABILITY` and the
    benefit: "public_programmes:medicaid")."""
    return CAPABILITY + ":" + next(k for k, b in BITS.items() if b == bit)


def split_bits(bits: int) -> list[int]:
    """Each benefit of `bits` alone, in a fixed order."""
    return [bit for bit in BITS.values() if bits & bit]


def named_in(text: str) -> int:
    """The benefits a profile's text (or a programme's title) names, as bits."""
    return _bits(text, _IN_PROFILES) if text else 0


def share_named(title: str, bits: int) -> float:
    """How much of a programme's title is the name of one of the benefits `bits` (1.0: the
    title is the name): "Temporary Assistance for Needy Families" is the benefit itself, the
    "ARRA - Emergency Contingency Fund for Temporary Assistance for Needy Families (TANF) State
    Program" a fund beside it."""
    best = 0
    for key, pattern in _IN_PROFILES.items():
        if BITS[key] & bits:
            best = max([best, *(len(m.group(0)) for m in pattern.finditer(title))])
    return best / max(len(title.strip()), 1)


def asked_in(required: Mapping[str, str], text: str = "") -> int:
    """The benefits the need's ask for public programmes names, as bits (0: it names none, and
    any organisation offering public programmes covers it): in the words quoted for it, and
    in the sentence of the need's `text` they are from ("help enrolling in SNAP and Medicaid"
    was quoted as "... help enrolling in SNAP", and the agency running Medicaid did not cover
    it, real data walk)."""
    asked = required.get(CAPABILITY)
    if not asked:
        return 0
    bits = in_ask(asked)
    core = quote_core(asked)
    if text and core:
        for sentence in _SENTENCE_END.split(text):
            if core in sentence.lower():
                bits |= in_ask(sentence)
    return bits


def in_ask(text: str) -> int:
    """The benefits a part of a need names, read as an ask (acronyms in any case)."""
    return _bits(text, _IN_ASKS)


def of_profile(org: Organisation) -> int:
    """The benefits an organisation's profile names (its name, description and offers)."""
    return named_in(" ".join([org.name, org.description, *org.offers]))


@dataclass(frozen=True)
class AskedBenefits:
    """A request's ask naming benefits: their bits, and per catalog position of an organisation
    running a programme that names one, that programme's title."""

    bits: int
    # position -> the titles (joined by TITLES_JOIN) of its programmes for the benefits asked,
    # one a benefit it runs: what it runs is what they name
    programmes: Mapping[int, str]

    def covering(self, profile_bits: int, position: int) -> int:
        """The benefits asked that one partner covers: the ones its profile names and the
        ones its programmes do (the Food and Nutrition Service runs SNAP and WIC, the Centers
        for Medicare & Medicaid Services names Medicaid)."""
        return (profile_bits | named_in(self.programmes.get(position, ""))) & self.bits

    def only(self, bit: int) -> AskedBenefits:
        """This ask as if it named one of its benefits alone (who offers that one)."""
        return AskedBenefits(bit, {p: t for p, t in self.programmes.items() if named_in(t) & bit})

    def named(self, profile_bits: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Per position: whether its profile (`profile_bits`, the positions' `benefits_`
        column) or one of its programmes names a benefit asked."""
        runs = np.fromiter(self.programmes, dtype=np.int64, count=len(self.programmes))
        return ((profile_bits & self.bits) != 0) | np.isin(positions, runs)

    def offers(
        self, offers: Mapping[str, str], profile_bits: int, position: int
    ) -> Mapping[str, str]:
        """One partner's `offers` as they answer this ask: public programmes kept when its
        profile names a benefit asked, said as the benefits it names ("Medicaid"); else said
        as its programme that does ("Supplemental Nutrition Assistance Program", not "public
        programme funding" beside a closest programme "Team Nutrition Grants"); else left
        out."""
        if CAPABILITY not in offers:
            return offers
        if profile_bits & self.bits:
            # said as the benefits its profile names: the Centers for Medicare & Medicaid
            # Services covered "with its offer 'public programme funding'" (real data walk)
            return {**offers, CAPABILITY: ", ".join(names_of(profile_bits & self.bits))}
        title = self.programmes.get(position)
        if title is not None:
            return {**offers, CAPABILITY: title}
        return {k: v for k, v in offers.items() if k != CAPABILITY}
