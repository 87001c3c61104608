"""`matcher train ...`: ingest with a mapping file, import public registries, partnership history,
profile enrichment and labelled pairs. Exit codes as `matcher`: 0 ok, 1 rows rejected (the good
ones were kept), 2 usage errors (bad options, unreadable file, bad mapping)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from matcher.errors import StorageError, ValidationError
from matcher.loaders import RowError
from matcher.settings import Settings

MAX_SHOWN = 50


def register(subparsers: Any) -> None:
    """Add the `train` command group to `matcher`'s subparsers."""
    train = subparsers.add_parser("train", help="ingest, import and learn from history")
    sub = train.add_subparsers(dest="train_command", required=True, metavar="STEP")

    p = sub.add_parser("ingest", help="validate and upsert profiles using a TOML mapping file")
    p.add_argument("file", type=Path)
    p.add_argument("--config", type=Path, help="mapping file ([map], [defaults], kind, format)")
    p.add_argument("--dry-run", action="store_true", help="validate only, store nothing")
    p.add_argument("--report", type=Path, help="also write the validation report as JSON here")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_ingest)

    from training.importers import IMPORTERS

    p = sub.add_parser("import", help="import a public registry file")
    p.add_argument("source", choices=sorted(IMPORTERS))
    p.add_argument("file", type=Path)
    p.add_argument("--limit", type=int, help="read at most N data rows")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--report", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("history", help="store past partnerships (labelled pairs) from a file")
    p.add_argument("file", type=Path)
    p.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN")
    p.add_argument("--limit", type=int)
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--report", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_history)

    p = sub.add_parser("enrich", help="describe short profiles by their past partnerships")
    p.add_argument("--min-chars", type=int, default=300, help="enrich descriptions shorter")
    p.add_argument("--max-chars", type=int, default=2000, help="at most this much added text")
    p.add_argument("--order", choices=["typical", "recent"], default="typical")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_enrich)

    p = sub.add_parser("pairs", help="write history and feedback as labelled pairs")
    p.add_argument("--out", type=Path, required=True, help=".csv or .parquet")
    p.add_argument("--no-feedback", action="store_true")
    p.set_defaults(handler=cmd_pairs)


# ------------------------------------------------------------------------------- helpers


def _usage(message: str) -> Exception:
    from matcher.cli import UsageError

    return UsageError(message)


def _store(settings: Settings) -> Any:
    from matcher.store import Database, Store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    db.create_all()
    return Store(db)


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise _usage(f"no such file: {path}")


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise _usage("--limit must be at least 1")


def _write_report(path: Path | None, payload: dict[str, Any]) -> None:
    if path is None:
        return
    from matcher.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def _errors(rejected: list[RowError]) -> list[dict[str, Any]]:
    return [{"row": e.row, "column": e.column, "reason": e.reason} for e in rejected]


def _print_rejected(rejected: list[RowError]) -> None:
    for e in rejected[:MAX_SHOWN]:
        print(f"  {e}")
    if len(rejected) > MAX_SHOWN:
        print(f"  ... and {len(rejected) - MAX_SHOWN} more (use --json or --report for all)")


def _emit(args: argparse.Namespace, payload: dict[str, Any], lines: list[str]) -> None:
    _write_report(getattr(args, "report", None), payload)
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, default=str))
    else:
        print("\n".join(lines))


# ------------------------------------------------------------------------------- handlers


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from training.ingest import IngestConfig, ingest_file, load_config

    _check_file(args.file)
    try:
        config = load_config(args.config) if args.config else IngestConfig()
        store = None if args.dry_run else _store(settings)
        result = ingest_file(store, args.file, config, dry_run=args.dry_run)
    except (ValidationError, StorageError) as exc:
        raise _usage(str(exc)) from exc
    payload = result.as_dict()
    lines = [result.report.summary(max_errors=0).splitlines()[0]]
    if args.dry_run:
        lines.append("dry run: nothing stored")
    elif result.stored:
        s = payload["stored"]
        lines.append(
            f"stored: {s['inserted']} new, {s['updated']} updated, {s['unchanged']} unchanged. "
            "Run `matcher build` to index them."
        )
    _emit(args, payload, lines)
    if not args.json:
        _print_rejected(result.report.rejected)
    return 1 if result.report.rejected else 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from training.importers import read, store_batch

    _check_file(args.file)
    _check_limit(args.limit)
    t0 = time.perf_counter()
    try:
        batch = read(args.source, args.file, limit=args.limit, progress=not args.json)
        stored = None if args.dry_run else store_batch(_store(settings), batch)
    except (ValidationError, StorageError) as exc:
        raise _usage(str(exc)) from exc
    payload = {
        "file": str(args.file),
        "source": args.source,
        **batch.counts(),
        "rejected": _errors(batch.rejected),
        "stored": stored.as_dict() if stored else {},
        "dry_run": args.dry_run,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    lines = [batch.summary(max_errors=0)]
    if stored:
        for name, s in stored.as_dict().items():
            lines.append(
                f"{name}: {s['inserted']} new, {s['updated']} updated, {s['unchanged']} unchanged"
            )
        lines.append("Run `matcher build` to index them.")
    elif args.dry_run:
        lines.append("dry run: nothing stored")
    _emit(args, payload, lines)
    if not args.json:
        _print_rejected(batch.rejected)
    return 1 if batch.rejected else 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    from training.history import load_partnership_file, store_partnerships

    _check_file(args.file)
    _check_limit(args.limit)
    mapping: dict[str, str] = {}
    for item in args.map:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise _usage(f"--map expects FIELD=COLUMN, got {item!r}")
        mapping[key.strip()] = value.strip()
    try:
        loaded = load_partnership_file(args.file, mapping=mapping, limit=args.limit)
        stored = (
            None
            if args.dry_run or not loaded.accepted
            else store_partnerships(_store(settings), loaded.accepted)
        )
    except (ValidationError, StorageError) as exc:
        raise _usage(str(exc)) from exc
    payload = {
        "file": str(args.file),
        "rows": loaded.total_rows,
        "accepted": len(loaded.accepted),
        "rejected": _errors(loaded.rejected),
        "stored": (
            {
                "inserted": len(stored.inserted),
                "updated": len(stored.updated),
                "unchanged": len(stored.unchanged),
            }
            if stored
            else {}
        ),
        "dry_run": args.dry_run,
    }
    lines = [
        f"{args.file}: {loaded.total_rows} rows, {len(loaded.accepted)} partnerships accepted, "
        f"{len({e.row for e in loaded.rejected})} rows rejected"
    ]
    if stored:
        lines.append(
            f"stored: {len(stored.inserted)} new, {len(stored.updated)} updated, "
            f"{len(stored.unchanged)} unchanged"
        )
    _emit(args, payload, lines)
    if not args.json:
        _print_rejected(loaded.rejected)
    return 1 if loaded.rejected else 0


def cmd_enrich(args: argparse.Namespace, settings: Settings) -> int:
    from training.history import enrich_profiles

    try:
        report = enrich_profiles(
            _store(settings),
            min_chars=args.min_chars,
            max_chars=args.max_chars,
            order=args.order,
            apply=not args.dry_run,
        )
    except ValidationError as exc:
        raise _usage(str(exc)) from exc
    payload = {
        "short_profiles": report.considered,
        "with_history": report.with_history,
        "changed": len(report.enriched),
        "changed_ids": [o.id for o in report.enriched],
        "dry_run": args.dry_run,
    }
    lines = [
        f"{report.considered} short profiles, {report.with_history} with partnership history; "
        f"{len(report.enriched)} changed"
        + (" (dry run: nothing stored)" if args.dry_run else ". Run `matcher build` to index.")
    ]
    _emit(args, payload, lines)
    return 0


def cmd_pairs(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.atomic import atomic_write_bytes
    from training.history import labelled_pairs

    suffix = args.out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise _usage(f"--out must end in .csv or .parquet, not {args.out.name!r}")
    frame = labelled_pairs(_store(settings), include_feedback=not args.no_feedback)
    if suffix == ".csv":
        data = frame.to_csv(index=False).encode("utf-8")
    else:
        import io

        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        data = buf.getvalue()
    atomic_write_bytes(args.out, data)
    positives = int(frame["label"].sum()) if len(frame) else 0
    print(
        f"wrote {len(frame)} labelled pairs ({positives} positive) to {args.out}", file=sys.stdout
    )
    return 0
