"""Is this body a historical one? A small rule set over a registry description.

A description of a current agency often tells of a predecessor that was abolished ("NIFA replaced
the former CSREES", "the DCA was renamed Defense Information Systems Agency"), so a word alone
proves nothing: every rule asks whether THIS body is the subject (or the object of an active
verb) of the ending. The body is referred to by its name (any word order: "Mines Bureau" is
"the Bureau of Mines"), an acronym the text gives it, its short name, "the <head>" where the head
word is in its name ("the Commission"), "the agency", or "it".

Rules (the first that fires gives the reason):
  ended       <self> was abolished / terminated / dissolved / disbanded / dismantled / adjourned /
              replaced by / superseded by / expired / ceased operations / went out of business
              (not when the same sentence says it was re-established or re-authorised)
  ended-by    ... to terminate / abolish / liquidate / dissolve <self>
  functions   <self>'s (or "of <self>", "its") functions / duties / responsibilities were
              transferred to ...
  renamed     <self> was renamed X, or a sentence opening "Renamed X", X not this body's name
  merged      ... combined <self> and Y to form Z / <self> was merged into Z
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

HEADS = [
    "administration",
    "agency",
    "authority",
    "board",
    "bureau",
    "center",
    "commission",
    "committee",
    "corporation",
    "council",
    "court",
    "department",
    "foundation",
    "fund",
    "institute",
    "office",
    "panel",
    "service",
    "system",
    "bank",
    "review",
    "group",
    "task",
    "force",
    "conference",
]
_STOP = frozenset(["of", "the", "for", "on", "and", "in", "to", "a", "an"])
_SENTENCE = re.compile(r"(?<=[a-z0-9\)\]][.;])\s+(?=[A-Z\"'(])|\s+_{3,}\s*")
_ENDED = re.compile(
    r"\b(?:was|were|has been|had been|is being)\s+(?:subsequently\s+|officially\s+|later\s+|"
    r"formally\s+|eventually\s+)?(?:abolished|terminated|dissolved|disbanded|dismantled|"
    r"liquidated|adjourned|discontinued|eliminated|replaced by|superseded by|succeeded by)\b"
    r"|\b(?:officially\s+)?expired\b"
    r"|\bterminated\s+(?:on|in|at|upon|following|after|as of|pursuant|effective)\b"
    r"|\bceased\s+(?:operations|to exist|its existence|to function)\b"
    r"|\bwent out of business\b",
    re.I,
)
_REVIVED = re.compile(r"re-?established|re-?authori[sz]ed|re-?initiate|re-?created|revived", re.I)
_ENDED_BY = re.compile(
    r"\b(?:to\s+)?(?:terminate|abolish|liquidate|dissolve|disband|dismantle)"
    r"(?:\s+and\s+(?:terminate|abolish|liquidate|dissolve|merge))?\s+(?P<obj>.{2,80})",
    re.I,
)
_FUNCTIONS = re.compile(
    r"(?P<subj>.{0,160}?)\b(?:functions|duties|responsibilities|powers|programs)\b"
    r"(?P<mid>.{0,120}?)\b(?:were|was)?\s*(?:officially\s+)?(?:transferred|absorbed|assumed)\b"
    r"(?!\s+(?:from|under))",
    re.I,
)
_RENAMED = re.compile(
    r"(?P<subj>^|.{0,160}?\b(?:was|were)\s+(?:\w+\s+)?)"
    r"(?i:renamed|redesignated|re-named|became known as)\s+"
    r"(?:as\s+)?(?:the\s+)?(?P<new>[A-Z][\w.,'’&\- ]{3,120}?)(?=\s+(?:by|in|on|as|under|"
    r"pursuant|effective|and\s+[a-z]+|of\s+\w+\s+\d)\b|[.;(,]|$)",
)
_RENAMED_TO = re.compile(
    r"(?i:renamed|redesignated|re-named|became known as|name was changed to)\s+(?:as\s+)?"
    r"(?:the\s+)?(?P<new>[A-Z][\w.,'’&\- ]{1,120}?)(?=\s+(?:by|in|on|as|under|pursuant|"
    r"effective|and\s+[a-z]+)\b|[.;(,]|$)"
)
_MERGED = re.compile(
    r"\b(?:combined|merged|consolidated)\s+(?P<parts>.{3,200}?)\s+(?:to form|into)\s+",
    re.I,
)
_MERGED_PASSIVE = re.compile(
    r"\b(?:was|were)\s+(?:merged|consolidated|combined)\s+(?:into|with)\b", re.I
)
_ACRONYM_AFTER = re.compile(r"\(([A-Z][A-Za-z&\-]{1,9})\)")


@dataclass(frozen=True)
class Body:
    name: str
    short_name: str = ""

    def forms(self, description: str) -> list[str]:
        """Name forms (lower case) by which the description may refer to this body."""
        out = {self.name.lower()}
        core = self.name.split(",")[0].strip()
        words = core.split()
        if len(words) > 1 and words[-1].lower() in HEADS and words[0].lower() not in HEADS:
            rest = " ".join(words[:-1])
            for prep in ("of", "of the", "on", "for"):
                out.add(f"{words[-1]} {prep} {rest}".lower())
        out.add(core.lower())
        for acronym in self.acronyms(description):
            out.add(acronym.lower())
        return sorted(out, key=len, reverse=True)

    def acronyms(self, description: str) -> set[str]:
        found: set[str] = set()
        short = self.short_name.strip()
        if short and re.fullmatch(r"[A-Z][A-Za-z]{1,9}", short):
            found.add(short)
        for m in _ACRONYM_AFTER.finditer(description):
            before = description[max(0, m.start() - 120) : m.start()]
            if self.is_named(before[-len(self.name) - 40 :]):
                found.add(m.group(1))
        letters = "".join(
            w[0] for w in re.findall(r"[A-Za-z]+", self.name) if w.lower() not in _STOP
        )
        for token in set(re.findall(r"\b[A-Z]{3,8}\b", description)):
            if sorted(token) == sorted(letters.upper()):
                found.add(token)
        return found

    def is_named(self, phrase: str) -> bool:
        """Does the phrase end with this body's full name, in any word order?"""
        mine = _content(self.name.split(",")[0])
        if not mine:
            return False
        words = re.findall(r"[A-Za-z’']+", phrase)
        for n in range(len(mine) + 2, max(len(mine) - 1, 1) - 1, -1):
            tail = [w for w in words[-n - 3 :] if w.lower() not in _STOP][-n:]
            if (
                tail
                and fuzz.token_sort_ratio(" ".join(mine), " ".join(_content(" ".join(tail)))) >= 92
            ):
                return True
        return False

    def heads(self) -> set[str]:
        return {w for w in _content(self.name) if w in HEADS} | {"agency"}


def _content(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z’']+", text.lower()) if w not in _STOP]


def refers_to_self(body: Body, phrase: str, description: str, *, at_end: bool = True) -> bool:
    """Does `phrase` (a clause's subject) name this body? With at_end, the name must close it
    ("the duties and existence of the OITT"), so "the authority to induct ... expired" does not
    count for the Selective Service System."""
    p = re.sub(r"[\s,]*(\([^)]*\))?[\s,]*$", "", phrase).strip()
    p = re.sub(r"’s$|'s$", "", p)
    low = p.lower()
    if not low:
        return False
    tail = low if not at_end else low[-160:]
    if re.search(r"(?:^|[\s,;(])(it|its)$", tail) or re.fullmatch(r"it|its", low):
        return True
    for form in body.forms(description):
        pattern = rf"\b{re.escape(form)}$" if at_end else rf"\b{re.escape(form)}\b"
        if re.search(pattern, low):
            return True
    for head in body.heads():
        pattern = rf"\bthe {head}$" if at_end else rf"\bthe {head}\b"
        if re.search(pattern, low):
            return True
    return body.is_named(p) if at_end else False


def historical_reason(name: str, description: str, short_name: str = "") -> str | None:
    """Why the description says this body no longer exists, or None when it does not."""
    body = Body(name, short_name)
    renamed: str | None = None
    for sentence in _SENTENCE.split(description):
        reason = _sentence_reason(body, sentence, description)
        if reason and not reason.startswith("renamed"):
            return reason
        if reason:
            renamed = renamed or reason
        elif renamed and any(
            _same_name(body, m.group("new"), description) for m in _RENAMED_TO.finditer(sentence)
        ):
            renamed = None  # renamed again, back to or on to this body's name
    return renamed


_SUCCESSOR = re.compile(
    r"(?:successor (?:agency )?to|(?<!was )replaced|replacing|superseded|now-defunct|"
    r"\bformer(?!ly))\s+(?:the\s+)?(?:former\s+|now-defunct\s+)?"
    r"(?P<what>[A-Z][^.;]{3,140})",
)


def predecessor_mentions(description: str) -> list[str]:
    """Text that follows "successor to", "replaced the former", "now-defunct", ...: the start
    of another body's name, which that body's own row may not say is gone."""
    return [m.group("what") for m in _SUCCESSOR.finditer(description)]


def names_predecessor(body: Body, mention: str) -> bool:
    """Does the mention open with this body's name (any word order) or its short name?"""
    mine = _content(body.name.split(",")[0])
    words = _content(re.sub(r"\([^)]*\)", " ", mention))
    short = body.short_name.strip()
    if short and re.fullmatch(r"[A-Z]{3,8}", short) and re.match(rf"{short}\b", mention):
        return True
    if len(words) < len(mine) or not mine:
        return False
    head = " ".join(words[: len(mine)])
    return fuzz.token_sort_ratio(" ".join(mine), head) >= 92


def _sentence_reason(body: Body, sentence: str, description: str) -> str | None:
    for m in _ENDED.finditer(sentence):
        clause = re.split(r"[;:]|\b(?:which|who|that|whereas|while)\b", sentence[: m.start()])[-1]
        if _REVIVED.search(sentence):
            continue
        opening = re.match(r"(.{2,160}?)\s+(?:was|were|is|has|had|failed|went)\b", sentence)
        by_opening = (
            opening is not None
            and opening.end(1) <= m.start()
            and not re.search(r"[A-Z]", sentence[opening.end(1) : m.start()])
            and refers_to_self(body, opening.group(1), description)
        )
        if by_opening or refers_to_self(body, clause, description):
            return f"ended: '{_quote(sentence, m)}'"
    for m in _ENDED_BY.finditer(sentence):
        obj = m.group("obj")
        if refers_to_self(body, obj.split(" and ")[0].split(" by ")[0], description, at_end=False):
            return f"ended-by: '{_quote(sentence, m)}'"
    for m in _FUNCTIONS.finditer(sentence):
        subj = m.group("subj") + " " + m.group("mid")
        to_self = re.match(
            r"\s*(?:in\w*\s+)?(?:to|into)\s+(?:the\s+)?(.{2,80})", sentence[m.end() :]
        )
        if to_self and refers_to_self(body, to_self.group(1), description, at_end=False):
            continue  # functions moved TO this body: it is the successor
        if re.search(r"\b(of|by)\b", m.group("mid")) and refers_to_self(
            body, m.group("mid"), description, at_end=False
        ):
            return f"functions: '{_quote(sentence, m)}'"
        if refers_to_self(body, subj, description, at_end=False) and not re.search(
            r"\b(former|other|predecessor|previous)\b", m.group("subj"), re.I
        ):
            return f"functions: '{_quote(sentence, m)}'"
    for m in _RENAMED.finditer(sentence):
        subj = m.group("subj")
        elided = subj == "" and m.start() == 0
        subject = re.sub(r"\b(?:was|were)\s+(?:\w+\s+)?$", "", subj)
        if not elided and not refers_to_self(body, subject, description):
            continue
        if not _same_name(body, m.group("new")):
            return f"renamed: '{_quote(sentence, m)}'"
    for m in _MERGED.finditer(sentence):
        parts = re.split(r",|\band\b|\bwith\b", m.group("parts"))
        if any(refers_to_self(body, part, description) for part in parts):
            rest = sentence[m.end() :]
            if not refers_to_self(body, rest[:120], description, at_end=False):
                return f"merged: '{_quote(sentence, m)}'"
    passive = _MERGED_PASSIVE.search(sentence)
    if passive and refers_to_self(body, sentence[: passive.start()], description):
        rest = sentence[passive.end() :]
        if not refers_to_self(body, rest[:120], description, at_end=False):
            return f"merged: '{_quote(sentence, passive)}'"
    return None


def _same_name(body: Body, new: str, description: str = "") -> bool:
    if new.strip() in body.acronyms(description):
        return True
    a = " ".join(_content(body.name.split(",")[0]))
    b = " ".join(_content(new))
    return fuzz.token_sort_ratio(a, b) >= 85


def _quote(sentence: str, m: re.Match[str], width: int = 90) -> str:
    start = max(0, m.start() - width // 2)
    text = sentence[start : m.end() + width // 2].strip()
    return ("…" if start else "") + text + ("…" if m.end() + width // 2 < len(sentence) else "")
