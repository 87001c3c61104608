"""`matcher train embed`: fine-tune the embedding model on the stored profiles' cause codes."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

from matcher.settings import Settings

MODELS_DIR = "models/embed"
RUNS_DIR = "runs/embed"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "embed",
        help="fine-tune the embedding model on profiles with cause codes (MNRL, hard negatives)",
    )
    p.add_argument("--out", required=True, help="name of the fine-tuned model (models/embed/NAME)")
    p.add_argument("--max-pairs", type=int, default=20_000, help="training triplets at most")
    p.add_argument(
        "--pairs",
        default="missions",
        help="comma list of pair sources: missions (two missions of one cause), definitions "
        "(a cause's definition and its members; needs --definitions), outcomes (accepted "
        "introductions, partnership records and past partnerships: the text and who took it "
        "up), grants (a grant and its recipient). Default: missions",
    )
    p.add_argument(
        "--definitions",
        default=None,
        metavar="FILE|taxonomy",
        help="the cause definitions of the `definitions` source: a taxonomy file (code, title, "
        "definition), read now, or `taxonomy` for the loaded one",
    )
    p.add_argument(
        "--definition-pairs",
        type=int,
        default=3,
        help="definition pairs per cause (its members as positives)",
    )
    p.add_argument("--min-pairs", type=int, default=1000, help="refuse to train on fewer triplets")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=2e-5)
    p.add_argument("--max-seq-length", type=int, default=128)
    p.add_argument("--checkpoint-every", type=int, default=50, help="steps between checkpoints")
    p.add_argument(
        "--hold-out-states", default="", help="comma list of states never trained on (HI,MT)"
    )
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    p.add_argument(
        "--no-register",
        action="store_true",
        help="do not register the model as a registry version (nor export it to int8 ONNX)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_embed)


def cmd_embed(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.cli_common import UsageError
    from matcher.store import Database, Store
    from training.finetune.pair_sources import parse_sources
    from training.finetune.train import FinetuneOptions, finetune

    if not _NAME.match(args.out):
        raise UsageError(f"--out: '{args.out}' is not a name (letters, digits, . _ -)")
    try:
        sources = parse_sources(args.pairs)
    except ValueError as exc:
        raise UsageError(f"--pairs: {exc}") from exc
    if "definitions" in sources and not args.definitions:
        raise UsageError("--pairs definitions needs --definitions FILE (or `taxonomy`)")
    for flag in ("max_pairs", "epochs", "batch_size", "checkpoint_every", "definition_pairs"):
        if getattr(args, flag) < 1:
            raise UsageError(f"--{flag.replace('_', '-')} must be at least 1")
    out_dir = settings.data_dir / MODELS_DIR / args.out
    if out_dir.exists():
        raise UsageError(f"{out_dir} exists: choose another --out")
    db = Database(settings.sqlalchemy_url)
    db.create_all()
    held = [s.strip().upper() for s in args.hold_out_states.split(",") if s.strip()]
    try:
        triplets, counts, by_source = collect_triplets(args, Store(db), sources, held)
    finally:
        db.dispose()
    if len(triplets) < max(2, args.min_pairs):
        raise UsageError(
            f"only {len(triplets)} training pairs (--min-pairs {args.min_pairs}) from "
            f"{', '.join(f'{k} {v}' for k, v in by_source.items())}: import more profiles with "
            f"cause codes (e.g. `matcher train import irs ...`) or add pair sources (--pairs); "
            f"{counts}"
        )
    options = FinetuneOptions(
        batch_size=args.batch_size,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        checkpoint_every=args.checkpoint_every,
        max_seq_length=args.max_seq_length,
        threads=args.threads,
    )
    t0 = time.perf_counter()

    def progress(step: int, total: int, loss: float) -> None:
        if step == 1 or step % 10 == 0 or step == total:
            print(
                f"embed: step {step}/{total}, loss {loss:.3f} [{time.perf_counter() - t0:.0f} s]",
                file=sys.stderr,
                flush=True,
            )

    print(
        f"embed: {len(triplets)} triplets ({', '.join(f'{k} {v}' for k, v in by_source.items())})",
        file=sys.stderr,
    )
    result = finetune(
        settings.resolved_model_path(),
        triplets,
        out_dir,
        settings.data_dir / RUNS_DIR,
        options,
        progress=progress,
        extra_manifest={
            "hold_out_states": held,
            "counts": counts,
            "name": args.out,
            "pair_sources": by_source,
        },
    )
    payload: dict[str, Any] = {**result.manifest, "model_dir": str(out_dir)}
    registered = None
    if not args.no_register:
        from matcher.errors import MatcherError
        from training.embed_registry import register_embedding

        try:
            registered = register_embedding(settings.data_dir, out_dir)
        except MatcherError as exc:  # the model is saved: only its registration failed
            print(
                f"embed: model saved in {out_dir}, but not registered: {exc}\n"
                f"  register it later: matcher models register-embed {out_dir}",
                file=sys.stderr,
            )
            return 1
        payload.update(version=registered["version"], model_name=registered["model_name"])
    if args.json:
        print(json.dumps(payload, default=str))
        return 0
    print(
        f"fine-tuned in {result.manifest['seconds']} s ({result.manifest['steps']} steps, loss "
        f"{result.manifest['loss_first_steps']} -> {result.manifest['loss_last_steps']}); "
        f"model in {out_dir}"
    )
    if registered is not None:
        from training.embed_gate_cli import next_steps

        print(next_steps(registered))
    else:
        print(
            f"register it: matcher models register-embed {out_dir} (registering calibrates "
            "its relevance floor)"
        )
    return 0


def collect_triplets(
    args: argparse.Namespace, store: Any, sources: list[str], held: list[str]
) -> tuple[list[Any], dict[str, Any], dict[str, int]]:
    """The triplets of every chosen source (training.finetune.pairs, .pair_sources), the
    counts of what each used and skipped, and the triplets per source."""
    from matcher.cli_common import UsageError
    from matcher.errors import ValidationError
    from training.finetune.pair_sources import (
        definition_triplets,
        taken_up,
        taken_up_triplets,
    )
    from training.finetune.pairs import build_triplets

    orgs = [o for _pk, o in store.organisations()]
    triplets: list[Any] = []
    counts: dict[str, Any] = {}
    by_source: dict[str, int] = {}
    if "missions" in sources:
        part, counts["missions"] = build_triplets(
            orgs, max_pairs=args.max_pairs, hold_out_states=held
        )
        triplets += part
        by_source["missions"] = len(part)
    if "definitions" in sources:
        from training.cli import read_definitions

        try:
            causes = read_definitions(args.definitions, store)
        except ValidationError as exc:
            raise UsageError(str(exc)) from exc
        part, counts["definitions"] = definition_triplets(
            orgs, causes, per_cause=args.definition_pairs, hold_out_states=held
        )
        triplets += part
        by_source["definitions"] = len(part)
    wanted = [s for s in ("outcomes", "grants") if s in sources]
    if wanted:
        found = taken_up(store.db)
        for source in wanted:
            part, counts[source] = taken_up_triplets(
                found[source], orgs, max_pairs=args.max_pairs, hold_out_states=held
            )
            triplets += part
            by_source[source] = len(part)
    return triplets, counts, by_source
