"""Helpers for the API tests: the sample slice, seeded engines, quiet settings, headers."""

from __future__ import annotations

import json
from pathlib import Path

from api.config import ApiSettings
from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data"
N_ORGS = 200


def sample_orgs(n: int = N_ORGS) -> list[Organisation]:
    out = []
    with (SAMPLE / "organisations.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if len(out) >= n:
                break
            out.append(Organisation.model_validate(json.loads(line)))
    return out


def sample_needs(n: int = 20) -> list[Need]:
    out = []
    with (SAMPLE / "needs.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if len(out) >= n:
                break
            out.append(Need.model_validate(json.loads(line)))
    return out


def make_settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, model_name="hashing-v1")


def quiet_api_settings(**overrides: object) -> ApiSettings:
    values: dict[str, object] = {
        "rate_limit_enabled": False,
        "bootstrap_sample": False,
        "bootstrap_admin_key": False,
        "load_in_background": False,
        **overrides,
    }
    return ApiSettings.model_validate(values)


def seed(data_dir: Path) -> Engine:
    engine = Engine.open(make_settings(data_dir), load=False)
    engine.store.upsert_organisations(sample_orgs())
    engine.build()
    engine.ingest_needs(sample_needs())
    return engine


def hdr(key: str, **extra: str) -> dict[str, str]:
    return {"X-API-Key": key, **extra}
