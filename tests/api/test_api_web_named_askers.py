"""The page says which organisation it left out as the one asking (matcher.asker_names), and
says it once: "NIKE, Inc.." ended in two full stops (helper-73's walk, 2026-12-06)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_support import hdr, quiet_api_settings, seed
from fastapi.testclient import TestClient

from api.main import create_app
from matcher.domain import Organisation

SECTORS = ["business", "government", "nonprofit", "community"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    engine = seed(tmp_path_factory.mktemp("askers"))
    trade = ["Consumer Cyclical", "Footwear & Accessories"]  # only businesses hold it
    engine.ingest(
        [
            Organisation(
                id=f"shoe-{i}",
                name=name,
                sector="business",
                description=f"{name} designs athletic footwear and funds youth sports leagues.",
                focus_areas=trade,
                country="US",
                service_level="national",
            )
            for i, name in enumerate(["Stride Shoes, Inc.", "Sprint Footwear Corporation"])
        ]
    )
    app = create_app(engine.settings, quiet_api_settings(warm_up=False), engine=engine)
    with TestClient(app) as c:
        yield c
    engine.close()


def test_the_company_asking_is_named_as_left_out(client: TestClient) -> None:
    text = "We at Silverline & Co. want to fund food pantries and send volunteers."
    r = client.post("/", data={"text": text, "sectors": SECTORS})
    assert r.status_code == 200, r.text
    assert 'id="named-askers"' in r.text
    assert "names it as the one asking: Silverline &amp; Co.</p>" in r.text  # one full stop
    assert 'id="org-org-00051"' not in r.text  # not among the partners
    other = client.post("/", data={"text": "Food pantries need volunteers.", "sectors": SECTORS})
    assert 'id="named-askers"' not in other.text


def test_the_other_companies_of_its_trade_are_named_as_left_out(client: TestClient) -> None:
    """helper-73's walk (2026-12-06): a giving lead at Nike was offered Deckers, a footwear
    company as Nike, in the coalition. The page says which companies it left out."""
    text = "We at Stride Shoes want to fund youth sports leagues and send volunteers."
    r = client.post("/", data={"text": text, "sectors": SECTORS})
    assert r.status_code == 200, r.text
    assert "names it as the one asking: Stride Shoes, Inc." in r.text
    assert "Nor the other company in its line of business: Sprint Footwear Corporation.</p>" in (
        r.text
    )
    assert 'id="org-shoe-1"' not in r.text and 'id="org-shoe-0"' not in r.text
    # a company of the sample, whose focus areas are causes nonprofits hold too: no peers
    silver = "We at Silverline & Co. want to fund food pantries and send volunteers."
    r = client.post("/", data={"text": silver, "sectors": SECTORS})
    assert "names it as the one asking" in r.text and "in its line of business" not in r.text


def test_the_api_lists_the_asker_and_its_trade(client: TestClient) -> None:
    text = "We at Stride Shoes want to fund youth sports leagues and send volunteers."
    key = client.app.state.api.keys.create("askers reader", "reader")[0]  # type: ignore[attr-defined]
    r = client.post("/v1/recommendations", json={"text": text}, headers=hdr(key))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["named_askers"] == ["Stride Shoes, Inc."]
    assert body["asker_peers"] == ["Sprint Footwear Corporation"]
