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
- "our company, Intel," ("our firm / business / organisation / charity / foundation"), "my
  company is Intel";
- "As Intel's community impact manager";
- "Intel wants ..." opening the need.

Its own foundation or fund ("Intel Foundation") is left out with it (`giving_arm_of`).
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
    r"\b(?i:my|our)\s+(?i:company|employer|firm)\s+(?i:is)\s+" + _THE + _NAME,
    # "As Nike's community impact manager", "As Intel's CSR lead"
    r"\b(?i:as)\s+" + _THE + _NAME + r"['’]s\s+(?:\S+\s+){0,3}?(?i:manager|lead|director|head"
    r"|coordinator|officer|team|representative)\b",
    # a need opening with the organisation's name and what it wants ("Nike wants to fund ...")
    r"^\s*" + _THE + _NAME + r"\s+(?i:wants|would\s+like|is\s+looking|seeks|hopes|plans|intends)\b",
)
_PATTERNS = tuple(re.compile(p) for p in _FIRST_PERSON)
# a company's legal form and such words, beside the words that name it
_FORMS = frozenset(
    ["inc", "incorporated", "llc", "ltd", "limited", "co", "corp", "corporation", "company"]
    + ["companies", "plc", "lp", "llp", "group", "holdings", "the"]
)
# an organisation's own giving arm, beside its name ("Intel Foundation", "PNM Resources
# Foundation" for PNM Resources, Inc.: helper-73's walk)
_GIVING_ARMS = ("foundation", "charitable foundation", "fund", "giving")
_SENTENCE_END = re.compile(r"(?<=\S)[.!?](?=\s+[A-Z]|\s*$)")
_TRAILING = re.compile(r"(?:['’]s|[.,;:]|\s+(?:&|and|of|the))+$")


def asker_names(text: str) -> list[str]:
    """The names `text` gives its writer's own organisation (see the module), in text order,
    each once."""
    found: dict[str, str] = {}
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            # up to the sentence's end: "I work for Nike. We want ..." named "Nike. We"
            name = _SENTENCE_END.split(m.group(1).strip(), maxsplit=1)[0]
            name = _TRAILING.sub("", name.strip())
            if name and _core(name):
                found.setdefault(_core(name), name)
    return list(found.values())


def search_words(named: str) -> str:
    """What to look the name up by in the stored names: its own words ("Nike Inc": "nike",
    which "NIKE, Inc." holds; "Lowe": "Lowe's Companies, Inc.")."""
    return _core(named) or named


def _core(name: str) -> str:
    """A name's own words, lower case, in order, without its legal form ("NIKE, Inc.": nike)."""
    return " ".join(w for w in names.words(name) if w not in _FORMS)


def same_organisation(stored: str, named: str) -> bool:
    """Whether the stored name `stored` is the organisation a text calls `named`."""
    core = _core(named)
    return bool(core) and _core(stored) == core


def askers_among(named: str, stored: list[str]) -> tuple[list[int], list[int]]:
    """(the indexes of the `stored` names that are the organisation a text calls `named`, the
    indexes of its foundations or funds). The organisation is the one stored name equal to it
    (legal form aside), else the one that starts with it ("PNM" of "PNM Resources, Inc."); none
    when several could be ("Habitat" of many Habitat for Humanity affiliates)."""
    core = _core(named)
    if not core:
        return [], []
    arm_ends = tuple(f" {arm}" for arm in _GIVING_ARMS)
    same = [i for i, n in enumerate(stored) if same_organisation(n, named)]
    if not same:
        longer = [i for i, n in enumerate(stored) if _core(n).startswith(core + " ")]
        same = [i for i in longer if not _core(stored[i]).endswith(arm_ends)]
        if not same:  # only its foundation is held ("PNM": PNM Resources Foundation Inc)
            return [], longer if len(longer) == 1 else []
    if len(same) != 1:
        return [], []
    names = [named, stored[same[0]]]
    return same, [i for i, n in enumerate(stored) if i not in same and giving_arm_of(n, names)]


def giving_arm_of(stored: str, names: list[str]) -> bool:
    """Whether the stored name `stored` is the foundation or fund of an organisation called
    by one of `names` ("Intel Foundation" of "Intel Corporation"; "PNM Resources Foundation"
    of "PNM Resources, Inc.")."""
    core = _core(stored)
    return any(core == f"{_core(n)} {arm}" for n in names if _core(n) for arm in _GIVING_ARMS)
