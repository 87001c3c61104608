"""The organisation a need names as the one asking: "We at Nike want to support youth sports".

A company's giving lead who wrote "I run Intel's community giving in Rio Rancho ..." was offered
Intel Corporation as the first business and as a member of the coalition; "We at Nike want to
support youth sports programmes" offered NIKE, Inc. first (real data walk, 2026-12-06). Unless
"Searching as" named the company, nothing told the service who was asking. `asker_names` reads
the names a text gives its writer's organisation in the first person; `same_organisation`
says whether a stored name is that name (legal suffixes aside: "Nike" is "NIKE, Inc.", "Intel"
is "Intel Corporation"). The engine leaves such an organisation out, as it leaves out the
requester, and says so.

Only these first-person forms are read, with the name in capitals:
- "we at Nike", "we here at Nike", "us at Nike";
- "I run / lead / manage / head / coordinate / direct Intel's ...";
- "I work / volunteer at (or for) Intel", "I'm with Intel", "we are from Intel";
- "on behalf of Intel";
- "our company, Intel," ("our firm / business / organisation / charity / foundation").
"""

from __future__ import annotations

import re

from matcher import names

# a name: a capitalised word, then up to four more ("&", "and", "of" and "the" between them)
_NAME = r"([A-Z][\w&.'’-]*(?:\s+(?:&|and|of|the|[A-Z][\w&.'’-]*)){0,4})"
_THE = r"(?i:the\s+)?"
_FIRST_PERSON = (
    r"\b(?i:we|us)\s+(?i:here\s+)?(?i:at)\s+" + _THE + _NAME,
    r"\b(?i:I|we)\s+(?i:run|lead|manage|head|coordinate|direct|oversee)\s+(?i:the\s+)?"
    + _NAME
    + r"['’]s\b",
    r"\b(?i:I|we)\s+(?i:work|volunteer)\s+(?i:at|for)\s+" + _THE + _NAME,
    r"\b(?i:I\s+am|I['’]m|we\s+are|we['’]re)\s+(?i:with|from)\s+" + _THE + _NAME,
    r"\b(?i:on\s+behalf\s+of)\s+" + _THE + _NAME,
    r"\b(?i:our)\s+(?i:company|firm|business|organi[sz]ation|charity|foundation),?\s+" + _NAME,
)
_PATTERNS = tuple(re.compile(p) for p in _FIRST_PERSON)
# a company's legal form and such words, beside the words that name it
_FORMS = frozenset(
    ["inc", "incorporated", "llc", "ltd", "limited", "co", "corp", "corporation", "company"]
    + ["plc", "lp", "llp", "group", "holdings", "the"]
)
_TRAILING = re.compile(r"(?:['’]s|[.,;:]|\s+(?:&|and|of|the))+$")


def asker_names(text: str) -> list[str]:
    """The names `text` gives its writer's own organisation (see the module), in text order,
    each once."""
    found: dict[str, str] = {}
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            name = _TRAILING.sub("", m.group(1).strip())
            if name and _core(name):
                found.setdefault(_core(name), name)
    return list(found.values())


def _core(name: str) -> str:
    """A name's own words, lower case, in order, without its legal form ("NIKE, Inc.": nike)."""
    return " ".join(w for w in names.words(name) if w not in _FORMS)


def same_organisation(stored: str, named: str) -> bool:
    """Whether the stored name `stored` is the organisation a text calls `named`."""
    core = _core(named)
    return bool(core) and _core(stored) == core
