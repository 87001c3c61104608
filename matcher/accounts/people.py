"""People: sign-up, log-in (throttled), sessions, and single-use link tokens for password
reset and e-mail verification. Link e-mails are queued in the notification outbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from matcher.accounts import credentials as cred
from matcher.accounts.throttle import LoginThrottle
from matcher.domain import new_id, utcnow
from matcher.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from matcher.notify.base import Message
from matcher.notify.outbox import Outbox
from matcher.store.db import Database
from matcher.store.db import aware as _aware
from matcher.store.models import AccountTokenRow, PersonRow, PersonSessionRow

RESET_HOURS = 1.0
VERIFY_HOURS = 72.0
RESETS_PER_HOUR = 3  # more reset requests for one account within an hour queue nothing


@dataclass(frozen=True)
class Person:
    id: str
    email: str
    name: str
    email_verified: bool
    created_at: datetime


def _person(row: PersonRow) -> Person:
    return Person(row.id, row.email, row.name, row.email_verified, _aware(row.created_at))


class Accounts:
    def __init__(
        self,
        db: Database,
        *,
        public_url: str = "http://localhost:8000",
        session_days: float = 14.0,
        throttle: LoginThrottle | None = None,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.db = db
        self.public_url = public_url.rstrip("/")
        self.session_lifetime = timedelta(days=session_days)
        self.throttle = throttle or LoginThrottle(db)
        self.clock = clock
        self.outbox = Outbox(db, clock=lambda: self.clock())
        self.on_verified: list[Callable[[Person], None]] = []

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        """Tests: one clock for the accounts, the throttle and the outbox."""
        self.clock = clock
        self.throttle.clock = clock

    # people ---------------------------------------------------------------------------------
    def sign_up(self, email: str, password: str, name: str = "") -> Person:
        email = cred.normalise_email(email)
        cred.check_password(password)
        row = PersonRow(
            id=new_id("person"),
            email=email,
            name=name.strip()[:200],
            password_hash=cred.hash_password(password),
            email_verified=False,
            created_at=self.clock(),
        )
        try:
            with self.db.session() as s:
                if s.scalar(select(PersonRow.id).where(PersonRow.email == email)) is not None:
                    raise ConflictError(f"an account for {email} already exists; log in instead")
                s.add(row)
                s.flush()
                person = _person(row)
        except IntegrityError as exc:  # a concurrent sign-up with the same e-mail
            raise ConflictError(f"an account for {email} already exists") from exc
        self.send_verification(person.id)
        return person

    def get(self, person_id: str) -> Person:
        with self.db.session() as s:
            row = s.get(PersonRow, person_id)
            if row is None:
                raise NotFoundError(f"no person '{person_id}'")
            return _person(row)

    def log_in(self, email: str, password: str, ip: str) -> Person:
        """The person, or AuthenticationError (same message for an unknown e-mail and a wrong
        password); ThrottledError once the account or the IP has failed too often."""
        try:
            email = cred.normalise_email(email)
        except ValidationError:  # never an account; still counted against the IP
            email = email.strip().lower()[: cred.EMAIL_MAX]
        self.throttle.check(email, ip)
        person: Person | None = None
        with self.db.session() as s:
            row = s.scalar(select(PersonRow).where(PersonRow.email == email))
            if row is None:
                cred.burn_time(password)
            elif cred.verify_password(password, row.password_hash):
                if cred.needs_rehash(row.password_hash):
                    row.password_hash = cred.hash_password(password)
                person = _person(row)
        if person is not None:
            self.throttle.succeeded(email)
            return person
        self.throttle.failed(email, ip)
        raise AuthenticationError("wrong e-mail or password")

    # sessions -------------------------------------------------------------------------------
    def start_session(self, person_id: str) -> str:
        token = cred.new_token()
        now = self.clock()
        with self.db.session() as s:
            s.execute(delete(PersonSessionRow).where(PersonSessionRow.expires_at <= now))
            s.add(
                PersonSessionRow(
                    token_hash=cred.token_digest(token),
                    person_id=person_id,
                    created_at=now,
                    expires_at=now + self.session_lifetime,
                )
            )
        return token

    def session_person(self, token: str) -> Person | None:
        now = self.clock()
        with self.db.session() as s:
            row = s.get(PersonSessionRow, cred.token_digest(token))
            if row is None or _aware(row.expires_at) <= now:
                return None
            person = s.get(PersonRow, row.person_id)
            return _person(person) if person is not None else None

    def end_session(self, token: str) -> None:
        with self.db.session() as s:
            s.execute(
                delete(PersonSessionRow).where(
                    PersonSessionRow.token_hash == cred.token_digest(token)
                )
            )

    # link tokens ----------------------------------------------------------------------------
    def _issue(self, person_id: str, purpose: str, hours: float) -> tuple[str, str]:
        token = cred.new_token()
        now = self.clock()
        row = AccountTokenRow(
            id=new_id("tok"),
            token_hash=cred.token_digest(token),
            person_id=person_id,
            purpose=purpose,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
        with self.db.session() as s:
            s.add(row)
        return row.id, token

    def _consume(self, token: str, purpose: str) -> str:
        """Mark the token used (once, before it expires) and return its person's id."""
        now = self.clock()
        digest = cred.token_digest(token)
        T = AccountTokenRow
        with self.db.session() as s:
            done = s.execute(
                update(T)
                .where(
                    T.token_hash == digest,
                    T.purpose == purpose,
                    T.used_at.is_(None),
                    T.expires_at > now,
                )
                .values(used_at=now)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise NotFoundError("this link is unknown, expired or already used")
            person_id = s.scalar(select(T.person_id).where(T.token_hash == digest))
            assert person_id is not None
            # the other open links of this kind die with it
            s.execute(
                update(T)
                .where(T.person_id == person_id, T.purpose == purpose, T.used_at.is_(None))
                .values(used_at=now)
            )
            return person_id

    def _link(self, path: str, token: str) -> str:
        return f"{self.public_url}{path}?token={quote(token)}"

    def request_reset(self, email: str) -> bool:
        """Queue a reset e-mail when the account exists (at most 3 an hour); the caller always
        answers the same, so the route does not tell who has an account. True when queued."""
        try:
            email = cred.normalise_email(email)
        except ValidationError:
            return False
        since = self.clock() - timedelta(hours=1)
        with self.db.session() as s:
            person_id = s.scalar(select(PersonRow.id).where(PersonRow.email == email))
            if person_id is None:
                return False
            recent = s.scalar(
                select(func.count())
                .select_from(AccountTokenRow)
                .where(
                    AccountTokenRow.person_id == person_id,
                    AccountTokenRow.purpose == "reset",
                    AccountTokenRow.created_at > since,
                )
            )
        if (recent or 0) >= RESETS_PER_HOUR:
            return False
        token_id, token = self._issue(person_id, "reset", RESET_HOURS)
        body = (
            "Someone asked to reset the password of your Partner Matcher account.\n\n"
            f"To choose a new password, open this link within {RESET_HOURS:g} hour:\n"
            f"{self._link('/reset/confirm', token)}\n\n"
            "The link works once. If you did not ask for this, ignore this e-mail."
        )
        message = Message(email, "Reset your Partner Matcher password", body, f"account:{token_id}")
        self.outbox.enqueue(message)
        return True

    def reset_password(self, token: str, password: str) -> Person:
        cred.check_password(password)
        person_id = self._consume(token, "reset")
        with self.db.session() as s:
            row = s.get(PersonRow, person_id)
            if row is None:
                raise NotFoundError("this link is unknown, expired or already used")
            row.password_hash = cred.hash_password(password)
            row.password_changed_at = self.clock()
            # every signed-in browser of this person is signed out
            s.execute(delete(PersonSessionRow).where(PersonSessionRow.person_id == person_id))
            person = _person(row)
        self.throttle.succeeded(person.email)
        return person

    def send_verification(self, person_id: str) -> bool:
        person = self.get(person_id)
        if person.email_verified:
            return False
        token_id, token = self._issue(person_id, "verify", VERIFY_HOURS)
        body = (
            "Welcome to Partner Matcher.\n\n"
            f"To confirm this e-mail address, open this link within {VERIFY_HOURS:g} hours:\n"
            f"{self._link('/verify', token)}\n\n"
            "Confirming it lets you add your group's profile, so partners can find you and "
            "you can ask organisations for introductions, and claim your organisation's "
            "profile at once when the address is at its own web domain."
        )
        message = Message(person.email, "Confirm your e-mail address", body, f"account:{token_id}")
        self.outbox.enqueue(message)
        return True

    def verify_email(self, token: str) -> Person:
        person_id = self._consume(token, "verify")
        with self.db.session() as s:
            row = s.get(PersonRow, person_id)
            if row is None:
                raise NotFoundError("this link is unknown, expired or already used")
            row.email_verified = True
            person = _person(row)
        for hook in self.on_verified:
            hook(person)
        return person
