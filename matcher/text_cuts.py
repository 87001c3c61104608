"""Taking words out of a need's text: what is left once its places, its writer's own name,
the partners it seeks or the money it gives are cut (`matcher.need_reading.topic_text`).

Each reader finds its spans; `cut_spans` takes them out and joins what is left with single
spaces; `tidy_after_cuts` mends the punctuation a cut leaves behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_EMPTY_COMMA = re.compile(r",\s*,")
_SPACE_BEFORE_STOP = re.compile(r"\s+([.,;:!?])")


def cut_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` without the character spans `spans` (start, end), in any order, overlapping or
    not; what is left is joined by single spaces. `text` itself when there is nothing to cut."""
    parts: list[str] = []
    at = 0
    for start, end in sorted(spans):
        if end <= at:  # inside a span already cut
            continue
        parts.append(text[at : max(start, at)])
        at = end
    if not parts:
        return text
    parts.append(text[at:])
    return " ".join(" ".join(parts).split())


def tidy_after_cuts(text: str) -> str:
    """`text` after words were taken out: no space before a stop or comma, no empty commas
    ("Our company, , wants": "Our company, wants")."""
    return _SPACE_BEFORE_STOP.sub(r"\1", _EMPTY_COMMA.sub(",", text)).strip(" ,;:")
