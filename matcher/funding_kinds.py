"""Money given and money lent: which funding an offer is, and which an ask wants.

Funding (`matcher.capabilities`) is read from words as different as "grants" and "loans". A
youth job programme asking "funding for stipends" was covered by Paychex "with its offer '...
a small-business loan resource center'" (real data walk, Portland): a loan repaid is no
stipend paid. So an offer whose words for funding only lend or invest (loans, credit,
mortgages, mutual funds) does not cover an ask for money given (funding, a grant, stipends,
donations); it still covers an ask that names lending or capital ("a low-interest loan for a
van", "working capital").
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# the pseudo capability column of the rows whose funding offer only lends or invests
# (matcher.score_columns); never a capability of its own
LENDS_ONLY = "funding:lends-only"
FUNDING = "funding"

# pooled money to invest, not to give ("mutual funds", "collateralized loan obligations, hedge
# funds, collective funds": Ameriprise)
_FUND_PRODUCTS = (
    r"(?:mutual|hedge|index|pension|collective|exchange[- ]traded|money market|closed-end"
    r"|open-end|loan|lending|investment|bond|equity|infrastructure|real estate)\s+funds?"
)
# money lent or invested, to be repaid or to earn (whole words and their forms); not "invest"
# alone: "Investing in women to foster healthier communities" gives
_FINANCES = re.compile(
    r"\b(?:loans?|lend(?:s|ing|ers?)?|micro-?(?:loans?|credit|financ\w*)|mortgages?"
    r"|financing|refinanc\w*|credit(?!\s+(?:hours?|recovery|for)\b)|underwrit\w*"
    rf"|investment (?:bank\w*|management|services|products|advis\w*)|investors?|{_FUND_PRODUCTS}"
    r"|private equity|venture capital|capital markets?"
    r"|working capital|access to capital|asset management|brokerage|wealth management)\b",
    re.IGNORECASE,
)
_NOT_GIVEN = re.compile(rf"\b{_FUND_PRODUCTS}\b", re.IGNORECASE)
# "tax credits" are a public subsidy, not a loan
_NOT_FINANCE = re.compile(r"\btax\s+credits?\b", re.IGNORECASE)
# money given (its forms; "fund" once the funds to invest are left out)
_GIVES = re.compile(
    r"\b(?:grants?|grant-?making|grantees?|donat\w*|donors?|sponsor\w*|philanthrop\w*"
    r"|scholarships?|stipends?|gifts?|endow\w*|charit\w*|contribut\w*|awards?"
    r"|foundation|giving|subsid\w*|capital campaign|fund(?:s|ing|ed|ers?)?)\b",
    re.IGNORECASE,
)


def _finances(text: str) -> bool:
    return bool(_FINANCES.search(_NOT_FINANCE.sub(" ", text)))


def lends_only(phrase: str) -> bool:
    """Whether an offer's words for funding only lend or invest (none gives money)."""
    return bool(phrase) and _finances(phrase) and not _GIVES.search(_NOT_GIVEN.sub(" ", phrase))


def asks_gift(quote: str | None, text: str = "") -> bool:
    """Whether an ask for funding (its words, as quoted) wants money given: neither it nor
    the need's `text` names lending, investing or capital ("funding for stipends", "a grant",
    "help paying rent"; "we need funding and a low-interest loan" quotes "funding" alone for
    its ask, and lenders cover it)."""
    return quote is not None and not _finances(quote) and not _finances(text)


def covers_ask(offer_phrase: str, asked_quote: str | None, text: str = "") -> bool:
    """Whether a funding offer (its phrase) covers the funding asked (its quote, in `text`)."""
    return not (asks_gift(asked_quote, text) and lends_only(offer_phrase))


def answering(
    offers: Mapping[str, str], required: Mapping[str, str], text: str = ""
) -> Mapping[str, str]:
    """One partner's `offers` as they answer the asks `required` of the need `text`: its
    funding left out when it only lends and the need wants money given."""
    phrase = offers.get(FUNDING)
    if phrase is None or covers_ask(phrase, required.get(FUNDING), text):
        return offers
    return {k: v for k, v in offers.items() if k != FUNDING}
