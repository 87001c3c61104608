"""An imported organisation's page links to its public registry record (helper's walk,
2026-12-06): IRS and S&P profiles carry no address, phone or website, so an organiser who
found a partner had nowhere to go next."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.web.public_records import public_records
from matcher.domain import Organisation
from matcher.engine import Engine


def test_the_records_a_profile_came_from() -> None:
    found = public_records(["irs:ein-850116950", "irs:ein-850116950", "companies:ticker-BRK.B"])
    assert [r.url for r in found] == [
        "https://projects.propublica.org/nonprofits/organizations/850116950",
        "https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK=BRK.B",
    ]
    assert found[0].label == "IRS record, EIN 85-0116950"
    # records of no known public page, or malformed ones, give none
    assert public_records(["fedreg:269", "registered", "irs:ein-12", "companies:acme"]) == []


def test_the_organisation_page_links_to_its_public_record(tmp_path: Path) -> None:
    from api.main import create_app
    from tests.api.api_support import make_settings, quiet_api_settings

    engine = Engine.open(make_settings(tmp_path), load=False)
    engine.store.upsert_organisations(
        [
            Organisation(
                id="ein-850116950",
                name="Legal Aid",
                sector="nonprofit",
                description="Free legal help for tenants.",
                sources=["irs:ein-850116950"],
            ),
            Organisation(
                id="own",
                name="Own Group",
                sector="community",
                description="Tenant organising.",
                website="https://own.example.org",
            ),
        ]
    )
    engine.build()
    app = create_app(engine.settings, quiet_api_settings(warm_up=False), engine=engine)
    with TestClient(app) as client:
        irs = client.get("/organisations/ein-850116950").text
        own = client.get("/organisations/own").text
    engine.close()
    assert "<dt>Public record</dt>" in irs
    assert 'href="https://projects.propublica.org/nonprofits/organizations/850116950"' in irs
    assert "lists no contact details" in irs
    assert "<dt>Public record</dt>" not in own and "own.example.org" in own
