"""Words that name whom a need seeks, not what it is about.

"As Lowe's community relations manager I want to find nonprofits for a home repair volunteer
program" put 501(C)PA, an accountancy for nonprofits, first among the nonprofits at 0.97, and
"... find partners for ..." put organisations named "Partnership" and "Partners" first (real
data walk, 2026-12-06): the words naming the partners sought were read as the topic, by
meaning and by words. The sector a need seeks is a filter (the page's and the API's
sectors), never a topic.

`without_sought_words` takes out of the topic:
- nonprofits, non-profits, not-for-profits, nonprofit organisations, charities, NGOs;
- partners, partner organisations, partnerships.

They stay where they are whom the help is for ("bookkeeping for nonprofits", "training to
help small nonprofits"): there an organisation serving nonprofits is the answer. A kind
before them goes with them ("local nonprofits"); a text of nothing else is left as it is.
"""

from __future__ import annotations

import re

from matcher.text_cuts import cut_spans, tidy_after_cuts

_ORGANISATIONS = r"(?:\s+(?:organi[sz]ations?|groups?|partners?|agenc(?:y|ies)))?"
_ONE = (
    r"(?:(?:non-?\s?profit|not-for-profit)s?" + _ORGANISATIONS + r"|charities|NGOs?"
    r"|partner\s+organi[sz]ations?|partners|partnerships)"
)
# a word of what kind, cut with them ("local nonprofits")
_KIND = r"(?:(?:small|smaller|local|rural|other|new|young|emerging|grassroots|community|area)\s+)?"
# a list of them is cut whole ("nonprofit groups, charities and NGOs")
_LIST = r"(?:\s*(?:,|&|\band\b|\bor\b)\s*(?:and\s+|or\s+)?" + _ONE + r")*"
_SOUGHT = re.compile(r"(?i)\b" + _KIND + _ONE + _LIST + r"(?![\w-])")
# a capitalised word just before
_NAME_BEFORE = re.compile(r"\b[A-Z][\w'’&-]*\s+$")
# whom the help is for, just before ("bookkeeping for small nonprofits")
_FOR = re.compile(
    # ("veteran-serving nonprofits" are sought, not served: helper-74's walk)
    r"(?i)(?<![\w-])(?:for|help|helps|helping|serve|serves|serving|train|training|advise|advising)\s+"
    + _KIND
    + r"$"
)
# ... unless what is before "for" seeks them ("we are looking for nonprofits")
_SEEKING_FOR = re.compile(
    r"(?i)\b(?:look|looks|looking|search|searching|ask|asking|call|calling|hope|hoping|out)"
    r"\s+for\s+" + _KIND + r"$"
)


def _for_them(text: str, at: int) -> bool:
    """Whether the words before `at` say the help is for them ("bookkeeping for")."""
    return _FOR.search(text, 0, at) is not None and _SEEKING_FOR.search(text, 0, at) is None


def _in_a_name(text: str, m: re.Match[str]) -> bool:
    """Whether the words are part of an organisation's name: capitalised after a capitalised
    word ("Catholic Charities", "Oregon Nonprofit Partners")."""
    return m.group(0)[:1].isupper() and _NAME_BEFORE.search(text, 0, m.start()) is not None


def without_sought_words(text: str) -> str:
    """`text` without the words that name the partners it seeks (see the module)."""
    spans = [
        m.span()
        for m in _SOUGHT.finditer(text)
        if not (_for_them(text, m.start()) or _in_a_name(text, m))
    ]
    if not spans:
        return text
    cut = tidy_after_cuts(cut_spans(text, spans))
    return cut if re.search(r"\w", cut) else text  # "nonprofits" alone stays its own topic
