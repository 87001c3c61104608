"""The bundled invented sample corpus: counts, coverage, capabilities, known answers."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from matcher.capabilities import CAPABILITY_KEYS, capabilities_in
from matcher.domain import SECTORS, Need, Organisation

DATA = Path(__file__).resolve().parents[2] / "data"
REFERENCE = datetime.fromisoformat("2026-11-01T00:00:00+00:00")
CITIES = {
    "US": {"Portland", "Salem", "Eugene", "Bend", "Seattle", "Tacoma", "Spokane", "Oakland",
           "Sacramento", "Fresno"},
    "GB": {"Manchester", "Salford", "Bolton", "Leeds", "Bradford", "Bristol", "Glasgow"},
}  # fmt: skip


def read(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="module")
def orgs() -> list[dict[str, Any]]:
    return read("organisations.jsonl")


@pytest.fixture(scope="module")
def needs() -> list[dict[str, Any]]:
    return read("needs.jsonl")


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def test_counts_ids_and_validation(orgs: list[dict[str, Any]], needs: list[dict[str, Any]]) -> None:
    assert len(orgs) >= 1200 and len(needs) >= 80
    assert [o["id"] for o in orgs] == [f"org-{i:05d}" for i in range(1, len(orgs) + 1)]
    assert [n["id"] for n in needs] == [f"need-{i:04d}" for i in range(1, len(needs) + 1)]
    for rec in orgs:
        Organisation.model_validate(rec)
    for rec in needs:
        Need.model_validate(rec)
    size = sum((DATA / f).stat().st_size for f in ("organisations.jsonl", "needs.jsonl"))
    assert size < 5 * 1024 * 1024


def test_sector_shares_and_places(orgs: list[dict[str, Any]]) -> None:
    shares = Counter(o["sector"] for o in orgs)
    assert set(shares) == set(SECTORS)
    expected = {"nonprofit": 0.30, "business": 0.25, "government": 0.15, "community": 0.20,
                "academic": 0.10}  # fmt: skip
    for sector, share in expected.items():
        assert abs(shares[sector] / len(orgs) - share) < 0.03, (sector, shares[sector])
    by_country: dict[str, set[str]] = {}
    for o in orgs:
        by_country.setdefault(o["country"], set()).add(o["city"])
    assert by_country == CITIES
    assert {o["size"] for o in orgs} == {"micro", "small", "medium", "large"}


def test_orgs_are_near_their_city(orgs: list[dict[str, Any]]) -> None:
    centres: dict[str, list[tuple[float, float]]] = {}
    for o in orgs:
        centres.setdefault(o["city"], []).append((o["lat"], o["lon"]))
    for city, points in centres.items():
        lat = sum(p[0] for p in points) / len(points)
        lon = sum(p[1] for p in points) / len(points)
        assert max(km(lat, lon, a, b) for a, b in points) < 20, city


def test_offers_and_needs_map_to_capabilities(orgs: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for o in orgs:
        assert 2 <= len(o["offers"]) <= 5, o["id"]
        assert 1 <= len(o["needs"]) <= 4, o["id"]
        for phrase in o["offers"] + o["needs"]:
            keys = capabilities_in(phrase)
            assert keys, (o["id"], phrase)
            seen |= keys
        assert 1 <= len(o["focus_areas"]) <= 3
    assert len(seen) >= len(CAPABILITY_KEYS) - 2  # the corpus exercises nearly every capability


def test_descriptions_are_varied(orgs: list[dict[str, Any]]) -> None:
    descriptions = [o["description"] for o in orgs]
    assert len(set(descriptions)) == len(descriptions)
    assert len({o["name"] for o in orgs}) == len(orgs)
    openings = Counter(" ".join(d.split()[:2]) for d in descriptions)
    assert openings.most_common(1)[0][1] < len(orgs) * 0.1  # no dominant opening
    for d in descriptions:
        sentences = d.count(". ") + 1
        assert 2 <= sentences <= 5 and " a e" not in d, d


def test_timestamps_and_contacts(orgs: list[dict[str, Any]]) -> None:
    stamps = [datetime.fromisoformat(o["updated_at"]) for o in orgs]
    assert all(s.tzinfo is not None for s in stamps)
    assert min(stamps) >= REFERENCE - timedelta(days=3 * 366) and max(stamps) <= REFERENCE
    assert max(stamps) - min(stamps) > timedelta(days=2 * 365)
    for o in orgs:
        domain = o["website"].removeprefix("https://www.")
        assert domain.endswith((".example.org", ".example.com"))
        assert o["contact"].endswith("@" + domain)


def caps(phrases: list[str]) -> set[str]:
    return set().union(*(capabilities_in(p) for p in phrases))


def test_known_answers_in_every_city(orgs: list[dict[str, Any]]) -> None:
    for city in set().union(*CITIES.values()):
        local = [o for o in orgs if o["city"] == city]
        food_banks = [
            o
            for o in local
            if o["sector"] == "nonprofit"
            and "emergency food parcels" in o["offers"]
            and "food insecurity" in o["focus_areas"]
        ]
        grocers = [
            o
            for o in local
            if o["sector"] == "business"
            and "food insecurity" in o["focus_areas"]
            and any("surplus" in p and "food_supply" in capabilities_in(p) for p in o["offers"])
        ]
        workforce = [
            o
            for o in local
            if o["sector"] == "government"
            and "workforce" in o["focus_areas"]
            and "jobs" in caps(o["offers"])
        ]
        assert food_banks and grocers and workforce, city


def test_needs_fields(orgs: list[dict[str, Any]], needs: list[dict[str, Any]]) -> None:
    by_id = {o["id"]: o for o in orgs}
    first = needs[0]
    assert first["city"] == "Portland" and "food_supply" in first["required_capabilities"]
    with_radius = [n for n in needs if "radius_km" in n]
    assert len(with_radius) >= len(needs) * 0.7
    assert all(10 <= n["radius_km"] <= 50 for n in with_radius)
    with_caps = [n for n in needs if n.get("required_capabilities")]
    assert len(with_caps) >= len(needs) * 0.7
    assert all(set(n["required_capabilities"]) <= set(CAPABILITY_KEYS) for n in with_caps)
    assert any(n.get("wanted_sectors") for n in needs)
    requested = [n for n in needs if "requester_id" in n]
    assert 0.35 * len(needs) <= len(requested) <= 0.65 * len(needs)
    for n in requested:
        org = by_id[n["requester_id"]]
        assert org["sector"] in ("community", "nonprofit") and org["city"] == n["city"]
    assert {n["country"] for n in needs} == {"US", "GB"}
    assert len({n["text"] for n in needs}) >= 0.8 * len(needs)


def test_generator_is_deterministic(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(DATA / "generate_sample.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    for name in ("organisations.jsonl", "needs.jsonl"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
