"""`matcher recommend --batch needs.jsonl`: one need per line, with the field names of
POST /v1/recommendations, plus an optional `id` to tell the answers apart.

A line with an unknown field, a bad value or bad JSON is rejected with its line number and the
field named (exit code 1); the other lines are answered. The names older batch files used
(`sectors`, `capabilities`, `requester`, `near`) are still read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from matcher.cli_common import UsageError, dumps, notice, one_line, open_engine
from matcher.domain import Filters, Need, Sector, SizeBand
from matcher.errors import PlaceError, field_of_model_check, plain_message
from matcher.settings import Settings

MAX_LIMIT = 100  # as the API
# older batch names -> the API's
LEGACY = {"sectors": "wanted_sectors", "capabilities": "required_capabilities"}
_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class BatchFilters(BaseModel):
    """`filters` of POST /v1/recommendations."""

    model_config = _STRICT

    country: str | None = Field(None, pattern=r"^[A-Za-z]{2,3}$")
    region: str | None = Field(None, min_length=1, max_length=200)
    sizes: list[SizeBand] = Field(default_factory=list, max_length=4)
    exclude_ids: list[str] = Field(default_factory=list, max_length=100)


class BatchNeed(BaseModel):
    """One line: the body of POST /v1/recommendations and an optional id."""

    model_config = _STRICT

    id: str | None = Field(None, min_length=1, max_length=128)
    text: str = Field(min_length=3, max_length=5_000)
    title: str | None = Field(None, max_length=300)
    place: str | None = Field(None, min_length=1, max_length=200)
    city: str | None = Field(None, min_length=1, max_length=200)
    region: str | None = Field(None, min_length=1, max_length=200)
    country: str | None = Field(None, pattern=r"^[A-Za-z]{2,3}$")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    radius_km: float | None = Field(None, gt=0, le=20_000)
    wanted_sectors: list[Sector] = Field(default_factory=list, max_length=5)
    required_capabilities: list[str] = Field(default_factory=list)
    requester_id: str | None = Field(None, min_length=1, max_length=128)
    limit: int = Field(10, ge=1, le=MAX_LIMIT)
    filters: BatchFilters | None = None

    @model_validator(mode="after")
    def _coords(self) -> BatchNeed:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together")
        if self.radius_km is not None and self.lat is None and not self.place and not self.city:
            # as the API: measured from lat and lon, the place's point or the city's
            raise ValueError(
                "radius_km needs a point to measure from: lat and lon, place, or city with "
                "its region or country"
            )
        return self

    def need_and_filters(self) -> tuple[Need, Filters | None]:
        data = self.model_dump(exclude={"limit", "filters", "place"}, exclude_none=True)
        if self.place is not None:
            if "place" not in Need.model_fields:
                raise ValueError(
                    "place: place names are not supported by this installation; "
                    "give city, region and country, or lat and lon"
                )
            data["place"] = self.place
        need = Need.model_validate(data)
        filters = None
        if self.filters is not None:
            filters = Filters.model_validate(self.filters.model_dump())
        return need, filters


def _legacy(data: dict[str, Any]) -> dict[str, Any]:
    """The older batch names, renamed (a line giving both spellings is rejected)."""
    out = dict(data)
    for old, new in [*LEGACY.items(), ("requester", "requester_id")]:
        if old in out:
            if new in out:
                raise ValueError(f"{old}: give {new} or {old}, not both")
            out[new] = out.pop(old)
    if "near" in out:
        if "lat" in out or "lon" in out:
            raise ValueError("near: give lat and lon or near, not both")
        near = out.pop("near")
        if isinstance(near, dict):
            out["lat"], out["lon"] = near.get("lat"), near.get("lon")
        elif isinstance(near, list | tuple) and len(near) == 2:
            out["lat"], out["lon"] = near
        else:
            raise ValueError("near: expected [lat, lon] or {lat, lon}")
    return out


def parse_line(line: str) -> tuple[str | None, Need, Filters | None, int]:
    """(id, need, filters, limit) of one line; ValueError naming the field otherwise."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(data, dict):
        raise ValueError("each line must be a JSON object")
    try:
        item = BatchNeed.model_validate(_legacy(data))
        need, filters = item.need_and_filters()
    except ValidationError as exc:
        raise ValueError(_errors(exc)) from None
    except PlaceError as exc:  # a place (or a radius's city) that names no one place
        raise ValueError(str(exc)) from None
    return item.id, need, filters, item.limit


def _errors(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e["loc"]) or field_of_model_check(e["msg"]) or "line"
        if e["type"] == "extra_forbidden":
            parts.append(f"{where}: unknown field (see `matcher recommend --help`)")
        else:
            parts.append(f"{where}: {plain_message(e['msg'])}")
    return "; ".join(parts)


def recommend_batch(args: argparse.Namespace, settings: Settings) -> int:
    if not args.batch.exists():
        raise UsageError(f"no such file: {args.batch}")
    parsed: list[tuple[str | None, Need, Filters | None, int]] = []
    errors: list[dict[str, Any]] = []
    lines = args.batch.read_text(encoding="utf-8", errors="replace").splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            parsed.append(parse_line(line))
        except ValueError as exc:
            errors.append({"line": n, "error": one_line(exc)})
    for e in errors:
        notice(f"{args.batch}: line {e['line']}: {e['error']}")
    recs = []
    if parsed:
        engine = open_engine(settings, "recommend --batch")
        recs = engine.recommend_batch(
            [p[1] for p in parsed],
            [p[2] for p in parsed],
            limit=max(p[3] for p in parsed),
            progress=True,
        )
    from matcher.cli_commands import match_json, notices_json

    out_lines = [
        dumps(
            {
                "id": nid if nid is not None else need.id,
                "results": [match_json(m) for m in rec.results[:limit]],
                **notices_json(rec),  # "food bank": few_words, as the API says
            }
        )
        for (nid, need, _, limit), rec in zip(parsed, recs, strict=True)
    ]
    out_lines += [dumps({"line": e["line"], "error": e["error"]}) for e in errors]
    text = "\n".join(out_lines) + "\n"
    if args.out:
        from matcher.atomic import atomic_write_text

        atomic_write_text(Path(args.out), text)
        notice(f"{len(recs)} needs answered, {len(errors)} rejected -> {args.out}")
    else:
        sys.stdout.write(text)
    return 1 if errors else 0
