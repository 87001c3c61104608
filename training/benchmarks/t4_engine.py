"""T4 through the engine facade: build (or reuse) an engine data dir holding the three corpora,
then ask each need as a community group would: per-sector ranked lists and the coalition.

The filters of the coalition call are one function (`coalition_filters`) so that switching it to
a region filter, once the engine keeps national bodies under one, is a one-line change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.domain import Filters, Need, Organisation, Sector
from training.benchmarks.t4_task import T4Need, T4Task

LIST_SIZE = 5
# The NTEE codes classify exempt organisations: cause agreement ranks nonprofits (and the public
# bodies that fund their causes), not companies, whose own industry says what they do.
NTEE_SECTORS = ("nonprofit", "community", "government")


@dataclass
class NeedRun:
    """What came back for one need: per-sector ranked lists and the suggested coalition."""

    need: T4Need
    lists: dict[str, list[Any]] = field(default_factory=dict)  # sector -> Match-like items
    coalition: list[Any] = field(default_factory=list)
    asked: Need | None = None  # the Need the engine was given (for card checks)


def engine_need(need: T4Need, *, with_place: bool = True) -> Need:
    """The need as a group would ask it: text, its city and state as the place (a hard area
    filter: national bodies pass it), and the sectors it wants."""
    return Need(
        id=need.id,
        text=need.text,
        city=(need.city or None) if with_place else None,
        region=need.state if with_place else None,
        country="US" if with_place else None,
        wanted_sectors=[Sector(s) for s in need.sectors],
    )


def sector_filters(need: T4Need, sector: str) -> Filters:
    """Nonprofits: the need's state is a hard filter. Businesses and agencies are national
    (T4.md): no place filter at all for them."""
    if sector == "nonprofit":
        return Filters(sectors=[Sector.nonprofit], region=need.state, country="US")
    return Filters(sectors=[Sector(sector)])


def coalition_filters(need: T4Need) -> Filters:
    """The filters of the coalition call: the wanted sectors within the need's state; the
    engine applies them to the area each organisation serves, so national businesses and
    federal agencies pass."""
    return Filters(sectors=[Sector(s) for s in need.sectors], region=need.state, country="US")


def is_built(engine_dir: Path) -> bool:
    """True when `engine_dir` holds a database with a built organisation index."""
    if not (Path(engine_dir) / "matcher.db").is_file():
        return False
    from matcher.engine import ORG_INDEX
    from matcher.settings import Settings
    from matcher.store import Database, Store

    settings = Settings(data_dir=engine_dir)
    db = Database(settings.sqlalchemy_url)
    try:
        db.create_all()
        return Store(db).index_state(ORG_INDEX) is not None
    finally:
        db.dispose()


def open_t4_engine(
    engine_dir: Path,
    embedder: Any,
    load_organisations: Callable[[], list[Organisation]],
    *,
    rebuild: bool = False,
    progress: bool = True,
    after_store: Callable[[Any], object] | None = None,
) -> Any:
    """An Engine over `engine_dir`: loaded as built when it is built (and not `rebuild`), else
    the organisations are upserted and the index built (the engine's SQL embedding cache
    means only changed texts are embedded)."""
    from matcher.engine import Engine
    from matcher.settings import Settings

    settings = Settings(data_dir=engine_dir, cause_sectors=list(NTEE_SECTORS))
    if is_built(engine_dir) and not rebuild:
        t0 = time.perf_counter()
        engine = Engine.open(settings, embedder=embedder, load=True)
        print(f"T4 engine: loaded {engine_dir} in {time.perf_counter() - t0:.1f}s")
        return engine
    orgs = load_organisations()
    engine = Engine.open(settings, embedder=embedder, load=False)
    try:
        t0 = time.perf_counter()
        report = engine.store.upsert_organisations(orgs)
        print(
            f"T4 engine: stored {len(orgs)} organisations "
            f"({len(report.inserted)} new, {len(report.updated)} changed) "
            f"in {time.perf_counter() - t0:.1f}s; building"
        )
        if after_store is not None:
            print(f"T4 engine: {after_store(engine.store)} programmes stored with their agencies")
        print(f"T4 engine: built {engine.build(progress=progress)}")
    except BaseException:
        engine.close()
        raise
    return engine


def run_engine_t4(engine: Any, task: T4Task, limit: int = LIST_SIZE) -> list[NeedRun]:
    """Ask every need: one ranked list per wanted sector, then the coalition call."""
    runs: list[NeedRun] = []
    for need in task.needs:  # the engine embeds each text once (its query cache)
        asked = engine_need(need)
        run = NeedRun(need=need, asked=asked)
        national = engine_need(need, with_place=False)
        for sector in need.sectors:
            rec = engine.recommend(
                asked if sector == "nonprofit" else national,
                filters=sector_filters(need, sector),
                limit=limit,
            )
            run.lists[sector] = list(rec.results[:limit])
        rec = engine.recommend(asked, filters=coalition_filters(need), limit=limit)
        run.coalition = list(rec.coalition.members)
        runs.append(run)
    return runs
