"""Handlers of the `matcher` subcommands (parsing lives in matcher.cli)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from matcher.cli import UsageError, _need_from_args, _one_line, dumps
from matcher.domain import Filters, Match, Need, Recommendation
from matcher.errors import StorageError, ValidationError
from matcher.settings import Settings

console = Console()


def _engine(settings: Settings) -> Any:
    from matcher.engine import Engine

    return Engine.open(settings)


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
    if args.json:
        print(
            dumps(
                {
                    "file": str(args.file),
                    "rows": report.total_rows,
                    "accepted": len(report.accepted),
                    "rejected": rejected,
                    "stored": stored,
                    "dry_run": args.dry_run,
                }
            )
        )
    else:
        console.print(
            f"{args.file}: {report.total_rows} rows, {len(report.accepted)} accepted, "
            f"{len(rejected)} rejected" + (" (dry run: nothing stored)" if args.dry_run else "")
        )
        if stored:
            console.print(
                f"stored: {stored['inserted']} new, {stored['updated']} updated, "
                f"{stored['unchanged']} unchanged. Run `matcher build` to index them."
            )
        if rejected:
            t = Table("row", "column", "reason", title="Rejected rows")
            for r in rejected[:200]:
                t.add_row(str(r["row"]), str(r["column"] or ""), str(r["reason"]))
            console.print(t)
            if len(rejected) > 200:
                console.print(f"... and {len(rejected) - 200} more (use --json for all)")
    return 1 if rejected else 0


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.engine import Engine

    engine = Engine.open(settings, load=False)
    report = engine.build(progress=not args.json)
    print(
        dumps(report)
        if args.json
        else f"indexed {report['organisations']} organisations ({report['embedded']} embedded, "
        f"{report['from_cache']} from cache) as generation {report['generation']} "
        f"[{report['index']}] in {report['total_seconds']} s"
    )
    return 0


def cmd_bootstrap(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    loaded = engine.bootstrap_sample()
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
    engine = _engine(settings)
    if args.action == "load":
        n = engine.set_causes(read_causes(args.file, args.format))
        print(dumps({"causes": n}) if args.json else f"loaded {n} causes from {args.file}")
    elif args.action == "clear":
        engine.set_causes([])
        print(dumps({"causes": 0}) if args.json else "cause taxonomy cleared")
    else:
        causes = engine.causes()
        if args.json:
            print(dumps([c.model_dump() for c in causes]))
        else:
            for c in causes:
                print(f"{c.code}\t{c.title}")
            print(f"{len(causes)} causes")
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    s = _engine(settings).stats()
    print(dumps(s) if args.json else "\n".join(f"{k}: {v}" for k, v in s.items()))
    return 0


def _match_json(m: Match) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "sector": m.sector,
        "score": m.score,
        "components": m.components,
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
        return _recommend_batch(args, settings)
    need, filters = _need_from_args(args)
    rec: Recommendation = _engine(settings).recommend(need, filters=filters, limit=args.limit)
    if args.json:
        print(
            dumps(
                {
                    "results": [_match_json(m) for m in rec.results],
                    "coalition": rec.coalition.model_dump(mode="json"),
                    "gaps": rec.gaps,
                    "model_version": rec.model_version,
                }
            )
        )
    else:
        if rec.need.place:
            where = ", ".join(x for x in (rec.need.region, rec.need.country) if x)
            console.print(f"[dim]Place: {escape(rec.need.place)} ({escape(where)})[/dim]")
        _print_matches(f"Partners for: {need.text[:80]}", rec.results)
        if rec.gaps:
            console.print("[bold]No candidate covers:[/bold] " + ", ".join(rec.gaps))
    return 0


def _batch_need(line: str) -> tuple[str, Need, Filters, int]:
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("each line must be a JSON object")
    near = data.get("near")
    if isinstance(near, dict):
        near = (near.get("lat"), near.get("lon"))
    extra: dict[str, Any] = {"id": str(data["id"])} if data.get("id") not in (None, "") else {}
    if near:
        extra.update(lat=near[0], lon=near[1])
    need = Need(
        **extra,
        text=data.get("text", ""),
        place=data.get("place"),
        required_capabilities=data.get("capabilities") or [],
        requester_id=data.get("requester"),
    )
    filters = Filters(
        sectors=data.get("sectors") or [],
        country=data.get("country"),
        region=data.get("region"),
        near=tuple(near) if near else None,
        radius_km=data.get("radius_km"),
    )
    return str(data.get("id", need.id)), need, filters, int(data.get("limit") or 10)


def _recommend_batch(args: argparse.Namespace, settings: Settings) -> int:
    if not args.batch.exists():
        raise UsageError(f"no such file: {args.batch}")
    parsed: list[tuple[str, Need, Filters, int]] = []
    errors: list[dict[str, Any]] = []
    lines = args.batch.read_text(encoding="utf-8", errors="replace").splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            parsed.append(_batch_need(line))
        except (ValueError, TypeError, PydanticValidationError) as exc:
            errors.append({"line": n, "error": _one_line(exc)})
    engine = _engine(settings)
    recs = (
        engine.recommend_batch([p[1] for p in parsed], [p[2] for p in parsed], progress=True)
        if parsed
        else []
    )
    out_lines = []
    for (nid, _, _, limit), rec in zip(parsed, recs, strict=True):
        out_lines.append(
            dumps({"id": nid, "results": [_match_json(m) for m in rec.results[:limit]]})
        )
    out_lines += [dumps({"line": e["line"], "error": e["error"]}) for e in errors]
    text = "\n".join(out_lines) + "\n"
    if args.out:
        from matcher.atomic import atomic_write_text

        atomic_write_text(Path(args.out), text)
        print(f"{len(recs)} needs answered, {len(errors)} rejected -> {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    for e in errors:
        print(f"line {e['line']}: {e['error']}", file=sys.stderr)
    return 1 if errors else 0


def cmd_coalition(args: argparse.Namespace, settings: Settings) -> int:
    need, filters = _need_from_args(args)
    rec = _engine(settings).recommend(need, filters=filters, limit=args.limit)
    if args.json:
        print(
            dumps(
                {
                    "coalition": rec.coalition.model_dump(mode="json"),
                    "gaps": rec.gaps,
                    "required_capabilities": rec.required_capabilities,
                }
            )
        )
        return 0
    _print_matches("Suggested coalition", rec.coalition.members)
    for cap, ids in rec.coalition.covered.items():
        console.print(f"  {cap}: {', '.join(ids) if ids else '[red]not covered[/red]'}")
    if rec.gaps:
        console.print("[bold]No candidate covers:[/bold] " + ", ".join(rec.gaps))
    return 0


def cmd_match(args: argparse.Namespace, settings: Settings) -> int:
    matches = _engine(settings).match(args.org_id, sectors=args.sector or None, limit=args.limit)
    if args.json:
        print(dumps({"id": args.org_id, "results": [_match_json(m) for m in matches]}))
    else:
        _print_matches(f"Aligned organisations for {args.org_id}", matches)
    return 0


def cmd_needs_for(args: argparse.Namespace, settings: Settings) -> int:
    needs = _engine(settings).needs_for(args.org_id, limit=args.limit)
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
