"""Capabilities by meaning: what a need asks for and what a partner offers, matched to the
capability descriptions (matcher.capabilities) by embedding similarity, not keyword stems.

A need's asks come from its clauses, each kept with the clause that triggered it (shortened for
reasons); a sentence is never itself taken as a capability. A partner's offers by meaning come
from its profile vector and its focus phrases; the focus phrase that triggered one is kept.
Thresholds were set by reading the capabilities found for the sample needs and for the T4 dev
needs (README, "Capabilities by meaning").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matcher.capabilities import (
    CAPABILITIES,
    capabilities_in,
    given_as_goods,
    goods_given,
    ruled_out,
    surely_asked,
)
from matcher.evidence import Encode
from matcher.group_gives import given_by_group
from matcher.quotes import MAX_QUOTE_WORDS, ask_quote, mention_quote, short_phrase
from matcher.telling import asker_words, place_words, taught_words

__all__ = ["MAX_QUOTE_WORDS", "CapabilityMeaning", "short_phrase"]

ASK_THRESHOLD = 0.40  # clause vs capability description (centred cosine)
ASK_NAMED_THRESHOLD = 0.28  # ... when the clause also names it (a keyword of the vocabulary)
# ... when the clause names it only as where the help goes ("volunteers at our food bank")
ASK_WHERE_THRESHOLD = 0.55
OFFER_THRESHOLD = 0.35  # profile vs description: 2% false, 19% of listed offers (sample)
OFFER_CONFIRM_THRESHOLD = 0.25  # a keyword read in a mission counts only above this
FOCUS_OFFER_THRESHOLD = 0.45  # focus phrase vs capability description
MAX_ASKS = 5


def asked_quote(clause: str, key: str) -> str:
    """How a card quotes the clause that asks capability `key`: around the words that name it
    when the clause does and is long (T4's Wilmington funding ask: "... East Side in Delaware
    can't get bank loans", not its first eight words, "home-based businesses on Wilmington's
    East Side in Delaware ..."), else from its verb of asking or its start (`ask_quote`)."""
    if key in capabilities_in(clause):
        return mention_quote(clause, key)
    return ask_quote(clause)


class CapabilityMeaning:
    """The capability descriptions embedded once; matching is a small matrix product. A
    capability with further senses (`Capability.senses`: "transport for people" beside moving
    goods) is as close to a text as the closest of its descriptions."""

    def __init__(self, encode: Encode) -> None:
        self.keys_ = [c.key for c in CAPABILITIES]
        senses = [(k, text) for k, c in enumerate(CAPABILITIES) for text in c.senses]
        texts = [c.description for c in CAPABILITIES] + [text for _, text in senses]
        # one row a description: the capabilities' own first, in key order, then the senses
        self.vectors_ = np.asarray(encode(texts), np.float32)
        self.sense_of_ = [k for k, _ in senses]

    def similarity(self, vectors: np.ndarray) -> np.ndarray:
        """Rows x capabilities: each row's similarity to the closest description of each."""
        sims = vectors @ self.vectors_.T
        out = sims[:, : len(self.keys_)].copy()
        for j, k in enumerate(self.sense_of_):
            out[:, k] = np.maximum(out[:, k], sims[:, len(self.keys_) + j])
        return out

    def asks(
        self,
        parts: Sequence[str],
        vectors: np.ndarray,
        whole: np.ndarray | None = None,
        telling: Sequence[bool] | None = None,
    ) -> dict[str, str]:
        """Capability -> the short clause that asks for it, best matches first: a clause close
        to a capability's description, or one that names it when the clause or the whole need
        (`whole`, its vector) is fairly close to it. A named capability is confirmed by the
        whole need as a one-clause need always was: a list's short items are clauses of their
        own, which left "a shuttle to take kids to the program" alone a little short of it. A gift
        of a named good asks for that good ("donated laptops": technology) and not for what
        the gift would name as money ("food donations" is food, not funding, though near
        funding's "donations" by meaning; `matcher.gifts`). A sure word asks for its
        capability without confirmation ("low-interest loans": funding; `Capability.sure`)."""
        if not len(parts):
            return {}
        sims = self.similarity(vectors)  # clauses x capabilities
        named = sims if whole is None else np.maximum(sims, self.similarity(whole[None, :]))
        quoted = list(parts)  # each without the words naming the group, to quote
        for j, part in enumerate(parts):
            # a place or group the help is for names no ask ("hygiene supplies for the
            # shelter": no housing; "volunteers at our food bank": no food), unless the clause
            # is close to it by meaning ("beds for the shelter": housing)
            where, beside = place_words(part)
            only_where = capabilities_in(where) - capabilities_in(beside)
            for key in only_where:
                k = self.keys_.index(key)
                if sims[j, k] < ASK_WHERE_THRESHOLD:
                    sims[j, k] = min(sims[j, k], 0.0)
            for key in capabilities_in(part) - only_where:
                k = self.keys_.index(key)
                if named[j, k] >= ASK_NAMED_THRESHOLD:
                    sims[j, k] = max(sims[j, k], ASK_THRESHOLD)
            for key in surely_asked(part) - (surely_asked(where) - surely_asked(beside)):
                # "low-interest loans": funding, however far
                k = self.keys_.index(key)
                sims[j, k] = max(sims[j, k], ASK_THRESHOLD)
            for key in goods_given(part):
                sims[j, self.keys_.index(key)] = max(sims[j, self.keys_.index(key)], ASK_THRESHOLD)
            for key in given_as_goods(part):
                sims[j, self.keys_.index(key)] = min(sims[j, self.keys_.index(key)], 0.0)
            for key in given_by_group(part):  # "We want to fund STEM": the group gives it
                sims[j, self.keys_.index(key)] = min(sims[j, self.keys_.index(key)], 0.0)
            for k, key in enumerate(self.keys_):  # "personal care products": no health care
                if sims[j, k] >= ASK_THRESHOLD and ruled_out(key, part):
                    sims[j, k] = 0.0
            head, taught = taught_words(part)  # "classes on telehealth": no health care
            for key in capabilities_in(taught) - capabilities_in(head) - {"training"}:
                sims[j, self.keys_.index(key)] = min(sims[j, self.keys_.index(key)], 0.0)
            asker, rest = asker_words(part)
            quoted[j] = rest or part
            if asker:  # "Our food bank needs volunteers": the group, not its ask
                for key in capabilities_in(asker) - capabilities_in(rest) - surely_asked(rest):
                    sims[j, self.keys_.index(key)] = min(sims[j, self.keys_.index(key)], 0.0)
        if telling is not None and any(telling):  # clauses that only tell the problem
            sims[np.asarray(telling, dtype=bool)] = -np.inf
        best_clause = sims.argmax(axis=0)
        best = sims.max(axis=0)
        order = [k for k in np.argsort(-best).tolist() if best[k] >= ASK_THRESHOLD][:MAX_ASKS]
        # quoted without the words naming the group ("Our youth job programme in Portland,
        # Oregon needs ..." quoted its name for jobs: real data walk)
        return {
            self.keys_[k]: asked_quote(quoted[int(best_clause[k])], self.keys_[k]) for k in order
        }

    def offers(self, vectors: np.ndarray, threshold: float = OFFER_THRESHOLD) -> list[set[str]]:
        """Per profile vector, the capabilities its profile is about."""
        if vectors.size == 0:
            return []
        hits = self.similarity(vectors) >= threshold
        return [{self.keys_[k] for k in np.flatnonzero(row)} for row in hits]

    def focus_offers(
        self, phrases: Sequence[str], vectors: np.ndarray, threshold: float = FOCUS_OFFER_THRESHOLD
    ) -> dict[str, str]:
        """Capability -> the focus phrase (e.g. an industry) that offers it."""
        if not len(phrases):
            return {}
        sims = np.array(self.similarity(vectors), dtype=np.float64)
        for j, phrase in enumerate(phrases):
            for k, key in enumerate(self.keys_):
                if ruled_out(key, phrase):  # "Rental & Leasing Services" is close to rent
                    sims[j, k] = -np.inf
        out: dict[str, str] = {}
        for k in np.argsort(-sims.max(axis=0)).tolist():
            j = int(sims[:, k].argmax())
            if sims[j, k] >= threshold:
                out[self.keys_[k]] = phrases[j]
        return out
