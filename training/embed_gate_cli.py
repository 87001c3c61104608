"""`matcher models register-embed | evaluate-embed`, `models rollback --embedding`: fine-tuned
embedding models as registry versions and their publish gate (issue 13)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from matcher.settings import Settings
from training.embed_gate import DEFAULT_TOLERANCE, Encode


def register(msub: Any) -> None:
    """Add the embedding actions to `matcher models`."""
    p = msub.add_parser(
        "register-embed", help="register a fine-tuned embedding model (train embed's output)"
    )
    p.add_argument("model_dir", type=Path, help="folder written by `matcher train embed`")
    p.add_argument("--no-export", action="store_true", help="skip the int8 ONNX export")
    p.add_argument(
        "--calibration-data",
        type=Path,
        default=None,
        help="data dir whose profiles calibrate the model's relevance floor (default: this one)",
    )
    p.add_argument(
        "--no-calibrate", action="store_true", help="no relevance floor (the model serves none)"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_register_embed)
    p = msub.add_parser(
        "calibrate-floor",
        help="calibrate (again) the relevance floor of a registered embedding model",
    )
    p.add_argument("version")
    p.add_argument("--calibration-data", type=Path, default=None, help="as for register-embed")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_calibrate_floor)
    p = msub.add_parser(
        "evaluate-embed",
        help="the publish gate: an embedding version against the published one (report)",
    )
    p.add_argument("version")
    p.add_argument(
        "--shared-data",
        type=Path,
        default=None,
        help="the shared benchmark data (T1, T3, T4 on the held-out states), if present",
    )
    p.add_argument("--eval-set", type=Path, default=None, help="JSONL: query, relevant, region")
    p.add_argument(
        "--no-stored", action="store_true", help="skip the stored labelled profiles' set"
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE,
        help=f"worse by more than this on a set's primary metric refuses ({DEFAULT_TOLERANCE})",
    )
    p.add_argument(
        "--cache-dir", type=Path, default=None, help="embedding cache (default models/gate-cache)"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_evaluate_embed)


def _usage(message: str) -> Exception:
    from matcher.cli_common import UsageError

    return UsageError(message)


def cmd_register_embed(args: argparse.Namespace, settings: Settings) -> int:
    from training.embed_registry import register_embedding
    from training.registry import RegistryError

    try:
        man = register_embedding(
            settings.data_dir,
            args.model_dir,
            export=not args.no_export,
            calibrate=not args.no_calibrate,
            calibration_dir=args.calibration_data,
        )
    except RegistryError as exc:
        raise _usage(str(exc)) from exc
    if args.json:
        print(json.dumps(man, default=str))
    else:
        print(next_steps(man))
    return 0


def cmd_calibrate_floor(args: argparse.Namespace, settings: Settings) -> int:
    from training.embed_registry import calibrate_registered
    from training.registry import RegistryError

    try:
        entry = calibrate_registered(settings.data_dir, args.version, args.calibration_data)
    except RegistryError as exc:
        raise _usage(str(exc)) from exc
    print(json.dumps(entry, default=str) if args.json else floor_line(entry))
    return 0 if entry.get("value") is not None else 1


def floor_line(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "relevance floor: not calibrated (none in force; `matcher models calibrate-floor`)"
    if entry.get("value") is None:
        return f"relevance floor: not calibrated ({entry.get('reason')})"
    return (
        f"relevance floor {entry['value']} (cuts the share {entry['quantile']} of "
        f"{entry['pairs']} unrelated profile pairs that {entry['base_floor']} cuts for the "
        f"base model; median cosine {entry['model_median']} against {entry['base_median']})"
    )


def next_steps(man: dict[str, Any]) -> str:
    onnx = man.get("onnx_int8")
    size = f"int8 ONNX {onnx['size_bytes'] / 1e6:.1f} MB" if onnx else "not exported yet"
    v = man["version"]
    return (
        f"registered {v}: {man['model_name']} ({man['size_bytes'] / 1e6:.1f} MB, {size})\n"
        f"{floor_line(man.get('relevance_floor'))}\n"
        f"next: `matcher models evaluate-embed {v} [--shared-data DIR] [--eval-set FILE]`, "
        f"then `matcher models publish {v}` (the next build re-embeds every profile)"
    )


def encoders(settings: Settings, version: str) -> tuple[Any, Any, str | None]:
    """(candidate embedder, published embedder, published version) as the engine builds them
    (settings.embed_backend: int8 ONNX by default)."""
    from matcher.embedding.factory import create_embedder
    from training.embed_registry import embedding_pointer
    from training.registry import Registry

    registry = Registry(settings.data_dir)

    def of(v: str) -> Any:
        man = registry.manifest(v)
        path = registry.root / v / man["model_dir"]
        return create_embedder(settings.model_copy(update={"model_path": path, **_name(man)}))

    published = embedding_pointer(settings.data_dir)["version"]
    if published is None:
        base = settings.model_copy(update={"model_path": settings.resolved_model_path()})
        return of(version), create_embedder(base), None
    return of(version), of(published), published


def _name(man: dict[str, Any]) -> dict[str, str]:
    return {"model_name": man["model_name"]}


def cached(embedder: Any, cache_dir: Path | None) -> Encode:
    if cache_dir is None:
        return lambda texts: embedder.encode(list(texts))
    from training.benchmarks.embeddings import EmbeddingStore, encode_cached

    store = EmbeddingStore(cache_dir, embedder.model_name)
    desc = f"gate: embedding with {embedder.model_name}"  # minutes for a set not yet cached
    return lambda texts: encode_cached(
        list(texts), embedder.encode, store, progress=True, desc=desc
    )


def cmd_evaluate_embed(args: argparse.Namespace, settings: Settings) -> int:
    from training.embed_gate import GateInputError, compare, eval_file_set, stored_profiles_set
    from training.embed_gate import write_report as write_gate
    from training.embed_gate_shared import shared_measures
    from training.embed_registry import is_embedding
    from training.registry import Registry, RegistryError

    registry = Registry(settings.data_dir)
    try:
        man = registry.manifest(args.version)
    except RegistryError as exc:
        raise _usage(str(exc)) from exc
    if not is_embedding(man):
        raise _usage(f"'{args.version}' is ranking weights: use `matcher train evaluate`")
    if args.tolerance < 0:
        raise _usage("--tolerance must be at least 0")
    held = [str(s) for s in (man.get("finetune") or {}).get("hold_out_states") or []]
    measures: list[Any] = []
    skipped: dict[str, str] = {}
    if args.shared_data is not None:
        found, why = shared_measures(args.shared_data, held)
        measures += found
        skipped.update(why)
    else:
        skipped["T1-T4"] = "no --shared-data given"
    orgs = _stored(settings) if (args.eval_set or not args.no_stored) else []
    if args.eval_set is not None:
        try:
            measures.append(eval_file_set(args.eval_set, orgs))
        except GateInputError as exc:
            raise _usage(str(exc)) from exc
    if not args.no_stored:
        stored = stored_profiles_set(orgs, held)
        if stored is None:
            skipped["stored labelled profiles"] = (
                "no stored coded profile has a peer of its cause code in its state"
                + (f" among {'+'.join(held)}" if held else "")
            )
        else:
            measures.append(stored)
    candidate, published, pub_version = encoders(settings, args.version)
    if pub_version == args.version:
        raise _usage(f"'{args.version}' is the published embedding model already")
    cache = args.cache_dir or settings.data_dir / "models" / "gate-cache"
    report = compare(
        measures,
        cached(candidate, cache),
        cached(published, cache),
        tolerance=args.tolerance,
        skipped=skipped,
        progress=lambda name: print(f"gate: {name}", file=sys.stderr, flush=True),
    )
    report.update(
        candidate=args.version,
        candidate_model=candidate.model_name,
        published=pub_version,
        published_model=published.model_name,
        held_out_states=held,
    )
    with registry._locked():  # a registry write: shared on PostgreSQL (training.registry_db)
        json_path, txt_path = write_gate(registry.root / args.version, report)
    if args.json:
        print(json.dumps({**report, "report": str(json_path)}, default=str))
    else:
        from training.embed_gate import text_report

        print(text_report(report), end="")
        print(f"report: {txt_path}")
    return 0 if report["verdict"] == "pass" else 1


def _stored(settings: Settings) -> list[Any]:
    from matcher.store import Database, Store

    db = Database(settings.sqlalchemy_url)
    db.create_all()
    try:
        return [o for _pk, o in Store(db).organisations()]
    finally:
        db.dispose()


def cmd_rollback_embedding(args: argparse.Namespace, settings: Settings) -> int:
    from training.embed_registry import rollback_embedding
    from training.registry import Registry, RegistryError

    try:
        result = rollback_embedding(Registry(settings.data_dir))
    except RegistryError as exc:
        raise _usage(str(exc)) from exc
    if args.json:
        print(json.dumps(result, default=str))
    else:
        print(
            f"embedding model rolled back from {result['from']} to "
            f"{result['to'] or 'the default model'}; running services switch back on their next "
            "request (embedding every profile first when its vectors are not kept)"
        )
    return 0
