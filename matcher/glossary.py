"""Acronyms of US public benefits, and of the work ("STEM"), glossed in plain words before a
need is embedded.

The embedding model does not know what "SNAP" or "WIC" are: "We help families apply for WIC
and SNAP benefits" around Albuquerque found an employees' benefit association and a police
charity first, and the Social Security Administration as its government partner; written as
"food stamps", the same need found the food banks and the Food and Nutrition Service (real data
walk). `expand` writes each acronym's gloss after it ("SNAP (food stamps)") in the text that is
embedded and matched by words; `unexpand` takes the glosses out again, so reasons and quotes
read only what the group wrote. Only the acronym in capitals is glossed ("Snap" and "snap" are
other words). No gloss holds a comma or a full stop: clauses are split there.
"""

from __future__ import annotations

import re

GLOSSES: dict[str, str] = {
    "SNAP": "food stamps",
    "EBT": "food stamps card",
    "WIC": "nutrition for mothers and young children",
    "TANF": "cash assistance for needy families",
    "LIHEAP": "heating bill assistance",
    "CHIP": "health insurance for children",
    "SSI": "disability income",
    "SSDI": "disability insurance",
    "EITC": "earned income tax credit",
    "VITA": "free tax preparation",
    "FQHC": "community health center",
    "GED": "high school equivalency",
    # and an acronym of the work itself: "youth STEM programs" for Otis drew Bio-Techne,
    # Regeneron and Bio-Rad by stem cells (helper-75's walk, 2026-12-06). Not "ESL": T4's
    # refugee need, which says "English lessons" too, lost the Refugee Resettlement Office
    "STEM": "science and technology education",
}

_ACRONYM = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(GLOSSES) + r")(?![A-Za-z0-9])")
# an acronym already followed by a parenthesis keeps what the writer put there
_GLOSSED = re.compile(
    r"(?<![A-Za-z0-9])("
    + "|".join(GLOSSES)
    + r") \(("
    + "|".join(re.escape(g) for g in GLOSSES.values())
    + r")\)"
)


def expand(text: str) -> str:
    """`text` with each benefit acronym followed by its gloss: "SNAP" -> "SNAP (food stamps)",
    unless a parenthesis follows it already."""

    def gloss(m: re.Match[str]) -> str:
        after = text[m.end() : m.end() + 2]
        if after.startswith(" (") or after.startswith("("):
            return m.group(1)
        return f"{m.group(1)} ({GLOSSES[m.group(1)]})"

    return _ACRONYM.sub(gloss, text)


def unexpand(text: str) -> str:
    """`text` without the glosses `expand` writes (one a writer typed word for word after the
    acronym goes too: reasons then read the acronym alone)."""
    return _GLOSSED.sub(lambda m: m.group(1) if GLOSSES[m.group(1)] == m.group(2) else m[0], text)
