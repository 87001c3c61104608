"""`matcher notify ...`: queue a message, deliver what is due, show the outbox."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from matcher.cli_common import dumps, notice, positive_seconds, repeat
from matcher.notify.base import Message, redact, shown_address
from matcher.notify.dispatcher import Dispatcher
from matcher.notify.factory import create_notifier
from matcher.notify.outbox import STATUSES, Outbox
from matcher.settings import Settings

logger = logging.getLogger(__name__)


def _outbox(settings: Settings) -> Outbox:
    from matcher.store import Database

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    db.create_all()
    return Outbox(db)


def cmd_send(args: argparse.Namespace, settings: Settings) -> int:
    body = args.body if args.body is not None else ""
    row, created = _outbox(settings).enqueue(Message(args.to, args.subject, body, args.key))
    if args.json:
        print(dumps({"key": row.key, "queued": created, "status": row.status}))
    else:
        print(
            f"queued {row.key}; `matcher notify run` delivers it"
            if created
            else f"{row.key} was queued before ({row.status}); nothing added"
        )
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    outbox = _outbox(settings)
    # e-mail to MATCHER_NOTIFY_URL; a saved need's webhook URL POSTed to, signed with its secret
    notifier = create_notifier(settings, outbox.db)
    dispatcher = Dispatcher.from_settings(outbox, notifier, settings)
    if notifier is None:
        notice("no notifier configured (MATCHER_NOTIFY_URL): messages stay queued")
    else:
        notice(f"delivering through {redact(settings.notify_url or '')}")

    def step() -> int:
        report = dispatcher.run_once()
        if args.json:
            print(dumps(report.as_dict()), flush=True)
        else:
            print(
                f"sent {len(report.sent)}, failed {len(report.failed)}"
                + (f" (stopped: {report.stopped})" if report.stopped else ""),
                flush=True,
            )
        return 1 if report.failed else 0

    try:
        return repeat(args.every, step)
    finally:
        if notifier is not None:
            notifier.close()


def cmd_queue(args: argparse.Namespace, settings: Settings) -> int:
    outbox = _outbox(settings)
    if args.retry_now:
        notice(f"{outbox.retry_now()} queued message(s) made due now")
    counts = outbox.counts()
    rows = outbox.rows(status=args.status, limit=args.limit)
    if args.json:
        # a webhook URL masked: its path or query is often its credential
        fields = ("subject", "status", "attempts", "last_error")
        out: list[dict[str, Any]] = [
            {
                "key": r.key,
                "recipient": shown_address(r.recipient),
                **{f: getattr(r, f) for f in fields},
                "next_attempt_at": r.next_attempt_at,
                "sent_at": r.sent_at,
            }
            for r in rows
        ]
        print(dumps({"counts": counts, "rows": out}))
        return 0
    print(", ".join(f"{k} {v}" for k, v in counts.items()))
    for r in rows:
        when = (
            f"sent {r.sent_at:%Y-%m-%d %H:%M}"
            if r.sent_at
            else f"next {r.next_attempt_at:%Y-%m-%d %H:%M:%S}"
        )
        error = f"  last error: {r.last_error[:120]}" if r.last_error else ""
        print(
            f"{r.status:8} {r.attempts:3}x  {when}  {r.key}  -> {shown_address(r.recipient)}{error}"
        )
    return 0


def cmd_requeue(args: argparse.Namespace, settings: Settings) -> int:
    if not args.keys and not args.all_dead:
        notice("name the dead messages' keys, or --all-dead")
        return 2
    n = _outbox(settings).requeue(None if args.all_dead else list(args.keys))
    if args.json:
        print(dumps({"requeued": n}))
    else:
        print(f"{n} dead message(s) queued again; `matcher notify run` delivers them")
    return 0


def register(subparsers: Any) -> None:
    notify = subparsers.add_parser("notify", help="notifications: queue, deliver, inspect")
    sub = notify.add_subparsers(dest="notify_command", required=True, metavar="ACTION")

    p = sub.add_parser("send", help="queue one message (once per --key); `run` delivers it")
    p.add_argument(
        "--to", required=True, help="e-mail address (or an id the operator's webhook relays)"
    )
    p.add_argument("--subject", required=True)
    p.add_argument("--body", help="plain text")
    p.add_argument("--key", required=True, help="idempotency key of the event")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_send)

    p = sub.add_parser("run", help="deliver the due messages once (or --every SECONDS)")
    p.add_argument("--every", type=positive_seconds, metavar="SECONDS", help="keep running")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("queue", help="counts and the newest messages of the outbox")
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--retry-now", action="store_true", help="make every queued message due now")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_queue)

    p = sub.add_parser("requeue", help="queue dead messages again (after fixing the address)")
    p.add_argument("keys", nargs="*", metavar="KEY", help="keys of dead messages")
    p.add_argument("--all-dead", action="store_true", help="every dead message")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_requeue)
