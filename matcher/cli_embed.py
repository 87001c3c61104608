"""`matcher embed`: fill the configured model's vector space for the whole database (local or
on Ray), validate it and, with --switch, build an index generation from it and serve it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from matcher.cli_common import UsageError, dumps, notice
from matcher.priority import BATCH_NICE, lower_priority
from matcher.settings import Settings


def cmd_embed(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.embed_job import run_embed

    if args.address and args.executor != "ray":
        raise UsageError("--address needs --executor ray")
    if args.model_path is not None:
        if not args.model_path.is_dir():
            raise UsageError(f"--model-path: no model folder at {args.model_path}")
        settings = settings.model_copy(update={"model_path": args.model_path})
    if args.batch_size < 1 or args.workers < 1:
        raise UsageError("--batch-size and --workers must be at least 1")
    check = _t1_check(args, notice if not args.quiet else None) if args.t1 else None
    if not 0 <= args.nice <= 19:
        raise UsageError(f"--nice: 0 to 19, not {args.nice}")
    if args.t1_min is not None and not args.t1:
        raise UsageError("--t1-min needs --t1 SHARED_DATA")
    # below the serving processes of this machine: a query must not wait for the job's CPU
    priority = lower_priority(args.nice)
    report = run_embed(
        settings,
        check=check,
        executor=args.executor,
        address=args.address,
        batch_size=args.batch_size,
        workers=args.workers,
        switch=args.switch,
        say=None if args.quiet else notice,
    )
    report.extra["priority"] = {"nice": priority.nice, "io": priority.io}
    if args.json:
        print(dumps(report.as_dict()))
        return 0
    print(
        f"vector space {report.identity}: {report.status}, {report.texts} texts "
        f"({report.already} already there, {report.adopted} adopted, {report.embedded} embedded "
        f"in {report.batches} batches, {report.texts_per_second} texts/s with {report.executor})"
    )
    if "t1" in report.extra:
        t1 = report.extra["t1"]
        print(
            f"T1 sample ({', '.join(t1['states'])}: {t1['profiles']} profiles, "
            f"{t1['queries']} queries): P@10 {t1['P@10']:.3f}, nDCG@10 {t1['nDCG@10']:.3f}"
        )
    if report.mean_source:
        print(f"centring mean: {report.mean_source}")
    if report.switched:
        print(f"serving index generation {report.switched['generation']}")
    else:
        print("not switched: the current index generation keeps serving (add --switch)")
    return 0


def _t1_check(args: argparse.Namespace, say: Any) -> Any:
    """T1 on a few states with the new model; below --t1-min refuses the switch."""
    shared: Path = args.t1
    if not (shared / "us_nonprofits_dev.csv.gz").is_file():
        raise UsageError(f"--t1: {shared} has no us_nonprofits_dev.csv.gz")
    states = [s.strip().upper() for s in args.t1_states.split(",") if s.strip()]

    def check(model: Any) -> dict[str, Any]:
        from matcher.cli_common import EMBED_SAMPLE_CHECKS
        from matcher.embed_job import EmbedJobError

        t1_sample = EMBED_SAMPLE_CHECKS.get("t1")
        if t1_sample is None:
            raise UsageError("--t1 needs the training package (training.cli adds the T1 check)")

        if say is not None:
            say(f"embed: T1 on {', '.join(states)} with the new model")
        try:
            figures = t1_sample(shared, model.encode, states)
        except ValueError as exc:
            raise EmbedJobError(f"--t1: {exc}") from exc
        if args.t1_min is not None and figures["P@10"] < args.t1_min:
            raise EmbedJobError(
                f"T1 sample P@10 {figures['P@10']:.3f} is below --t1-min {args.t1_min}: "
                "the vectors are kept, the index is not switched"
            )
        return {"t1": figures}

    return check


def register(sub: Any) -> None:
    p = sub.add_parser(
        "embed",
        help="re-embed every profile, need and cause text for the model (resumable job)",
    )
    p.add_argument("--executor", choices=["local", "ray"], default="local")
    p.add_argument(
        "--address", help="with --executor ray: the Ray cluster (default: a private local one)"
    )
    p.add_argument("--model-path", type=Path, help="model folder (default: the configured one)")
    p.add_argument("--batch-size", type=int, default=256, help="texts per committed batch")
    p.add_argument(
        "--workers",
        type=int,
        default=2,
        help="Ray actors, or local onnxruntime sessions in threads (one CPU each)",
    )
    p.add_argument(
        "--switch",
        action="store_true",
        help="when complete, build an index generation from the new vectors and serve it",
    )
    p.add_argument(
        "--t1",
        type=Path,
        metavar="SHARED_DATA",
        help="after validation, T1 on a few states (needs us_nonprofits_dev.csv.gz there)",
    )
    p.add_argument("--t1-states", default="RI,DE,VT", help="states of the T1 sample")
    p.add_argument("--t1-min", type=float, help="with --t1: refuse --switch below this P@10")
    p.add_argument(
        "--nice",
        type=int,
        default=BATCH_NICE,
        help=f"run at this CPU niceness (default {BATCH_NICE}; I/O best-effort 7 when above 0) "
        "so the serving processes of the machine answer first; 0 keeps the job's priority",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(handler=cmd_embed)
