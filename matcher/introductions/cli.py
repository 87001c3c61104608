"""`matcher introductions expire`: mark unanswered introduction requests past their expiry as
expired (each with its audit event). The service also expires them whenever introductions are
read or written; this command (once, or `--every SECONDS` beside `matcher notify run`) makes
the status true when nobody touches them, so inboxes, the analytics and `train fit` agree."""

from __future__ import annotations

import argparse
from typing import Any

from matcher.cli_common import dumps, positive_seconds, repeat
from matcher.settings import Settings


def cmd_expire(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.introductions import Introductions, IntroductionSettings
    from matcher.store import Database

    db = Database(settings.sqlalchemy_url)
    db.create_all()
    intros = Introductions(db, settings=IntroductionSettings.from_settings(settings))

    def step() -> int:
        expired = intros.expire_due()
        if args.json:
            print(dumps({"expired": expired}), flush=True)
        elif expired or args.every is None:
            print(f"{expired} introduction request(s) expired", flush=True)
        return 0

    try:
        return repeat(args.every, step)
    finally:
        db.dispose()


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("introductions", help="introduction requests: upkeep")
    sub = group.add_subparsers(dest="introductions_command", required=True, metavar="ACTION")
    p = sub.add_parser("expire", help="mark requests past their expiry as expired (or --every)")
    p.add_argument("--every", type=positive_seconds, metavar="SECONDS", help="keep running")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_expire)
