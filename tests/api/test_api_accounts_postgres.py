"""The account store on PostgreSQL: unique e-mails, throttling, single-use expiring tokens,
claims and memberships (the same code as on SQLite). Runs when MATCHER_TEST_POSTGRES_URL is set;
its own schema, dropped at the end."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

from matcher.accounts import Accounts, Claims, LoginThrottle
from matcher.domain import utcnow
from matcher.errors import AuthenticationError, ConflictError, NotFoundError, ThrottledError
from matcher.store.db import Database
from matcher.store.models import OrganisationRow
from tests.support_databases import pg_schema_url

PG_URL = os.environ.get("MATCHER_TEST_POSTGRES_URL")

pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="no PostgreSQL server: set MATCHER_TEST_POSTGRES_URL "
    "(.ci/run starts one with scripts/with-postgres.sh)",
)
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def db() -> Iterator[Database]:
    with pg_schema_url("acc") as url:
        database = Database(url)
        database.create_all()
        try:
            yield database
        finally:
            database.dispose()


def _org(db: Database, website: str | None) -> str:
    org_id = f"pg-{uuid.uuid4().hex[:8]}"
    with db.session() as s:
        s.add(
            OrganisationRow(
                id=org_id,
                name="Harbour",
                sector="business",
                description="Vans.",
                focus_areas=[],
                offers=[],
                needs=[],
                website=website,
                published=True,
                active=True,
                updated_at=utcnow(),
                text_hash="x",
                version=1,
            )
        )
    return org_id


def _token(accounts: Accounts, email: str, path: str) -> str:
    for row in accounts.outbox.rows(limit=100):
        if row.recipient == email and path in row.body:
            return row.body.split("token=", 1)[1].split()[0]
    raise AssertionError("no link queued")


def test_accounts_on_postgres(db: Database) -> None:
    now = [utcnow()]
    accounts = Accounts(db, throttle=LoginThrottle(db), clock=lambda: now[0])
    accounts.set_clock(lambda: now[0])
    claims = Claims(accounts)
    email = f"ana.{uuid.uuid4().hex[:6]}@harbour.example"
    person = accounts.sign_up(email.upper(), PASSWORD)
    assert person.email == email
    with pytest.raises(ConflictError):
        accounts.sign_up(email, PASSWORD)
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            accounts.log_in(email, "wrong password!", "203.0.113.9")
    with pytest.raises(ThrottledError) as caught:
        accounts.log_in(email, PASSWORD, "203.0.113.10")
    assert 0 < caught.value.retry_after <= 900
    now[0] += timedelta(minutes=16)
    assert accounts.log_in(email, PASSWORD, "203.0.113.10").id == person.id

    sid = accounts.start_session(person.id)
    assert accounts.session_person(sid) == person
    assert accounts.request_reset(email)
    token = _token(accounts, email, "/reset/confirm")
    accounts.reset_password(token, "new password here")
    assert accounts.session_person(sid) is None
    with pytest.raises(NotFoundError):
        accounts.reset_password(token, "another password")
    assert accounts.request_reset(email)
    late = _token(accounts, email, "/reset/confirm")
    now[0] += timedelta(minutes=61)
    with pytest.raises(NotFoundError):
        accounts.reset_password(late, "too late password")

    org = _org(db, "https://www.harbour.example")
    pending = claims.request(person, org)
    assert pending.status == "pending" and pending.domain_match
    accounts.verify_email(_token(accounts, email, "/verify"))
    assert [(m.organisation_id, m.role) for m in claims.memberships(person.id)] == [(org, "admin")]
    other = accounts.sign_up(f"cy.{uuid.uuid4().hex[:6]}@elsewhere.example", PASSWORD)
    waiting = claims.request(other, org)
    assert waiting.status == "pending" and not waiting.domain_match
    assert claims.approve(waiting.id, "key_admin").status == "approved"
    assert [m.role for m in claims.members(org)] == ["admin", "member"]
