"""Businesses whose trade works against the need: never suggested for it, and the answer says so.

A need about children's asthma from wildfire smoke listed Philip Morris International and
Altria first among businesses (real data walk, Medford, 2026-12-06): "smoke-free products" and
"smokeable" sit close to "smoke" by meaning. Health bodies do not partner with the tobacco
industry (WHO Framework Convention on Tobacco Control, article 5.3), recovery and youth
programmes keep apart from alcohol and gambling sellers, and a group shown such a partner stops
trusting the list. Each conflict names the industries (a company's focus areas, as importers
write them) and the words of a need they conflict with; it is a hard constraint, like a filter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_YOUNG = r"child\w*|kids?|youths?|teens?|teenagers?|young people|students?|schools?|minors?"
# not "recovery" alone (a wildfire's recovery is no addiction's), nor "substances" alone
# (hazardous ones)
_ADDICTION = (
    r"addict\w*|sobri\w*|sober|substance (?:use|abuse|misuse)|rehab\w*|in recovery"
    r"|recovery (?:home|house)s?"
)


def _naming(*words: str) -> re.Pattern[str]:
    """A need naming any of these (regular expressions, whole words, any case)."""
    return re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Conflict:
    industries: tuple[str, ...]  # focus areas (lowercase) naming the trade
    label: str  # how the answer names the businesses left out
    about: str  # what in the need they conflict with, in the answer's words
    words: re.Pattern[str]  # a need naming any of these is about it


CONFLICTS: tuple[Conflict, ...] = (
    Conflict(
        ("tobacco",),
        "tobacco companies",
        "health, fire safety or young people",
        _naming(
            # people's health, not a river's ("restore river health"); smoking, not smoke.
            # Fire safety: smoking materials are the leading cause of home fire deaths in the US
            # (NFPA), and Philip Morris and Altria were the first businesses for "Older
            # residents in Coos Bay need smoke detectors installed" (real data walk, 2026-12-06)
            r"smoke (?:detectors?|alarms?)|fire (?:safety|prevention)|(?:home|house) fires?"
            # breathing smoke: "seniors ... no air conditioning during smoke days. We want ...
            # air purifiers" put Altria in the coalition (helper's walk, 2026-12-06)
            r"|(?:wildfire|fire) smoke|smoke (?:days?|exposure|season)|smoky"
            r"|air (?:purifiers?|filters?|filtration|quality)"
            r"|(?<!river )(?<!soil )(?<!forest )(?<!ocean )(?<!watershed )(?<!ecosystem )"
            r"(?<!financial )(?<!economic )(?<!fiscal )health\w*|asthma\w*|lungs?|breath\w*"
            r"|respirat\w*|smoking|smokers?"
            r"|cigarettes?|nicotine|tobacco|vap(?:e|es|ing)"
            r"|cancer\w*|clinics?|hospitals?|medic\w*|patients?|pregnan\w*",
            _YOUNG,
        ),
    ),
    Conflict(
        ("beverages - wineries & distilleries", "beverages - brewers", "distillers & vintners"),
        "alcohol makers",
        "addiction, recovery or young people",
        _naming(_ADDICTION, r"alcohol\w*|drunk\w*|dui|underage", _YOUNG),
    ),
    Conflict(
        ("gambling", "resorts & casinos", "casinos & gaming"),
        "gambling and casino companies",
        "addiction, recovery or young people",
        _naming(_ADDICTION, r"gambl\w*|betting", _YOUNG),
    ),
)


def conflicts_of(text: str, asked: Sequence[str] = ()) -> list[Conflict]:
    """The conflicts a need is about: its text names one of their words (a need asking health
    services is about health)."""
    health = "healthcare" in asked
    return [c for c in CONFLICTS if c.words.search(text) or (health and "health" in c.about)]


def withheld_line(conflict: Conflict) -> str:
    """What the answer says of the businesses a conflict leaves out."""
    return f"{conflict.label}, for a need about {conflict.about}"
