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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class PublicRecord:
    label: str  # what the link shows
    url: str
    note: str  # what the page there gives


@dataclass(frozen=True)
class _Registry:
    source: re.Pattern[str]  # a profile's source naming a record of this registry
    label: Callable[[str], str]  # the record's number -> what the link shows
    url: Callable[[str], str]
    note: str


_REGISTRIES = (
    _Registry(
        re.compile(r"^irs:ein-(\d{9})$"),
        lambda ein: f"IRS record, EIN {ein[:2]}-{ein[2:]}",
        lambda ein: f"https://projects.propublica.org/nonprofits/organizations/{ein}",
        "address and filed returns, on ProPublica's Nonprofit Explorer",
    ),
    _Registry(
        re.compile(r"^companies:ticker-([A-Z][A-Z0-9.\-]{0,9})$"),
        lambda ticker: f"SEC filings, ticker {ticker}",
        lambda ticker: (
            "https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK=" + quote(ticker)
        ),
        "address and annual reports, on SEC EDGAR",
    ),
)


def public_records(sources: Sequence[str]) -> list[PublicRecord]:
    """The public pages of the registry records a profile came from, each once."""
    out: dict[str, PublicRecord] = {}
    for source in sources:
        for registry in _REGISTRIES:
            found = registry.source.match(source)
            if found and source not in out:
                number = found.group(1)
                out[source] = PublicRecord(
                    registry.label(number), registry.url(number), registry.note
                )
    return list(out.values())
