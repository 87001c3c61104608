"""Handlers of the `matcher` subcommands (parsing lives in matcher.cli)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from matcher.cli import _need_from_args
from matcher.cli_common import UsageError, dumps, notice, open_engine, set_up
from matcher.domain import Match, OfferedElsewhere, Recommendation
from matcher.errors import StorageError, ValidationError
from matcher.settings import Settings

console = Console()


def _engine(settings: Settings, command: str) -> Any:
    return open_engine(settings, command)


def _store(settings: Settings) -> Any:
    from matcher.store import Database, Store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    db.create_all()
    return Store(db)


def _kv(items: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--{what} expects FIELD=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.loaders import load_records

    if not args.file.exists():
        raise UsageError(f"no such file: {args.file}")
    try:
        report = load_records(
            args.file,
            kind=args.kind,
            format=args.format,
            mapping=_kv(args.map, "map") or None,
            defaults=_kv(args.default, "default") or None,
        )
    except (ValidationError, StorageError) as exc:
        raise UsageError(str(exc)) from exc
    stored: dict[str, int] = {}
    if not args.dry_run and report.accepted:
        store = _store(settings)
        up = (store.upsert_needs if args.kind == "need" else store.upsert_organisations)(
            report.accepted
        )
        stored = {
            "inserted": len(up.inserted),
            "updated": len(up.updated),
            "unchanged": len(up.unchanged),
        }
    rejected = [{"row": e.row, "column": e.column, "reason": e.reason} for e in report.rejected]
    # stored all the same: an address that does not geocode, a region that is no US state
    # (`matcher ingest` said nothing of them, where `train ingest` did: real data walk)
    warnings = [{"row": e.row, "column": e.column, "reason": e.reason} for e in report.warnings]
    if args.json:
        print(
            dumps(
                {
                    "file": str(args.file),
                    "rows": report.total_rows,
                    "accepted": len(report.accepted),
                    "rejected_rows": report.rejected_rows,
                    "rejected": rejected,
                    "warnings": warnings,
                    "stored": stored,
                    "dry_run": args.dry_run,
                }
            )
        )
    else:
        console.print(
            # rows, not errors: a row can have several (8 rows read "2 accepted, 7 rejected"
            # with 6 rows rejected: helper-76's walk, 2026-12-06)
            f"{args.file}: {report.total_rows} rows, {len(report.accepted)} accepted, "
            f"{report.rejected_rows} rejected"
            + (" (dry run: nothing stored)" if args.dry_run else "")
        )
        if stored:
            console.print(
                f"stored: {stored['inserted']} new, {stored['updated']} updated, "
                f"{stored['unchanged']} unchanged. Run `matcher build` to index them."
            )
        tables = ((warnings, "Warnings (rows stored all the same)"), (rejected, "Rejected rows"))
        for rows, title in tables:
            if rows:
                t = Table("row", "column", "reason", title=title)
                for r in rows[:200]:
                    t.add_row(str(r["row"]), str(r["column"] or ""), str(r["reason"]))
                console.print(t)
                if len(rows) > 200:
                    console.print(f"... and {len(rows) - 200} more (use --json for all)")
    return 1 if rejected else 0


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.engine import Engine
    from matcher.index_status import index_status

    engine = Engine.open(settings, load=False)
    progress = not args.quiet
    if progress:
        status = index_status(engine)
        work = f"about {status.to_embed} texts to embed" if status.to_embed else "nothing to embed"
        notice(f"matcher build: {status.stored} organisations, {work}")
    report = engine.build(progress=progress)
    print(dumps(report) if args.json else build_line(report))
    return 0


def build_line(report: dict[str, Any]) -> str:
    """What `matcher build` says it did. The embedded and cached counts are of texts (each
    profile and each company's offering clauses), not organisations: "11636 organisations
    (1174 embedded, 21540 from cache)" read as more cached than there were (real data walk)."""
    texts = report["embedded"] + report["from_cache"]
    return (
        f"indexed {report['organisations']} organisations as generation "
        f"{report['generation']} [{report['index']}] in {report['total_seconds']} s; "
        f"{texts} texts (profiles and offering clauses): {report['embedded']} embedded, "
        f"{report['from_cache']} from the cache"
    )


def cmd_bootstrap(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.engine import Engine

    engine = Engine.open(settings, load=False)
    if engine.store.count_organisations() == 0:
        notice("matcher bootstrap: loading the bundled sample and building its index")
        engine.bootstrap_sample()
        loaded = True
    else:
        engine = _engine(settings, "bootstrap")
        loaded = False
    s = engine.stats()
    print(
        ("loaded the bundled sample: " if loaded else "store already holds data: ")
        + f"{s['organisations']} organisations, {s['needs']} needs, index generation "
        f"{s['generation']}"
    )
    return 0


def cmd_causes(args: argparse.Namespace, settings: Settings) -> int:
    """load FILE replaces the taxonomy (a bad row rejects the file: no change); list; clear."""
    from matcher.causes import read_causes

    if args.action == "load" and args.file is None:
        raise UsageError("give the taxonomy file: matcher causes load FILE")
    if args.action != "load" and args.file is not None:
        raise UsageError(f"'{args.action}' takes no file")
    if args.action != "load" and args.describes:
        raise UsageError("--describes goes with load")
    describes = _sectors_said(args.describes) if args.describes else None
    from matcher.engine import Engine

    # the taxonomy is stored (and its texts embedded into the cache); the index is not needed
    engine = Engine.open(settings, load=False)
    if args.action == "load":
        n = engine.set_causes(read_causes(args.file, args.format), describes)
        said = f" (describing {', '.join(describes)})" if describes else ""
        print(
            dumps({"causes": n, "describes": describes})
            if args.json
            else f"loaded {n} causes from {args.file}{said}"
        )
    elif args.action == "clear":
        engine.set_causes([])
        print(dumps({"causes": 0}) if args.json else "cause taxonomy cleared")
    else:
        causes = engine.store.causes()
        if args.json:
            print(dumps([c.model_dump() for c in causes]))
        else:
            for c in causes:
                print(f"{c.code}\t{c.title}")
            stored = engine.store.causes_describe()
            print(f"{len(causes)} causes, describing {', '.join(stored or ['every sector'])}")
    return 0


def _sectors_said(said: str) -> list[str]:
    """The sectors of a comma-separated list, each checked ("--describes nonprofit,gov")."""
    from matcher.domain import Sector

    known = [s.value for s in Sector]
    out = [w.strip().lower() for w in said.split(",") if w.strip()]
    wrong = [w for w in out if w not in known]
    if wrong or not out:
        raise UsageError(
            f"unknown sector {', '.join(repr(w) for w in wrong) or 'none given'} in --describes "
            f"(expected some of {', '.join(known)})"
        )
    return list(dict.fromkeys(out))


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    """What is stored and indexed. Never builds: an index that would need building or embedding
    is reported as it stands, with what `matcher build` would do."""
    from matcher.engine import Engine
    from matcher.index_status import index_status

    engine = Engine.open(settings, load=False)
    status = index_status(engine)
    if status.must_build:
        s: dict[str, Any] = {
            "organisations": status.stored,
            "needs": engine.store.list_needs(limit=1)[1],
            "causes": len(engine.store.causes()),
            "generation": status.generation,
            "indexed": status.indexed,
            "model": engine.embedder.model_name,
        }
    else:
        engine.load()  # nothing to embed: reads the saved index and catches up in memory
        s = set_up(engine, settings).stats()
    s["index_status"] = status.describe()
    s["to_embed"] = status.to_embed
    print(dumps(s) if args.json else "\n".join(f"{k}: {v}" for k, v in s.items()))
    if status.must_build and not args.json:
        notice("run `matcher build` to build the index (stats never builds)")
    elif not status.up_to_date and not args.json:
        notice("run `matcher build` to save the caught-up index (commands catch up in memory)")
    elif "until `matcher build`" in str(s.get("scoring_columns", "")) and not args.json:
        notice(
            "run `matcher build` to save scoring columns this code can use (until then each "
            "candidate's profile is read the first time it is one: slower first requests)"
        )
    return 0


def match_json(m: Match) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "sector": m.sector,
        "score": m.score,
        "components": m.components,
        "relevance": m.relevance,
        "covers": m.covers,
        "distance_km": m.distance_km,
        "region": m.region,
        "reasons": m.reasons,
    }


def _bar(value: float, width: int = 10) -> str:
    full = int(round(max(0.0, min(1.0, value)) * width))
    return "█" * full + "·" * (width - full)


def _print_matches(title: str, matches: list[Match], reasons: int = 4) -> None:
    """One block per partner: header, a bar per score component, the main reasons."""
    console.print(f"[bold]{escape(title)}[/bold]")
    if not matches:
        console.print("  no partner satisfies these constraints")
    for i, m in enumerate(matches, 1):
        where = ", ".join(x for x in (m.city, m.region, m.country) if x)
        dist = f" · {m.distance_km:.0f} km" if m.distance_km is not None else ""
        console.print(
            f"\n[bold]{i}. {escape(m.name)}[/bold] [dim]({m.sector} · {escape(where)}"
            f"{dist} · {m.id})[/dim]  score [bold]{m.score:.3f}[/bold]"
        )
        console.print(
            "   " + "  ".join(f"{k} {_bar(v, 6)} {v:.2f}" for k, v in m.components.items())
        )
        for r in m.reasons[:reasons]:
            console.print(f"   • {escape(r)}")


def cmd_recommend(args: argparse.Namespace, settings: Settings) -> int:
    if args.batch:
        from matcher.cli_batch import recommend_batch

        return recommend_batch(args, settings)
    need, filters = _need_from_args(args)
    rec: Recommendation = _engine(settings, "recommend").recommend(
        need, filters=filters, limit=args.limit
    )
    if args.json:
        print(
            dumps(
                {
                    "results": [match_json(m) for m in rec.results],
                    "coalition": rec.coalition.model_dump(mode="json"),
                    "gaps": rec.gaps,
                    "unread_help": rec.unread_help,
                    **notices_json(rec),
                    "model_version": rec.model_version,
                }
            )
        )
    else:
        if rec.need.place:
            where = ", ".join(x for x in (rec.need.region, rec.need.country) if x)
            console.print(f"[dim]Place: {escape(rec.need.place)} ({escape(where)})[/dim]")
        _print_notices(rec)
        _print_matches(f"Partners for: {need.text[:80]}", rec.results)
        _print_gaps(rec)
    return 0


# the fields of a Recommendation that say how its need was read
NOTICES = {"unread_words", "few_words", "named_askers", "withheld"}


def notices_json(rec: Recommendation) -> dict[str, object]:
    """What the page and the API say about the reading of a need, for `--json`."""
    return rec.model_dump(include=NOTICES)


def _print_notices(rec: Recommendation) -> None:
    """What the page says above its results about how the need was read: words the model does
    not know, a need of a word or two, the asker left out, trades left out ("help" got a full
    answer at the terminal with nothing to say it rests on one word)."""
    if rec.unread_words:
        words = ", ".join(escape(w) for w in rec.unread_words[:6])
        console.print(
            f"[bold]Most words of this need were not recognised[/bold] ({words}): the search "
            "reads English, so these suggestions rest on little"
        )
    elif rec.few_words:
        console.print(
            "[bold]This need is very short,[/bold] so these suggestions rest on a word or two: "
            "say what the problem is, who it affects and what help is needed"
        )
    if rec.named_askers:
        console.print(
            "[bold]Not suggested, as the need names it as the one asking:[/bold] "
            + "; ".join(escape(a) for a in rec.named_askers)
        )
    if rec.withheld:
        console.print(
            "[bold]Not suggested, as their trade works against this need:[/bold] "
            + "; ".join(escape(w) for w in rec.withheld)
        )


def _print_gaps(rec: Recommendation) -> None:
    """The help no organisation the filters allow offers, and the help only organisations
    beyond the partners found offer (named), and the listed help not read as any."""
    if rec.unread_help:
        listed = ", ".join(f"'{escape(h)}'" for h in rec.unread_help)
        console.print(f"[bold]Not read as a kind of help, so not asked of anyone:[/bold] {listed}")
    if rec.gaps:
        console.print(
            "[bold]No organisation that matches the need offers:[/bold] " + ", ".join(rec.gaps)
        )
    for cap, o in rec.coalition.offered_elsewhere.items():
        console.print(f"[bold]None of these offers {escape(cap)};[/bold] {_offerer(o)} does")
    for cap, o in rec.coalition.offered_nearer.items():
        console.print(
            f"[bold]No member offers {escape(cap)}, and the partners listed that do are far "
            f"off;[/bold] nearer, {_offerer(o)} does"
        )


def _offerer(o: OfferedElsewhere) -> str:
    """An organisation named for a gap: its name, sector and, when known, its distance."""
    away = f", {o.distance_km:.0f} km away" if o.distance_km is not None else ""
    return f"{escape(o.name)} ({o.sector}{away})"


def cmd_coalition(args: argparse.Namespace, settings: Settings) -> int:
    need, filters = _need_from_args(args)
    rec = _engine(settings, "coalition").recommend(need, filters=filters, limit=args.limit)
    if args.json:
        print(
            dumps(
                {
                    "coalition": rec.coalition.model_dump(mode="json"),
                    "gaps": rec.gaps,
                    "required_capabilities": rec.required_capabilities,
                    "unread_help": rec.unread_help,
                    **notices_json(rec),
                }
            )
        )
        return 0
    _print_notices(rec)
    _print_matches("Suggested coalition", rec.coalition.members)
    for cap, ids in rec.coalition.covered.items():
        console.print(f"  {cap}: {', '.join(ids) if ids else '[red]not covered[/red]'}")
    _print_gaps(rec)
    return 0


def cmd_match(args: argparse.Namespace, settings: Settings) -> int:
    matches = _engine(settings, "match").match(
        args.org_id, sectors=args.sector or None, limit=args.limit
    )
    if args.json:
        print(dumps({"id": args.org_id, "results": [match_json(m) for m in matches]}))
    else:
        _print_matches(f"Aligned organisations for {args.org_id}", matches)
    return 0


def cmd_needs_for(args: argparse.Namespace, settings: Settings) -> int:
    needs = _engine(settings, "needs-for").needs_for(args.org_id, limit=args.limit)
    if args.json:
        print(dumps({"id": args.org_id, "results": [n.model_dump(mode="json") for n in needs]}))
        return 0
    t = Table(
        "#",
        "need",
        "score",
        "why",
        title=f"Open needs {args.org_id} could help with",
        show_lines=True,
    )
    for i, n in enumerate(needs, 1):
        t.add_row(str(i), n.text[:120], f"{n.score:.3f}", "\n".join(n.reasons[:3]))
    console.print(t)
    return 0
