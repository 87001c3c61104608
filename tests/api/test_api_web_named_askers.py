"""The page says which organisation it left out as the one asking (matcher.asker_names), and
says it once: "NIKE, Inc.." ended in two full stops (helper-73's walk, 2026-12-06)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_support import quiet_api_settings, seed
from fastapi.testclient import TestClient

from api.main import create_app

SECTORS = ["business", "government", "nonprofit", "community"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    engine = seed(tmp_path_factory.mktemp("askers"))
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
