"""Towns a need writes in lower case ("young people in new haven", "seniors in casper wy"),
offered as places to search near, never read as the need's place.

`matcher.places.towns` reads towns in capitals only: in lower case, "in need", "in home" and
"in time" are words, not places. A group that typed its town in lower case was searched in
every state, and the page said no place was given (helper-75's walk, 2026-12-06). The page now
asks instead: `towns_in_lower_case` gives the towns of the states the data holds that such words
after "in", "near" or "around" name, with a town of some size only (TOWN_ZIPS ZIP codes), or
the one the state written after it names ("casper wy").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from matcher.places.gazetteer import Entry, key, us_gazetteer
from matcher.places.resolve import state_code

# up to three lower-case words, then perhaps a state ("in casper wy", "in new haven, ct")
_PLACED = re.compile(
    r"\b(?:in|near|around|outside(?:\s+of)?)\s+([a-z][a-z.'’-]*(?:\s+[a-z][a-z.'’-]*){0,3})"
)
TOWN_ZIPS = 2  # a town this many ZIP codes large or more, unless its state is written
MAX_TOWNS = 3
# the state codes that are English words too, read as a state only written in capitals
_CODES_THAT_ARE_WORDS = frozenset({"in", "or", "me", "hi", "oh", "ok", "la", "pa", "de", "co"})


def towns_in_lower_case(text: str, holds: Callable[[str], bool] | None = None) -> list[str]:
    """The places ("Casper, WY") that lower-case words placing the need could be, the likeliest
    first, each once, at most MAX_TOWNS; none when the words name no town (see the module)."""
    from matcher.places.towns import _not_towns

    cities = us_gazetteer().cities
    found: list[tuple[int, str]] = []
    for m in _PLACED.finditer(text):
        words = m.group(1).replace(",", " ").split()
        for n in range(min(3, len(words)), 0, -1):
            k = key(" ".join(words[:n]))
            if k in _not_towns() or len(k) < 3:
                continue
            said = words[n] if len(words) > n else ""
            state = None if said in _CODES_THAT_ARE_WORDS else state_code(said)
            entries = [e for e in cities.get(k, ()) if _held(e, holds)]
            if state is not None:
                entries = [e for e in entries if e.region == state]
            elif n == 1:  # one word alone: a town of some size only ("in need", "in time")
                entries = [e for e in entries if e.weight >= TOWN_ZIPS]
            if entries:
                found += [(e.weight, e.label) for e in entries]
                break
    ranked = sorted(found, key=lambda wl: -wl[0])
    return list(dict.fromkeys(label for _, label in ranked))[:MAX_TOWNS]


def _held(entry: Entry, holds: Callable[[str], bool] | None) -> bool:
    return holds is None or (entry.region is not None and holds(entry.region))
