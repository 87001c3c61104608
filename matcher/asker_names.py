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
from matcher.text_cuts import cut_spans, tidy_after_cuts

# a name: a capitalised word, then up to four more ("&", "and", "of" and "the" between them)
_NAME = r"([A-Z][\w&.'’-]*(?:\s+(?:&|and|of|the|[A-Z][\w&.'’-]*)){0,4})"
_THE = r"(?i:the\s+)?"
_LEADS = r"(?i:run|lead|manage|head|coordinate|direct|oversee|handle)"
# what a company's giving lead is in charge of
_GIVING_ROLE = (
    r"(?i:giving|impact|relations|affairs|engagement|investments?|philanthropy|philanthropies"
    r"|grants|grantmaking|CSR|outreach|partnerships|sustainability|responsibility"
    r"|volunteering|citizenship)"
)
# a need's opening word that is no name ("As Nike's community impact manager")
_NOT_A_WORD_OF_SPEECH = r"(?!(?i:as|we|our|my|i|in|at|for|on|with)\b)"
# a company's giving office, named after it
_GIVING_OFFICE = (
    r"(?i:community\s+(?:affairs|relations|giving|impact|investments?)"
    r"|corporate\s+(?:giving|responsibility|citizenship|philanthropy|affairs)"
    r"|philanthropy|philanthropies|CSR|social\s+impact)"
)
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
    # a need opening with the organisation's name and what it wants ("Nike wants to fund ...",
    # "PNM Resources foundation wants ...": its giving arm, however written)
    r"^\s*"
    + _THE
    + r"("
    + _NAME[1:-1]
    + r"(?:\s+(?i:foundation|fund))?)"
    + r"\s+(?i:wants|would\s+like|is\s+looking|seeks|hopes|plans|intends)\b",
)
# a role at the organisation, named with it: who asks, whole ("As Lowe's community relations
# manager I want ..." drew networking associations by "community relations")
_ROLES = (
    # "As Nike's community impact manager", "As Intel's CSR lead"
    r"\b(?i:as)\s+" + _THE + _NAME + r"['’]s\s+(?:\S+\s+){0,3}?(?i:manager|lead|director|head"
    r"|coordinator|officer|team|representative)\b",
    # a giving role at or for it ("I lead community giving at Wells Fargo", "I run community
    # impact for Nike", "I manage PNM Resources Foundation grants": helper-74's walk)
    r"\b(?i:I|we)\s+"
    + _LEADS
    + r"\s+(?:[\w-]+\s+){0,2}?"
    + _GIVING_ROLE
    + r"\s+(?:(?i:team|programs?|efforts?)\s+)?(?i:at|for)\s+"
    + _THE
    + _NAME,
    r"\b(?i:I|we)\s+" + _LEADS + r"\s+(?i:the\s+)?" + _NAME + r"\s+" + _GIVING_ROLE + r"\b",
    # "We are the Starbucks community team", "We're the Intel Foundation"
    r"\b(?i:we\s+are|we['’]re)\s+the\s+"
    + _NAME
    + r"(?=\s+(?:[\w-]+\s+){0,2}?(?i:team|staff|office|department)\b|\s*[.,;]|\s+(?i:and)\b)",
    # a need opening with the company's team or its employees ("Microsoft's philanthropy team
    # wants ...", "Bank of America employee volunteers want ...")
    r"^\s*" + _THE + _NAME + r"['’]s\s+(?:[\w-]+\s+){0,2}?(?i:team|staff|office|department)\b",
    r"^\s*" + _THE + _NAME + r"\s+(?i:employees?|staff|associates)(?:\s+(?i:volunteers?))?\b",
    # a need headed by the company and its giving role ("Lockheed Martin corporate
    # responsibility: we seek ...")
    r"^\s*" + _THE + _NAME + r"\s+(?:[\w-]+\s+){0,2}?" + _GIVING_ROLE + r"\s*(?:[:,;]|\s-)",
    # ... or by a company's giving office however it goes on ("Walgreens community affairs in
    # Santa Fe wants ...": helper-74's walk)
    r"^\s*" + _THE + _NOT_A_WORD_OF_SPEECH + _NAME + r"\s+" + _GIVING_OFFICE + r"\b",
    # a need headed by the giving role at it ("Employee giving at Costco: we want ...")
    r"^\s*(?:[\w-]+\s+){0,2}?"
    + _GIVING_ROLE
    + r"\s+(?i:at|for)\s+"
    + _THE
    + _NAME
    + r"(?=\s*(?:[:,;]|\s-))",
)
# (pattern, whether its whole match is who asks rather than the name alone)
_PATTERNS = tuple((re.compile(p), False) for p in _FIRST_PERSON) + tuple(
    (re.compile(p), True) for p in _ROLES
)
# a company's legal form and such words, beside the words that name it
_FORMS = frozenset(
    ["inc", "incorporated", "llc", "ltd", "limited", "co", "corp", "corporation", "company"]
    + ["companies", "plc", "lp", "llp", "group", "holdings", "the"]
)
# an organisation's own giving arm, beside its name ("Intel Foundation", "PNM Resources
# Foundation" for PNM Resources, Inc.: helper-73's walk)
_GIVING_ARMS = ("foundation", "charitable foundation", "fund", "giving")
_SENTENCE_END = re.compile(r"(?<=\S)[.!?](?=\s+[A-Z]|\s*$)")
_POSSESSIVE = re.compile(r"['’]s\b")
_TRAILING = re.compile(r"(?:['’]s|[.,;:]|\s+(?:&|and|of|the))+$")


def _named(text: str) -> list[tuple[str, int, int]]:
    """(name, start, end) of each name `text` gives its writer's own organisation, in text
    order; start-end covers the name as written, with its possessive ("Lowe's")."""
    found: list[tuple[str, int, int]] = []
    for pattern, whole in _PATTERNS:
        for m in pattern.finditer(text):
            raw = m.group(1)
            # up to the sentence's end: "I work for Nike. We want ..." named "Nike. We"
            name = _SENTENCE_END.split(raw.strip(), maxsplit=1)[0]
            name = _TRAILING.sub("", name.strip())
            if name and _core(name):
                start = m.start(1) + raw.index(name)
                end = start + len(name)
                possessive = _POSSESSIVE.match(text, end)
                if whole:
                    start, end = m.start(), m.end()
                elif possessive:
                    end = possessive.end()
                found.append((name, start, end))
    return sorted(found, key=lambda f: f[1])


# weaker forms, whose name is taken only when it is one stored company's (the caller checks):
# "Cigna volunteers want to help ...", "Otis community team: we want ..." (helper-75's walk,
# 2026-12-06); "Hospice volunteers want ..." and "Youth soccer team:" name no company
_PERHAPS = tuple(
    re.compile(p)
    for p in (
        r"^\s*"
        + _THE
        + _NOT_A_WORD_OF_SPEECH
        + _NAME
        + r"\s+(?i:volunteers|employee\s+volunteers)\s+(?i:want|wants|would|are|hope|plan|seek)\b",
        r"^\s*"
        + _THE
        + _NOT_A_WORD_OF_SPEECH
        + _NAME
        + r"\s+(?:[\w-]+\s+){0,2}?(?i:team|staff|office)\s*(?:[:,;]|\s-)",
    )
)


def perhaps_asker_names(text: str) -> list[str]:
    """The names the weaker forms give (`_PERHAPS`), in text order, each once: who asks only
    when they name one stored company (`askers_among`)."""
    found: dict[str, str] = {}
    for pattern in _PERHAPS:
        for m in pattern.finditer(text):
            name = _TRAILING.sub("", m.group(1).strip())
            if name and _core(name):
                found.setdefault(_core(name), name)
    return list(found.values())


def asker_names(text: str) -> list[str]:
    """The names `text` gives its writer's own organisation (see the module), in text order,
    each once."""
    found: dict[str, str] = {}
    for name, _, _ in _named(text):
        found.setdefault(_core(name), name)
    return list(found.values())


def without_asker_names(text: str) -> str:
    """`text` without the names it gives its writer's own organisation: who asks is not what
    is asked ("I work for Nike. We want to support youth sports ..." drew sportswear makers
    by its meaning, and "As Lowe's community relations manager ..." a home improvement
    retailer)."""
    spans = [(start, end) for _, start, end in _named(text)]
    return tidy_after_cuts(cut_spans(text, spans)) if spans else text


def parent_name(named: str) -> str | None:
    """The organisation whose giving arm `named` is ("PNM Resources foundation": "PNM
    Resources"), or None: a foundation asking is offered neither itself nor its company."""
    words = named.split()
    for arm in sorted(_GIVING_ARMS, key=len, reverse=True):
        size = len(arm.split())
        if len(words) > size and " ".join(words[-size:]).lower() == arm:
            return " ".join(words[:-size])
    return None


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
