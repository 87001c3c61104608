"""The `matcher` command: ingest, build, recommend, coalition, match, needs-for, stats.

Exit codes: 0 success; 1 some input rows or needs were rejected (the good ones were kept);
2 usage errors (bad options, unreadable file, bad mapping).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pydantic import ValidationError as PydanticValidationError  # noqa: E402

from matcher.cli_common import (  # noqa: E402
    UsageError,
    dumps,
    one_line,
    register_command_groups,
)
from matcher.domain import SECTORS, Filters, Need  # noqa: E402
from matcher.errors import MatcherError, ValidationError  # noqa: E402
from matcher.settings import Settings  # noqa: E402

logger = logging.getLogger(__name__)
_one_line = one_line
__all__ = ["UsageError", "build_parser", "dumps", "main"]


def _latlon(value: str) -> tuple[float, float]:
    try:
        lat_s, lon_s = value.split(",")
        return float(lat_s), float(lon_s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--near expects LAT,LON, got {value!r}") from None


def _add_need_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", nargs="?", help="the problem, in plain words")
    p.add_argument(
        "--sector",
        action="append",
        choices=SECTORS,
        default=[],
        help="wanted partner sector (repeatable)",
    )
    p.add_argument(
        "--place",
        help="where the need is, by name: 'Providence, RI', '02903', 'Sussex County, Delaware', "
        "'Rhode Island'; partners are searched within its state unless --region, --country or "
        "--radius-km say otherwise",
    )
    p.add_argument("--country", help="country code or name, e.g. US, USA, United States (filter)")
    p.add_argument("--region", help="state by name or code, e.g. 'Rhode Island' or RI (filter)")
    p.add_argument("--near", type=_latlon, metavar="LAT,LON", help="the need's location")
    p.add_argument("--radius-km", type=float, help="only partners within this distance of --near")
    p.add_argument(
        "--capability",
        action="append",
        default=[],
        help="required capability (repeatable), e.g. funding, volunteers",
    )
    p.add_argument("--requester", help="id of the requesting organisation (for reciprocity)")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="matcher", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="data directory (default ./var)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in data dir)")
    parser.add_argument("--model", help="embedding model name ('hashing-v1' for no model)")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="validate and upsert profiles or needs from a file")
    p.add_argument("file", type=Path)
    p.add_argument("--format", choices=["csv", "jsonl", "parquet"])
    p.add_argument("--kind", choices=["organisation", "need"], default="organisation")
    p.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN")
    p.add_argument("--default", action="append", default=[], metavar="FIELD=VALUE")
    p.add_argument("--dry-run", action="store_true", help="validate only, store nothing")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("build", help="embed what changed and rebuild the indexes")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no stage lines or progress bar")
    p = sub.add_parser("bootstrap", help="load the bundled sample if the store is empty; build")
    p = sub.add_parser(
        "stats", help="what is stored and indexed, and how far behind the index is (never builds)"
    )
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("recommend", help="ranked partners for a need")
    _add_need_options(p)
    p.add_argument(
        "--batch",
        type=Path,
        help="JSON Lines of needs, one per line, with the fields of POST /v1/recommendations "
        "(text, wanted_sectors, required_capabilities, city, region, country, lat, lon, "
        "radius_km, requester_id, limit, filters) and an optional id",
    )
    p.add_argument("--out", type=Path, help="with --batch: where to write results")
    p = sub.add_parser("coalition", help="a cross-sector coalition for a need, and the gaps")
    _add_need_options(p)

    p = sub.add_parser("match", help="aligned organisations for an organisation")
    p.add_argument("org_id")
    p.add_argument("--sector", action="append", choices=SECTORS, default=[])
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("needs-for", help="open needs an organisation could help with")
    p.add_argument("org_id")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("causes", help="the cause taxonomy: load (replace), list or clear it")
    p.add_argument("action", choices=["load", "list", "clear"])
    p.add_argument("file", type=Path, nargs="?", help="with load: CSV, JSON Lines or Parquet")
    p.add_argument("--format", choices=["csv", "jsonl", "parquet"])
    p.add_argument(
        "--describes",
        help="with load: the sectors whose organisations the taxonomy describes, comma-separated "
        "(NTEE codes: nonprofit,community,government); cause agreement ranks and explains only "
        "these. Default: every sector",
    )
    p.add_argument("--json", action="store_true")
    register_command_groups(sub)  # `matcher train ...`, `models ...` (training), `notify ...`
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    if args.database_url:
        overrides["database_url"] = args.database_url
    if args.model:
        overrides["model_name"] = args.model
    return Settings(**overrides)


def _need_from_args(args: argparse.Namespace) -> tuple[Need, Filters]:
    if not args.text or not args.text.strip():
        raise UsageError('give the need\'s text, e.g. matcher recommend "food bank volunteers"')
    if args.radius_km is not None and args.near is None and not getattr(args, "place", None):
        raise UsageError("--radius-km needs --near LAT,LON or --place")
    if not 1 <= args.limit <= 1000:
        raise UsageError("--limit must be between 1 and 1000")
    lat, lon = args.near if args.near else (None, None)
    radius = args.radius_km if args.near is None else None  # --place + --radius-km: around it
    need = Need(
        text=args.text,
        place=getattr(args, "place", None),
        lat=lat,
        lon=lon,
        radius_km=radius if getattr(args, "place", None) else None,
        required_capabilities=args.capability,
        requester_id=args.requester,
    )
    filters = Filters(
        sectors=args.sector,
        country=args.country,
        region=args.region,
        near=args.near,
        radius_km=args.radius_km if args.near is not None else None,
    )
    return need, filters


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from matcher import cli_commands as cmds

    if getattr(args, "handler", None) is not None:
        return int(args.handler(args, settings))
    handler = {
        "ingest": cmds.cmd_ingest,
        "build": cmds.cmd_build,
        "bootstrap": cmds.cmd_bootstrap,
        "stats": cmds.cmd_stats,
        "recommend": cmds.cmd_recommend,
        "coalition": cmds.cmd_coalition,
        "match": cmds.cmd_match,
        "needs-for": cmds.cmd_needs_for,
        "causes": cmds.cmd_causes,
    }[args.command]
    return handler(args, settings)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from matcher.registry_sync import database_url_for

    try:
        settings = _settings(args)
        with database_url_for(settings.database_url):  # registry writes: shared on PostgreSQL
            return _run(args, settings)
    except UsageError as exc:
        print(f"matcher {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (ValidationError, PydanticValidationError) as exc:
        print(f"matcher {args.command}: invalid input: {_one_line(exc)}", file=sys.stderr)
        return 2
    except MatcherError as exc:
        print(f"matcher {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"matcher {args.command}: interrupted; the index in use is unchanged", file=sys.stderr
        )
        return 130
    except BrokenPipeError:
        # the reader stopped ("matcher causes list --json | head"): no traceback, and none again
        # when Python flushes stdout at exit (helper-76's walk, 2026-12-06)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
