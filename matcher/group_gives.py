"""What the group itself gives, in a text that also asks: never read as asked.

A company's community-giving lead wrote "We want to fund STEM and robotics programmes for high
school students in Sandoval County, and find places where our engineers can volunteer" (helper's
walk, 2026-12-06): "fund" and "volunteer" name funding and volunteers, so the answer read them as
asked and put community foundations first, funders for a funder. A clause in which the group
says it will fund, sponsor or donate, or that its people will volunteer, offers that help.
"""

from __future__ import annotations

import re

from matcher.text_cuts import cut_spans, tidy_after_cuts

# the group speaking: "we", "I", "our company", "our employees", and its name beside it ("We
# at Intel want to fund", "Our company, Kroger, wants to donate": helper-73's walk)
_WE = (
    r"(?:we|i|our\s+(?:company|firm|business|bank|foundation|team|employees|staff|people))"
    r"(?:\s+at\s+(?:the\s+)?\w[\w&.'’-]*(?:\s+\w[\w&.'’-]*){0,3}?|\s*,\s*[^,]{1,60},)?"
)
# or the clause opens with the giving (its subject cut off at a comma: "Our company, Kroger,
# wants to donate ..."), or with a name of a few words ("Kroger wants to donate ...")
_NOT_A_SPEAKER = r"(?!(?:need|needs|needed|who|that|which|to|for|with|someone|anyone|partners?)\b)"
_SPEAKER = rf"(?:\b{_WE}|^\s*(?:{_NOT_A_SPEAKER}[\w&.'’-]+\s+){{0,3}}?)"
_WILL = (
    r"(?:'d\s+like|would\s+like|want|wants|plan|plans|hope|hopes|intend|intends|aim"
    r"|are\s+ready)"
)
_SUPPORTED = (
    r"(?:non-?profits?|charities|organi[sz]ations|programs|programmes|groups|causes|initiatives"
    r"|clubs|leagues|projects)"
)
_GIVES_MONEY = re.compile(
    rf"{_SPEAKER}\s*(?:(?:{_WILL})\s+to|will|can|could)\s+(?:also\s+)?"
    r"(?:(?P<verb>fund|sponsor|donate|underwrite|grant|give\s+(?:money|funds|grants?))"
    # organisations or programmes the group will support: a giving lead's "we want to support
    # financial literacy nonprofits" asked funding, and grant-makers covered it (helper-74)
    r"|(?:support|invest\s+in|back)\s+(?:[\w-]+\s+){0,4}?" + _SUPPORTED + r")\b",
    re.IGNORECASE,
)
# money the group gives as it is ("Our foundation makes grants to food banks", "We award small
# grants for youth mentoring"): the group speaking in the first person, not a clause opening
_GIVES_MONEY_NOW = re.compile(
    rf"\b{_WE}\s+(?:also\s+|already\s+|each\s+year\s+|annually\s+)?"
    r"(?P<verb>(?:give|gives|make|makes|award|awards|offer|offers|provide|provides)\s+"
    r"(?:(?:small|annual|community|seed|competitive|matching)\s+)?"
    r"(?:grants?|funding|sponsorships?|donations)"
    # "We fund workforce development and small business programs" (helper-75's walk)
    r"|donate|donates|fund|funds|sponsor|sponsors|underwrite|underwrites)\b",
    re.IGNORECASE,
)
# a giving lead's charge ("I manage PNM Resources Foundation grants", "I run the Intel
# Foundation", "I lead community giving at Wells Fargo", "I oversee our company grants"): the
# group gives money (a grant manager of a pantry, "I manage grants for our pantry", is no funder)
_LEADS_GIVING = re.compile(
    r"\bI\s+(?:lead|run|manage|head|direct|oversee|coordinate|administer|handle)\s+"
    r"(?:(?:the|our|my|a|an|[\w&.'’-]+)\s+){0,5}?"
    r"(?P<verb>(?:community|corporate|employee|charitable|workplace)\s+giving"
    r"|grant-?making|philanthropy|(?:foundation|fund|company|corporate)(?:'s|’s)?\s+grants"
    r"|foundation\b|giving\s+program(?:me)?s?)",
    re.IGNORECASE,
)
# goods the group will give ("wants to donate surplus food to pantries"), up to what it asks
_GIVES_GOODS = re.compile(
    rf"{_SPEAKER}\s*(?:(?:{_WILL})\s+to|will|can|could)\s+(?:also\s+)?"
    r"(?:donate|give|provide|supply)\s+(?!to\b)(?P<what>.+?)"  # "donate to X": money
    r"(?=[.;:!?]|,|\b(?:and|but|so)\s+(?:we\s+|i\s+)?(?:need|want|are|seek|require|ask)|$)",
    re.IGNORECASE,
)
_GIVES_TIME = re.compile(
    r"\b(?:our|my)\s+(?:engineers|employees|staff|team|people|workers|associates|colleagues)\s+"
    r"(?:(?:can|could|will|would|want\s+to|would\s+like\s+to)\s+)volunteer"
    r"|\bemployee\s+volunteer(?:s|ing)?\b",
    re.IGNORECASE,
)


def given_by_group(text: str) -> set[str]:
    """The capabilities `text` (a clause of a need) says the group itself gives: funding ("We
    want to fund STEM", "we will sponsor"), volunteers ("our engineers can volunteer",
    "employee volunteer days"), goods it will donate or provide ("wants to donate surplus
    food": food, up to what it asks: "we want to provide meals but need a kitchen")."""
    from matcher.capabilities import capabilities_in  # it reads this module's

    out = set()
    if any(p.search(text) for p in (_GIVES_MONEY, _GIVES_MONEY_NOW, _LEADS_GIVING)):
        out.add("funding")
    if _GIVES_TIME.search(text):
        out.add("volunteers")
    for m in _GIVES_GOODS.finditer(text):
        out |= capabilities_in(m.group("what"))
    return out


def without_money_given(text: str) -> str:
    """`text` without the verbs by which the group says it gives money ("Microsoft's team
    wants to fund broadband access": "wants to broadband access"): the money a funder gives
    is no topic, and read as one it drew community foundations and grant-makers, funders
    for a funder (helper-74's walk, 2026-12-06)."""
    spans = [
        m.span("verb")
        for p in (_GIVES_MONEY, _GIVES_MONEY_NOW, _LEADS_GIVING)
        for m in p.finditer(text)
        if m.group("verb")
    ]
    return tidy_after_cuts(cut_spans(text, spans)) if spans else text
