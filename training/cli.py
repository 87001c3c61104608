"""`matcher train ...`: ingest with a mapping file, import public registries, partnership history,
profile enrichment and labelled pairs. Exit codes as `matcher`: 0 ok, 1 rows rejected (the good
ones were kept), 2 usage errors (bad options, unreadable file, bad mapping)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matcher.errors import StorageError, ValidationError
from matcher.loaders import RowError
from matcher.settings import Settings
from training.progress import StageProgress

MAX_SHOWN = 50


def _use_published(engine: Any, settings: Any) -> None:
    """The published model's weights and history model, as the service ranks with them:
    `matcher recommend` and `stats` said "@default-weights" after `matcher models publish`
    while the service served "@v0001" (helper-76's walk, 2026-12-06)."""
    from training.registry import load_published

    load_published(engine, settings.data_dir)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """`matcher worker`: run the training jobs queued in the database."""
    from matcher.cli_common import notice
    from training.jobs import run_worker

    ran = run_worker(settings, once=args.once, poll=args.poll)
    if args.once:
        notice(f"matcher worker: {ran} training job(s) run")
    return 0


def _t1_sample(shared: Path, encode: Any, states: list[str]) -> dict[str, Any]:
    """`matcher embed --t1`'s check: T1 on a few states with the new model's `encode`."""
    from training.embed_t1 import t1_sample

    return t1_sample(shared, encode, states)


def register(subparsers: Any) -> None:
    """Add the `train` command group to `matcher`'s subparsers, and the published model to the
    engines `matcher`'s commands open."""
    from matcher.cli_common import EMBED_SAMPLE_CHECKS, ENGINE_SETUPS

    ENGINE_SETUPS["published model"] = _use_published
    EMBED_SAMPLE_CHECKS["t1"] = _t1_sample
    p = subparsers.add_parser(
        "worker", help="run training jobs queued in the database (MATCHER_API_TRAIN_JOBS=database)"
    )
    p.add_argument("--once", action="store_true", help="run what is queued, then exit")
    p.add_argument("--poll", type=float, default=2.0, help="seconds between looks at the queue")
    p.set_defaults(handler=cmd_worker)
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
    p.add_argument(
        "--no-link",
        action="store_true",
        help="do not merge records that match stored ones or each other (same EIN, name + "
        "place, website, agency name)",
    )
    p.add_argument("--report", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("dedupe", help="merge stored records of the same body (record linkage)")
    p.add_argument("--dry-run", action="store_true", help="report what would be merged only")
    p.add_argument("--near", type=int, default=20, help="near misses to show (default 20)")
    p.add_argument("--report", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_dedupe)

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

    p = sub.add_parser(
        "causes", help="learn causes from profiles that carry a cause code (e.g. IRS NTEE)"
    )
    p.add_argument("--min-members", type=int, default=5, help="labelled profiles per cause")
    p.add_argument(
        "--definitions",
        default=None,
        metavar="FILE|taxonomy",
        help="add each learned cause's definition as labelled data (a second prototype): from a "
        "taxonomy file (code, title, definition; read now, not loaded as the taxonomy) or "
        "`taxonomy` for the loaded one; causes without members are never added",
    )
    p.add_argument(
        "--definition-weight",
        type=float,
        default=None,
        help="with --definitions: the definition's share of the second prototype, the rest "
        "its members' mean (0-1; default matcher.cause_model.DEFINITION_WEIGHT)",
    )
    p.add_argument("--clear", action="store_true", help="remove the learned causes")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_causes)

    from training.finetune.cli import register as register_embed

    register_embed(sub)

    p = sub.add_parser("pairs", help="write history and feedback as labelled pairs")
    p.add_argument("--out", type=Path, required=True, help=".csv or .parquet")
    p.add_argument("--no-feedback", action="store_true")
    p.set_defaults(handler=cmd_pairs)

    p = sub.add_parser("fit", help="learn ranking weights from history; register a candidate")
    p.add_argument("--out-version", help="name of the new version (default: next vNNNN)")
    p.add_argument("--min-pairs", type=int, default=50, help="fewer: keep the default weights")
    p.add_argument("--negatives", type=int, default=20, help="sampled negatives per query")
    p.add_argument("--max-queries", type=int, default=3000, help="at most N training queries")
    p.add_argument("--pointwise", action="store_true", help="no pairwise (per query) training")
    p.add_argument(
        "--no-resume",
        action="store_true",
        help="start afresh instead of reusing the checkpoint of an interrupted identical run",
    )
    p.add_argument(
        "--chunk-queries",
        type=int,
        default=50,
        help="training queries per checkpoint chunk (DATA_DIR/runs/<run-key>/)",
    )
    p.add_argument(
        "--no-history-model",
        action="store_true",
        help="do not fit the partnership-history model (P(org | need) from past partnerships)",
    )
    p.add_argument(
        "--benchmarks",
        type=Path,
        metavar="SHARED_DATA",
        help="also run benchmarks T1 and T2 (../shared/data) for every compared model",
    )
    _add_split_options(p)
    p.set_defaults(handler=cmd_fit)

    p = sub.add_parser("evaluate", help="compare a version with the published model, report")
    p.add_argument("version", nargs="?", help="version to evaluate (default: the newest)")
    _add_split_options(p, defaults=False)
    p.set_defaults(handler=cmd_evaluate)

    models = subparsers.add_parser("models", help="list, publish and roll back ranking models")
    msub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    p = msub.add_parser("list", help="registered versions; * marks the published one")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_models_list)
    p = msub.add_parser("publish", help="make a version the one the service uses")
    p.add_argument("version")
    p.add_argument("--force", action="store_true", help="publish even if it is worse")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_models_publish)
    p = msub.add_parser("rollback", help="go back to the previously published version")
    p.add_argument(
        "--embedding", action="store_true", help="the embedding model, not the ranking weights"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_models_rollback)
    p = msub.add_parser(
        "prune",
        help="remove old versions beyond the N newest of each kind (never a published one)",
    )
    p.add_argument(
        "--keep", type=int, required=True, metavar="N", help="versions of each kind to keep"
    )
    p.add_argument("--dry-run", action="store_true", help="say what would go; remove nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_models_prune)
    from training.embed_gate_cli import register as register_embedding_actions

    register_embedding_actions(msub)


def _add_split_options(p: argparse.ArgumentParser, *, defaults: bool = True) -> None:
    p.add_argument(
        "--split",
        choices=["time", "id"],
        default="time" if defaults else None,
        help="hold out the newest queries (time) or a stable hash share (id)",
    )
    p.add_argument("--test-share", type=float, default=0.2 if defaults else None)
    p.add_argument("--max-test", type=int, default=500 if defaults else None)
    p.add_argument("--seed", type=int, default=0 if defaults else None)
    p.add_argument("--no-feedback", action="store_true", help="history only, no API feedback")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress lines (on stderr)")


# ------------------------------------------------------------------------------- helpers


def _usage(message: str) -> Exception:
    from matcher.cli_common import UsageError

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


def _print_rejected(rejected: list[RowError], prefix: str = "") -> None:
    for e in rejected[:MAX_SHOWN]:
        print(f"  {prefix}{e}")
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
        _print_rejected(result.report.warnings, "warning: ")
    return 1 if result.report.rejected else 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from training.importers import read, store_batch
    from training.importers.base import group_problems, problem_lines

    _check_file(args.file)
    _check_limit(args.limit)
    t0 = time.perf_counter()
    links = None
    try:
        batch = read(args.source, args.file, limit=args.limit, progress=not args.json)
        store = None if args.dry_run and not settings.data_dir.exists() else _store(settings)
        if not args.no_link:
            from training.linkage_store import link_batch

            links = link_batch(store, batch)
        retired = links.retired if links else None
        stored = (
            None if args.dry_run or store is None else store_batch(store, batch, retired=retired)
        )
    except (ValidationError, StorageError) as exc:
        raise _usage(str(exc)) from exc
    payload = {
        "file": str(args.file),
        "source": args.source,
        **batch.counts(),
        "rejected": _errors(batch.rejected),
        "flagged": [{"row": f.row, "id": f.record_id, "note": f.note} for f in batch.flagged],
        "links": links.as_dict() if links else {},
        "warnings": _errors(batch.warnings),
        "file_warnings": batch.file_warnings,
        # the same, one entry per kind of problem (column and reason), most rows first
        "problems": {
            "rejected": [p.as_dict() for p in group_problems(batch.rejected)],
            "warnings": [p.as_dict() for p in group_problems(batch.warnings)],
        },
        "stored": stored.as_dict() if stored else {},
        "dry_run": args.dry_run,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    lines = [batch.summary(max_errors=0).splitlines()[0]]
    lines += [f"  warning: {w}" for w in batch.file_warnings]
    lines += [f"  {f}" for f in batch.flagged[:MAX_SHOWN]]
    if len(batch.flagged) > MAX_SHOWN:
        lines.append(f"  ... and {len(batch.flagged) - MAX_SHOWN} more (use --json or --report)")
    if links is not None:
        lines += ["linkage: " + links.lines(max_near=10)[0], *links.lines(max_near=10)[1:]]
    if stored:
        for name, s in stored.as_dict().items():
            lines.append(
                f"{name}: {s['inserted']} new, {s['updated']} updated, {s['unchanged']} unchanged"
            )
        if stored.retired:
            lines.append(f"{stored.retired} stored records merged into new ones and removed")
        lines.append("Run `matcher build` to index them.")
    elif args.dry_run:
        lines.append("dry run: nothing stored")
    _emit(args, payload, lines)
    if not args.json:  # by kind of problem: a file with a thousand bad ZIPs is not a flood
        for line in problem_lines(batch.rejected) + problem_lines(
            batch.warnings, prefix="warning: "
        ):
            print(line)
    return 1 if batch.rejected else 0


def cmd_dedupe(args: argparse.Namespace, settings: Settings) -> int:
    from training.linkage_store import dedupe_store

    if args.near < 0:
        raise _usage("--near must be at least 0")
    t0 = time.perf_counter()
    try:
        result = dedupe_store(_store(settings), dry_run=args.dry_run)
    except (ValidationError, StorageError) as exc:
        raise _usage(str(exc)) from exc
    payload = {
        **result.as_dict(),
        "dry_run": args.dry_run,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    lines = result.lines(max_near=args.near)
    lines.append(
        "dry run: nothing changed"
        if args.dry_run
        else ("Run `matcher build` to index the merged records." if result.clusters else "")
    )
    _emit(args, payload, [line for line in lines if line])
    return 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    from training.history import (
        check_partnerships,
        load_partnership_file,
        store_partnerships,
        stored_ids,
    )

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
        store = _store(settings) if settings.data_dir.exists() or not args.dry_run else None
        if store is not None and loaded.accepted:
            check_partnerships(loaded, stored_ids(store), datetime.now(UTC))
        stored = (
            None
            if args.dry_run or not loaded.accepted or store is None
            else store_partnerships(store, loaded.accepted)
        )
    except (ValidationError, StorageError) as exc:
        raise _usage(str(exc)) from exc
    payload = {
        "file": str(args.file),
        "rows": loaded.total_rows,
        "accepted": len(loaded.accepted),
        "rejected": _errors(loaded.rejected),
        "warnings": _errors(loaded.warnings),
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
    if loaded.warnings:
        lines.append(f"{len(loaded.warnings)} warnings (stored all the same):")
    _emit(args, payload, lines)
    if not args.json:
        _print_rejected(loaded.warnings, "warning: ")
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


def cmd_causes(args: argparse.Namespace, settings: Settings) -> int:
    import shutil

    from matcher.cause_model import LEARNED_DIR

    if args.clear:
        folder = settings.data_dir / LEARNED_DIR
        existed = folder.is_dir()
        shutil.rmtree(folder, ignore_errors=True)
        _emit(
            args,
            {"cleared": existed},
            ["learned causes removed" if existed else "no learned causes to remove"],
        )
        return 0
    if args.min_members < 1:
        raise _usage("--min-members must be at least 1")
    from matcher.cause_model import DEFINITION_WEIGHT

    weight = args.definition_weight
    if weight is not None and not 0.0 <= weight <= 1.0:
        raise _usage(f"--definition-weight {weight} is not between 0 and 1")
    if weight is not None and not args.definitions:
        raise _usage("--definition-weight needs --definitions")
    engine = _engine(settings)
    try:
        definitions = read_definitions(args.definitions, engine)
        learned = engine.learn_causes(
            min_members=args.min_members,
            definitions=definitions,
            definition_weight=DEFINITION_WEIGHT if weight is None else weight,
        )
    except ValidationError as exc:
        raise _usage(str(exc)) from exc
    finally:
        engine.close()
    labelled = sum(learned.members.values())
    payload = {
        "causes": len(learned.causes),
        "labelled_profiles": labelled,
        "temperature": learned.temperature,
        "held_out_log_loss": learned.log_loss,
        "with_definition": learned.definitions,
        "largest": sorted(learned.members.items(), key=lambda kv: -kv[1])[:5],
    }
    lines = [
        f"learned {len(learned.causes)} causes from {labelled} labelled profiles "
        f"(temperature {learned.temperature}, held-out log-loss {learned.log_loss})"
        + (
            f", {learned.definitions} with their definition as a second prototype"
            if learned.definitions
            else ""
        )
        + "; the engine uses them from now on (`--clear` goes back to the taxonomy's definitions)"
    ]
    _emit(args, payload, lines)
    return 0


def read_definitions(given: str | None, engine: Any) -> list[Any]:
    """The causes whose definitions `train causes --definitions` (and `train embed`) use:
    none, the loaded taxonomy's (`taxonomy`), or a taxonomy file's (read, not loaded).
    `engine`: anything with the `store` (an Engine) or a Store."""
    from matcher.causes import read_causes

    if not given:
        return []
    if given == "taxonomy":
        causes = getattr(engine, "store", engine).causes()
        if not causes:
            raise ValidationError(
                "--definitions taxonomy: no cause taxonomy is loaded (`matcher causes load FILE`)"
            )
        return list(causes)
    path = Path(given)
    if not path.is_file():
        raise ValidationError(f"--definitions: {path} is not a file")
    return read_causes(path)


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


# ------------------------------------------------------------------------------- learning


def _engine(settings: Settings) -> Any:
    from matcher.cli_common import open_engine

    return open_engine(settings, "train")


def _split_of(args: argparse.Namespace, stored: dict[str, Any] | None = None) -> dict[str, Any]:
    stored = stored or {}
    split = {
        "by": args.split or stored.get("by", "time"),
        "test_share": args.test_share
        if args.test_share is not None
        else stored.get("test_share", 0.2),
        "max_test": args.max_test if args.max_test is not None else stored.get("max_test", 500),
        "seed": args.seed if args.seed is not None else stored.get("seed", 0),
    }
    if split["max_test"] is not None and split["max_test"] < 1:
        raise _usage("--max-test must be at least 1")
    return split


def cmd_fit(args: argparse.Namespace, settings: Settings) -> int:
    from training.evaluate import table
    from training.fit import FitError, FitOptions, run_fit

    split = _split_of(args)
    options = FitOptions(
        out_version=args.out_version,
        min_pairs=args.min_pairs,
        negatives=args.negatives,
        max_queries=args.max_queries,
        pointwise=args.pointwise,
        split=split["by"],
        test_share=split["test_share"],
        max_test=split["max_test"],
        seed=split["seed"],
        feedback=not args.no_feedback,
        resume=not args.no_resume,
        chunk_queries=args.chunk_queries,
        history_model=not args.no_history_model,
        benchmarks=args.benchmarks,
    )
    try:
        result = run_fit(
            settings, options, progress=StageProgress("train fit", enabled=not args.quiet)
        )
    except FitError as exc:
        raise _usage(exc.message) from exc
    payload = {
        "version": result.version,
        "report": str(result.report_html),
        "report_json": str(result.report_json),
        "weights": result.weights,
        "fallback": result.fallback,
        "metrics": result.metrics,
        "reused_queries": result.reused_queries,
        "skipped": result.skipped,
        "notes": result.notes,
        "verdict": result.verdict,
    }
    if args.json:
        print(json.dumps(payload, default=str))
        return 0
    if result.reused_queries:
        print(
            f"resumed an interrupted run: reused the features of {result.reused_queries} of "
            f"{result.train_queries} training queries"
        )
    print(
        f"registered {result.version} ({result.pairs} labelled pairs, "
        f"{result.feature_rows} feature rows, {result.test_queries} held-out queries)"
    )
    for note in result.notes:
        print(note)
    if result.fallback:
        print(f"kept the default weights: {result.fallback}")
    print("weights: " + ", ".join(f"{k}={v:.3f}" for k, v in result.weights.items()))
    print(table(result.comparison, _SHOWN))
    _print_benchmarks(result.comparison.get("benchmarks"))
    print(result.verdict)
    print(f"report: {result.report_html}")
    return 0


_SHOWN = ("ndcg@10", "hit@1", "hit@10", "mrr", "p@5", "capability_coverage", "sector_balance")


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from training.evaluate import compare_models, table
    from training.fit import (
        FitError,
        models_to_compare,
        prepare,
        settings_summary,
        verdict,
        write_eval_report,
    )
    from training.registry import Registry, RegistryError

    registry = Registry(settings.data_dir)
    versions = [v for v in registry.versions() if "weights" in registry.manifest(v)]
    version = args.version or (versions[-1] if versions else None)
    if version is None:
        raise _usage("no model versions yet: run `matcher train fit` first")
    try:
        manifest = registry.manifest(version)
    except RegistryError as exc:
        raise _usage(str(exc)) from exc
    if "weights" not in manifest:
        raise _usage(
            f"'{version}' is an embedding model: `matcher models evaluate-embed {version}`"
        )
    split = _split_of(args, manifest.get("split"))
    progress = StageProgress("train evaluate", enabled=not args.quiet)
    progress("opening the engine and its model", 0, 1)
    engine = _engine(settings)
    try:
        try:
            progress("reading partnership history and feedback", 0, 1)
            data = prepare(engine, split, feedback=not args.no_feedback)
        except FitError as exc:
            raise _usage(exc.message) from exc
        models, current = models_to_compare(manifest["weights"], registry, version)
        comparison = compare_models(engine, data["test"], models, progress=progress)
        comparison["published_version"] = current
        comparison["candidate_version"] = version
        view = {
            **manifest,
            "split": split,
            "data_hash": data["hash"],
            "settings": settings_summary(engine),
        }
    finally:
        engine.close()
    same_data = data["hash"] == manifest.get("data_hash")
    note = "" if same_data else " (history changed since this version was trained)"
    said = verdict(registry, version) + note
    json_path, html_path = write_eval_report(settings, version, view, comparison, verdict=said)
    if args.json:
        print(
            json.dumps(
                {
                    "version": version,
                    "report": str(html_path),
                    "report_json": str(json_path),
                    "metrics": comparison["models"],
                    "same_data": same_data,
                    "verdict": said,
                },
                default=str,
            )
        )
        return 0
    print(
        f"{version}: {comparison['queries']} held-out queries "
        f"({comparison['positives']} partners){note}"
    )
    print(table(comparison, _SHOWN))
    print(said)  # the evaluation's figures said, and whether publishing needs --force
    print(f"report: {html_path}")
    print(f"json:   {json_path}")
    return 0


def _print_benchmarks(bench: dict[str, Any] | None) -> None:
    if not bench:
        return
    if bench.get("skipped"):
        print(f"benchmarks skipped: {bench['skipped']}")
        return
    for task in ("T1", "T2"):
        for name, figs in (bench.get(task) or {}).items():
            shown = "  ".join(f"{k}={v:.3f}" for k, v in figs.items())
            print(f"{task}  {name:<48} {shown}")


def cmd_models_list(args: argparse.Namespace, settings: Settings) -> int:
    from training.registry import Registry, figures_note, split_text
    from training.registry_db import refresh

    for problem in refresh(settings.data_dir):  # PostgreSQL: the shared registry first
        print(f"matcher models list: {problem}", file=sys.stderr)
    registry = Registry(settings.data_dir)
    rows = registry.list()
    note = figures_note(rows)
    if args.json:
        payload = {"current": registry.current(), "versions": rows, "comparable": note is None}
        print(json.dumps({**payload, "note": note}, default=str))
        return 0
    if not rows:
        print("no model versions (the default weights are in use)")
        return 0
    for r in rows:
        mark = "*" if r["published"] else ("^" if r["previous"] else " ")
        if r.get("kind") == "embedding":
            print(
                f"{mark} {r['version']:<10} {r['created_at'] or '':<26} embedding "
                f"{r['model_name']} ({r['pairs']} pairs), gate: {r['gate']}"
            )
            continue
        value = "-" if r["value"] is None else f"{r['value']:.4f}"
        w = " ".join(f"{k[:4]}={v:.2f}" for k, v in (r["weights"] or {}).items())
        extra = "  (default weights kept)" if r["fallback"] else ""
        if r.get("narrow"):  # said at publish only before (helper-82's walk)
            extra += "  (narrow: trained on queries from elsewhere; publish needs --force)"
        split = f"[{split_text(r.get('split'))}]"
        print(
            f"{mark} {r['version']:<10} {r['created_at'] or '':<26} "
            f"{r['primary'] or '':>8}={value} {split:<20}  {w}{extra}"
        )
    if note:
        print(f"warning: {note}")
        print("  (`matcher train evaluate VERSION` measures VERSION and the published model on")
        print("  the same held-out queries)")
    if registry.current() is None:
        print("nothing published: the default weights are in use")
    print("* published  ^ rollback target  [the held-out split the figure was measured on]")
    return 0


def cmd_models_publish(args: argparse.Namespace, settings: Settings) -> int:
    from training.registry import Registry

    result = Registry(settings.data_dir).publish(args.version, force=args.force)
    if args.json:
        print(json.dumps(result, default=str))
    elif not result["changed"]:
        print(f"{args.version} is already published")
    elif result.get("kind") == "embedding":
        prev = result["previous"] or "the default model"
        forced = f" (forced past: {result['forced_past']})" if result["forced_past"] else ""
        print(
            f"published embedding model {args.version}, {result['model_name']} (was {prev})"
            f"{forced}; running services switch to it on their next request (at once when "
            "`matcher embed --switch` filled its vectors, else after embedding every profile)"
        )
    else:
        prev = result["previous"] or "the default weights"
        print(
            f"published {args.version} (was {prev}); running services switch on their next request"
        )
    return 0


def cmd_models_rollback(args: argparse.Namespace, settings: Settings) -> int:
    from training.registry import Registry

    if args.embedding:
        from training.embed_gate_cli import cmd_rollback_embedding

        return cmd_rollback_embedding(args, settings)

    result = Registry(settings.data_dir).rollback()
    if args.json:
        print(json.dumps(result, default=str))
    else:
        print(f"rolled back from {result['from']} to {result['to'] or 'the default weights'}")
    return 0


def cmd_models_prune(args: argparse.Namespace, settings: Settings) -> int:
    from training.registry import RegistryError
    from training.registry_prune import prune

    if args.keep < 1:
        raise _usage(f"--keep must be at least 1 (got {args.keep})")
    try:
        result = prune(settings.data_dir, args.keep, dry_run=args.dry_run)
    except RegistryError as exc:
        raise _usage(str(exc)) from exc
    if args.json:
        print(json.dumps(result.as_dict(), default=str))
        return 0
    verb = "would remove" if args.dry_run else "removed"
    for r in result.removed:
        shared = f", {_size(r.shared_bytes)} in the database" if result.shared else ""
        print(
            f"{verb} {r.version:<10} {r.kind:<9} {r.created_at or '':<26} "
            f"{_size(r.local_bytes)} here{shared}"
        )
    for version, why in result.protected.items():
        print(f"kept    {version:<10} {why}")
    if not result.removed:
        print(f"nothing to prune: at most {args.keep} versions of each kind beyond those kept")
        return 0
    shared = f" and {_size(result.shared_bytes)} in the database" if result.shared else ""
    print(
        f"{verb} {len(result.removed)} version{'s' if len(result.removed) > 1 else ''}: "
        f"{_size(result.local_bytes)} here{shared}"
        f" ({result.local_bytes + result.shared_bytes} bytes)"
    )
    return 0


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n} B"
