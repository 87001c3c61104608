"""Where a user can read an organisation's public record, for its address and how to reach it.

Profiles imported from registries carry no contact details (the IRS file gives a name, a city
and a mission; the S&P list a summary), so an organiser who found a partner had nowhere to go
next (helper's walk, 2026-12-06). A profile's `sources` name the registry record it came from;
the organisation page links to that record's public page:

- an IRS record ("irs:ein-850116950"): ProPublica's Nonprofit Explorer, which shows the
  organisation's address and its filed returns (Form 990s name officers and a website);
- a company listed by ticker ("companies:ticker-AVB"): the SEC's EDGAR filings, whose reports
  give the company's address and investor contacts.

The links open in the user's browser; the service itself fetches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

_EIN = re.compile(r"^irs:ein-(\d{9})$")
_TICKER = re.compile(r"^companies:ticker-([A-Z][A-Z0-9.\-]{0,9})$")


@dataclass(frozen=True)
class PublicRecord:
    label: str  # what the link shows
    url: str
    note: str  # what the page there gives


def public_records(sources: Sequence[str]) -> list[PublicRecord]:
    """The public pages of the registry records a profile came from, each once."""
    out: dict[str, PublicRecord] = {}
    for source in sources:
        ein = _EIN.match(source)
        if ein:
            number = ein.group(1)
            out.setdefault(
                source,
                PublicRecord(
                    f"IRS record, EIN {number[:2]}-{number[2:]}",
                    f"https://projects.propublica.org/nonprofits/organizations/{number}",
                    "address and filed returns, on ProPublica's Nonprofit Explorer",
                ),
            )
        ticker = _TICKER.match(source)
        if ticker:
            symbol = ticker.group(1)
            out.setdefault(
                source,
                PublicRecord(
                    f"SEC filings, ticker {symbol}",
                    "https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK="
                    + quote(symbol),
                    "address and annual reports, on SEC EDGAR",
                ),
            )
    return list(out.values())
