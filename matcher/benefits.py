"""Named public benefits: help to reach one is covered only by those who name it.

"help enrolling people in SNAP" asks for public programmes and benefits (the capability's
`sure_in_asks`). Every federal agency lists "public programme funding", so every one of them
"covered" it: FEMA, the Community Living Administration and the National Institute of Food and
Agriculture each "Covers public programmes and benefits (asked: 'help enrolling people in SNAP')
with its offer 'public programme funding'" (real data walk, Albuquerque). An ask that names a
benefit is covered only by an organisation whose profile names it (`named_in`), or whose related
programme does (the Food and Nutrition Service runs the Supplemental Nutrition Assistance
Program, which its description never names).

Each benefit is a bit; `named_in` gives a profile's bits, `asked_in` an ask's. In profiles an
acronym counts in capitals only ("Snap-on" names no SNAP); in asks, as the capability reads them,
in any case.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

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
_IN_ASKS = {k: _pattern(a, n, any_case=True) for k, (a, n) in _BENEFITS.items()}


def _bits(text: str, patterns: Mapping[str, re.Pattern[str]]) -> int:
    return sum(BITS[k] for k, p in patterns.items() if p.search(text))


def named_in(text: str) -> int:
    """The benefits a profile's text (or a programme's title) names, as bits."""
    return _bits(text, _IN_PROFILES) if text else 0


def asked_in(required: Mapping[str, str]) -> int:
    """The benefits the need's ask for public programmes names, as bits (0: it names none, and
    any organisation offering public programmes covers it)."""
    asked = required.get(CAPABILITY)
    return _bits(asked, _IN_ASKS) if asked else 0
