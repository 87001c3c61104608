"""Engine fixtures: a small hand-written corpus and an engine on the model-free embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.settings import Settings

PORTLAND = (45.52, -122.68)
SEATTLE = (47.61, -122.33)


def _org(
    i: str, name: str, sector: str, desc: str, where: tuple[float, float], **kw: object
) -> Organisation:
    region = "Oregon" if where == PORTLAND else "Washington"
    city = "Portland" if where == PORTLAND else "Seattle"
    return Organisation.model_validate(
        {
            "id": i,
            "name": name,
            "sector": sector,
            "description": desc,
            "lat": where[0],
            "lon": where[1],
            "city": city,
            "region": region,
            "country": "US",
            **kw,
        }
    )


def small_corpus() -> list[Organisation]:
    return [
        _org(
            "fb-pdx",
            "Portland Community Food Bank",
            "nonprofit",
            "Food bank distributing groceries and hot meals to hungry families.",
            PORTLAND,
            offers=["food parcels", "volunteer drivers"],
            needs=["grant funding", "warehouse space"],
            focus_areas=["food insecurity"],
        ),
        _org(
            "fb-sea",
            "Seattle Food Bank",
            "nonprofit",
            "Food bank distributing groceries and hot meals to hungry families.",
            SEATTLE,
            offers=["food parcels"],
            needs=["grant funding"],
            focus_areas=["food insecurity"],
        ),
        _org(
            "groc-pdx",
            "Rose City Grocers",
            "business",
            "Grocery chain donating surplus fresh food and produce to food banks.",
            PORTLAND,
            offers=["surplus fresh produce", "refrigerated delivery vans"],
            needs=["community outreach", "staff volunteering"],
            size="large",
        ),
        _org(
            "bank-pdx",
            "Columbia Savings Bank",
            "business",
            "Community bank offering small business loans and grants.",
            PORTLAND,
            offers=["grant funding", "financial advice"],
            needs=["community outreach"],
            size="medium",
        ),
        _org(
            "city-pdx",
            "Portland City Council Food Programme",
            "government",
            "City government running public food programmes and permits for food sharing.",
            PORTLAND,
            offers=["public programme funding", "permits"],
            needs=["delivery partners"],
        ),
        _org(
            "jobs-sea",
            "Seattle Workforce Agency",
            "government",
            "State agency providing job training and apprenticeships.",
            SEATTLE,
            offers=["job training", "apprenticeships"],
            needs=["employer partners"],
        ),
        _org(
            "tenants-pdx",
            "Lents Tenants Association",
            "community",
            "Tenant association organising neighbours on housing repairs and rent.",
            PORTLAND,
            offers=["community outreach", "local volunteers"],
            needs=["legal advice"],
        ),
        _org(
            "uni-sea",
            "Puget Sound University Data Lab",
            "academic",
            "University research centre evaluating community programmes with data.",
            SEATTLE,
            offers=["research and evaluation"],
            needs=["field partners"],
        ),
        _org(
            "hidden",
            "Unpublished Org",
            "nonprofit",
            "Food bank distributing groceries to hungry families.",
            PORTLAND,
            published=False,
            offers=["food parcels"],
        ),
    ]


@pytest.fixture()
def engine_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", model_name="hashing-v1")


@pytest.fixture()
def engine(engine_settings: Settings) -> Iterator[Engine]:
    eng = Engine.open(engine_settings, load=False)
    eng.store.upsert_organisations(small_corpus())
    eng.store.upsert_needs(
        [
            Need(
                id="need-food",
                text="Families go hungry; we need fresh food and volunteers",
                lat=PORTLAND[0],
                lon=PORTLAND[1],
                city="Portland",
                requester_id="tenants-pdx",
            ),
            Need(
                id="need-jobs",
                text="Young people need job training and apprenticeships",
                city="Seattle",
                region="Washington",
            ),
        ]
    )
    eng.build()
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def sample_engine(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: object
) -> Iterator[Engine]:
    """The bundled sample on the real model, one per test module (mark users slow)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("sample") / "var")
    eng = Engine.open(settings, embedder=real_embedder, load=False)  # type: ignore[arg-type]
    assert eng.bootstrap_sample()
    yield eng
    eng.close()
