"""Delivers the outbox: claim a due row, send it, mark it; a failure keeps it queued with its
attempts and last error, due again after an exponential backoff with jitter. A message the
receiver refuses for good (SMTP 5xx, a webhook's 4xx) or refuses `max_attempts` times is set
aside as dead, with its last error, until `matcher notify requeue`; a notifier that cannot be
reached never makes a message dead (it stays queued, however long the outage).

Never twice, with one window. A row is claimed atomically before sending (Outbox.claim), so two
dispatchers never send the same row, and a sent row is never claimed again. The one
at-least-once window: a dispatcher that dies after the server accepted the message and before
the row is marked sent leaves it `sending`; after the lease (settings.notify_lease_seconds) it
is claimed and sent again. Every copy carries the event's key (Message-ID and
X-Matcher-Notification-Key for e-mail, Idempotency-Key for webhooks) so the receiver can drop
the duplicate."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import timedelta

from matcher.errors import DeliveryError
from matcher.notify.base import Notifier
from matcher.notify.outbox import Claim, Outbox
from matcher.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Delay after the n-th failed attempt: base * factor**(n-1), at most max_seconds, times a
    random factor in [1 - jitter, 1 + jitter] (so queued messages do not retry in lockstep).
    With jitter below 1/3 and factor 2, each delay is longer than the one before, up to max."""

    base_seconds: float = 30.0
    factor: float = 2.0
    max_seconds: float = 3600.0
    jitter: float = 0.25

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            base_seconds=settings.notify_retry_base_seconds,
            factor=settings.notify_retry_factor,
            max_seconds=settings.notify_retry_max_seconds,
            jitter=settings.notify_retry_jitter,
        )

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        exponent = min(max(attempts - 1, 0), 64)  # no float overflow after many attempts
        raw = min(self.max_seconds, self.base_seconds * self.factor**exponent)
        spread = (rng or random).uniform(-self.jitter, self.jitter) if self.jitter else 0.0
        return raw * (1.0 + spread)


@dataclass
class DispatchReport:
    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # key -> error
    dead: list[str] = field(default_factory=list)  # set aside: refused for good or too often
    lost_claims: int = 0  # rows another dispatcher claimed first
    stopped: str | None = None  # a transport error that ended the run early
    no_notifier: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "dead": self.dead,
            "lost_claims": self.lost_claims,
            "stopped": self.stopped,
            "no_notifier": self.no_notifier,
        }


class Dispatcher:
    def __init__(
        self,
        outbox: Outbox,
        notifier: Notifier | None,
        policy: RetryPolicy | None = None,
        *,
        lease_seconds: float = 300.0,
        batch_size: int = 100,
        rng: random.Random | None = None,
        max_attempts: int = 8,
    ):
        self.outbox = outbox
        self.notifier = notifier
        self.policy = policy or RetryPolicy()
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.rng = rng or random.Random()
        self.max_attempts = max_attempts

    @classmethod
    def from_settings(
        cls, outbox: Outbox, notifier: Notifier | None, settings: Settings
    ) -> Dispatcher:
        return cls(
            outbox,
            notifier,
            RetryPolicy.from_settings(settings),
            lease_seconds=settings.notify_lease_seconds,
            batch_size=settings.notify_batch_size,
            max_attempts=settings.notify_max_attempts,
        )

    def run_once(self) -> DispatchReport:
        """One pass over the rows due now (at most batch_size)."""
        report = DispatchReport()
        if self.notifier is None:
            waiting = self.outbox.counts()["queued"]
            report.no_notifier = True
            if waiting:
                logger.warning(
                    "%d notification(s) queued; no notifier configured (MATCHER_NOTIFY_URL), "
                    "so they stay queued",
                    waiting,
                )
            return report
        for pk in self.outbox.due(self.lease, self.batch_size):
            claim = self.outbox.claim(pk, self.lease)
            if claim is None:
                report.lost_claims += 1
                continue
            key = claim.message.key
            try:
                self.notifier.send(claim.message)
            except DeliveryError as exc:
                if exc.permanent or (not exc.transport and claim.attempts >= self.max_attempts):
                    self._dead(claim, str(exc), report)
                    continue
                self._failed(claim, str(exc), report)
                if exc.transport:
                    report.stopped = str(exc)
                    logger.warning("notifier unreachable, stopping this run: %s", exc)
                    break
                continue
            except Exception as exc:  # a bug in a backend: keep the row queued, then raise
                self._failed(claim, f"{type(exc).__name__}: {exc}", report)
                raise
            if not self.outbox.mark_sent(claim):
                logger.warning(
                    "notification %r was sent but its claim had expired (lease %s): another "
                    "dispatcher may send it again; receivers de-duplicate by its key",
                    key,
                    self.lease,
                )
            report.sent.append(key)
        return report

    def _dead(self, claim: Claim, error: str, report: DispatchReport) -> None:
        self.outbox.mark_dead(claim, error)
        report.failed[claim.message.key] = error
        report.dead.append(claim.message.key)
        logger.warning(
            "notification %r set aside as dead after %d attempt(s) (`matcher notify requeue` "
            "sends it again): %s",
            claim.message.key,
            claim.attempts,
            error,
        )

    def _failed(self, claim: Claim, error: str, report: DispatchReport) -> None:
        delay = self.policy.delay(claim.attempts, self.rng)
        retry_at = self.outbox.clock() + timedelta(seconds=delay)
        self.outbox.mark_failed(claim, error, retry_at)
        report.failed[claim.message.key] = error
        logger.info(
            "notification %r failed (attempt %d), retry in %.0f s: %s",
            claim.message.key,
            claim.attempts,
            delay,
            error,
        )
