"""Evaluation reports for analysts (role analyst or admin): `GET /v1/analyst/reports` lists the
reports `matcher train evaluate` and `train fit` write (training.report.write_report: `<name>.html`
and `<name>.json` in DATA_DIR/reports), newest first; `GET /v1/analyst/reports/{name}` serves a
report's page as written and `GET /v1/analyst/reports/{name}.json` its figures. Analysts opened
the files on the server by hand.

Only a file directly in DATA_DIR/reports is served: a name is one path segment of letters,
digits, '.', '_' and '-' starting with a letter or digit, and the file it names must resolve
inside that folder (a link out of it is not followed); anything else is 404 or 422."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated

import anyio
from fastapi import APIRouter, Path
from fastapi.responses import Response

from api.deps import AnalystDep, StateDep
from api.problems import ApiProblem, problem_responses
from api.schemas import REPORT_NAME_PATTERN, EvaluationReport, EvaluationReportList
from training.report import reports_dir

logger = logging.getLogger(__name__)
router = APIRouter(tags=["analyst"])

_NAME = re.compile(REPORT_NAME_PATTERN)
_STAMP = re.compile(r"-(\d{8}T\d{6})$")  # `<version>-<%Y%m%dT%H%M%S UTC>`
_VERDICT_READ_MAX = 5_000_000  # bytes of a report's JSON read for its verdict in the list
_NO_STORE = {"Cache-Control": "private, no-store"}

ReportName = Annotated[
    str,
    Path(
        pattern=REPORT_NAME_PATTERN,
        description="A name from the list (the file name without .html / .json)",
        examples=["v0002-20261206T190312"],
    ),
]


def report_file(folder: FilePath, name: str, suffix: str) -> FilePath | None:
    """The file `<name><suffix>` directly in `folder`, if it is a regular file there; None for
    any other name (a path, '..', a link resolving outside the folder)."""
    if not _NAME.match(name) or not folder.is_dir():
        return None
    path = folder / f"{name}{suffix}"
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if resolved.parent != folder.resolve() or not resolved.is_file():
        return None
    return resolved


def _created_at(name: str, files: list[FilePath]) -> datetime:
    m = _STAMP.search(name)
    if m:
        try:
            return datetime.strptime(m.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.fromtimestamp(max(f.stat().st_mtime for f in files), UTC)


def _verdict(path: FilePath | None) -> str | None:
    if path is None or path.stat().st_size > _VERDICT_READ_MAX:
        return None
    try:
        verdict = json.loads(path.read_text(encoding="utf-8")).get("verdict")
    except (OSError, ValueError, AttributeError):
        return None
    return verdict if isinstance(verdict, str) else None


def list_reports(folder: FilePath) -> list[EvaluationReport]:
    if not folder.is_dir():
        return []
    names = sorted(
        {
            p.name[: -len(p.suffix)]
            for p in folder.iterdir()
            if p.suffix in (".html", ".json") and _NAME.match(p.name[: -len(p.suffix)])
        }
    )
    out = []
    for name in names:
        page, data = report_file(folder, name, ".html"), report_file(folder, name, ".json")
        files = [f for f in (page, data) if f is not None]
        if not files:
            continue
        m = _STAMP.search(name)
        out.append(
            EvaluationReport(
                name=name,
                version=name[: m.start()] if m else None,
                created_at=_created_at(name, files),
                verdict=_verdict(data),
                html_url=f"/v1/analyst/reports/{name}" if page else None,
                json_url=f"/v1/analyst/reports/{name}.json" if data else None,
            )
        )
    out.sort(key=lambda r: (r.created_at, r.name), reverse=True)
    return out


@router.get(
    "/v1/analyst/reports",
    response_model=EvaluationReportList,
    summary="Evaluation reports written by `matcher train evaluate` and `train fit`, newest first",
    responses=problem_responses(401, 403, 429),
)
async def get_reports(state: StateDep, principal: AnalystDep) -> EvaluationReportList:
    folder = reports_dir(state.settings.data_dir)
    items = await anyio.to_thread.run_sync(list_reports, folder)
    return EvaluationReportList(items=items)


def read_report(data_dir: FilePath, name: str, suffix: str) -> bytes | None:
    """The bytes of report `name` (`suffix` .html or .json) as written, or None when there is
    no such report (`report_file`) or it cannot be read; for the API and the page alike."""
    path = report_file(reports_dir(data_dir), name, suffix)
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        logger.error("evaluation report %s unreadable: %s", path, exc)
        return None


async def _read(state: StateDep, name: str, suffix: str) -> bytes:
    body = await anyio.to_thread.run_sync(read_report, state.settings.data_dir, name, suffix)
    if body is None:
        raise ApiProblem(404, f"no evaluation report '{name}' (GET /v1/analyst/reports lists them)")
    return body


# before `/{name}`: a name may hold dots, and `{name}.json` asks for the JSON
@router.get(
    "/v1/analyst/reports/{name}.json",
    summary="An evaluation report's figures, as written",
    response_class=Response,
    responses={
        200: {"content": {"application/json": {}}, "description": "The report's JSON"},
        **problem_responses(401, 403, 404, 422, 429),
    },
)
async def get_report_json(name: ReportName, state: StateDep, principal: AnalystDep) -> Response:
    body = await _read(state, name, ".json")
    return Response(body, media_type="application/json", headers=_NO_STORE)


@router.get(
    "/v1/analyst/reports/{name}",
    summary="An evaluation report's page (HTML with inline SVG charts), as written",
    response_class=Response,
    responses={
        200: {"content": {"text/html": {}}, "description": "The report's page"},
        **problem_responses(401, 403, 404, 422, 429),
    },
)
async def get_report(name: ReportName, state: StateDep, principal: AnalystDep) -> Response:
    body = await _read(state, name, ".html")
    return Response(body, media_type="text/html; charset=utf-8", headers=_NO_STORE)
