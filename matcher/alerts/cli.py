"""`matcher alerts run`: follow the organisations' changes and queue alerts for saved needs."""

from __future__ import annotations

import argparse
from typing import Any

from matcher.cli_common import dumps, positive_seconds, repeat
from matcher.settings import Settings


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.alerts.worker import AlertWorker
    from matcher.engine import Engine

    engine = Engine.open(settings)
    try:
        # this process follows writes made by others: changed rows are read into its indexes
        worker = AlertWorker(engine, margin=args.margin, refresh=True)

        def step() -> int:
            report = worker.run_once()
            if args.json:
                print(dumps(report.as_dict()), flush=True)
            elif report.changes or report.alerts or args.every is None:
                print(
                    f"{report.changes} change(s), {report.candidates} candidate(s), "
                    f"{report.confirmed} recommend call(s), {len(report.alerts)} alert(s), "
                    f"{report.pending} pending, {report.seconds:.2f} s",
                    flush=True,
                )
            return 0

        return repeat(args.every, step)
    finally:
        engine.close()


def register(subparsers: Any) -> None:
    alerts = subparsers.add_parser("alerts", help="saved-need alerts: follow changes, queue")
    sub = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    p = sub.add_parser("run", help="read the changes since the stored cursor once (or --every)")
    p.add_argument("--every", type=positive_seconds, metavar="SECONDS", help="keep following")
    p.add_argument(
        "--margin",
        type=float,
        default=0.1,
        help="screen: keep organisations this far below a saved need's bar (default 0.1)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_run)
