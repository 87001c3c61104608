"""Introductions in the domain: the state machine, consent before contact details, the thread,
the audit log, the per-organisation rate limit, expiry and every bad input. The main flow runs
on SQLite and, when MATCHER_TEST_POSTGRES_URL is set, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import pytest
from intro_world import World, add_org, make_world

from matcher.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    StorageError,
    ValidationError,
)
from matcher.introductions import IntroductionSettings, clean_text
from matcher.notify.outbox import Outbox
from matcher.store.models import IntroductionRow
from tests.support_databases import database_for

NEED = "Cold storage for 2 tonnes of donated food every week."


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with database_for(request.param, tmp_path) as db:
        yield make_world(db)


@pytest.fixture(params=["sqlite", "postgresql"])
def lite(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """A world with 3 requests a day and 7-day expiry."""
    with database_for(request.param, tmp_path) as db:
        yield make_world(db, IntroductionSettings(per_day=3, expiry_days=7))


def _keys(w: World) -> dict[str, str]:
    """Outbox key -> recipient of the introduction notifications."""
    return {r.key: r.recipient for r in Outbox(w.db).rows(limit=1000) if r.key.startswith("intro")}


def test_main_flow(world: World) -> None:
    w = world
    asked = w.intros.request(w.a_member, w.b, "We would like to talk.", need_text=NEED)
    intro = asked.introduction
    assert (intro.status, intro.from_org, intro.to_org) == ("requested", w.a, w.b)
    assert asked.side == "outgoing" and asked.requested_by_me and asked.can_withdraw
    assert asked.contact is None
    # the asked side sees it in its inbox, without anyone's contact details
    incoming, total = w.intros.inbox(w.b_member, "incoming")
    assert total == 1 and incoming[0].introduction.id == intro.id
    assert incoming[0].contact is None and incoming[0].can_accept
    assert w.intros.inbox(w.b_member, "outgoing") == ([], 0)
    assert w.email(w.a_member) not in repr(incoming[0])
    assert "+44 20 7946 0001" not in repr(incoming[0])
    # one e-mail per member of the asked organisation, none to the asking side
    keys = _keys(w)
    assert keys == {
        f"intro:{intro.id}:requested:{w.b_admin}": w.email(w.b_admin),
        f"intro:{intro.id}:requested:{w.b_member}": w.email(w.b_member),
    }
    # a third organisation sees nothing
    with pytest.raises(NotFoundError):
        w.intros.get(intro.id, w.c_admin)
    assert w.intros.inbox(w.c_admin, "incoming") == ([], 0)

    accepted = w.intros.accept(intro.id, w.b_member)
    assert accepted.introduction.status == "accepted" and accepted.can_message
    # now each side sees the other's contact details
    assert accepted.contact is not None
    assert accepted.contact.contact == "+44 20 7946 0001"
    assert accepted.contact.person_email == w.email(w.a_member)
    theirs = w.intros.get(intro.id, w.a_admin).contact
    assert theirs is not None and theirs.contact == "ops@northside.example"
    assert theirs.person_email == w.email(w.b_member)  # the person who accepted
    assert {k for k in _keys(w) if ":accepted:" in k} == {
        f"intro:{intro.id}:accepted:{w.a_admin}",
        f"intro:{intro.id}:accepted:{w.a_member}",
    }

    first = w.intros.post_message(intro.id, w.a_member, "Hello\x00 from\x1b the harbour!\r\n")
    assert first.body == "Hello from the harbour!" and first.mine
    reply = w.intros.post_message(intro.id, w.b_admin, "Welcome. Thursday at 10?")
    thread = w.intros.messages(intro.id, w.a_admin)
    assert [(m.body, m.mine, m.author_org) for m in thread] == [
        ("Hello from the harbour!", True, w.a),
        ("Welcome. Thursday at 10?", False, w.b),
    ]
    msg_keys = {k for k in _keys(w) if k.startswith("intro-msg:")}
    assert msg_keys == {
        f"intro-msg:{first.id}:{w.b_admin}",
        f"intro-msg:{first.id}:{w.b_member}",
        f"intro-msg:{reply.id}:{w.a_admin}",
        f"intro-msg:{reply.id}:{w.a_member}",
    }
    with pytest.raises(NotFoundError):
        w.intros.messages(intro.id, w.c_admin)

    # the audit log: both organisations' admins, each seeing its own actors only
    a_log = w.intros.events(intro.id, w.a_admin)
    assert [(e.kind, e.actor_org, e.actor_id) for e in a_log] == [
        ("requested", w.a, w.a_member),
        ("accepted", w.b, None),
    ]
    b_log = w.intros.events(intro.id, w.b_admin)
    assert [(e.kind, e.actor_id) for e in b_log] == [("requested", None), ("accepted", w.b_member)]
    with pytest.raises(PermissionDeniedError):
        w.intros.events(intro.id, w.a_member)  # a member, not an admin
    with pytest.raises(NotFoundError):
        w.intros.events(intro.id, w.c_admin)


def test_decline_reveals_no_decliner(world: World) -> None:
    w = world
    intro = w.intros.request(w.a_member, w.b, "Can we meet?", need_text=NEED).introduction
    declined = w.intros.decline(intro.id, w.b_member)
    assert declined.introduction.status == "declined" and declined.contact is None
    seen = w.intros.get(intro.id, w.a_member)
    assert seen.introduction.status == "declined" and seen.contact is None
    flat = repr(asdict(seen))
    assert w.b_member not in flat and w.email(w.b_member) not in flat and "Bea" not in flat
    log = w.intros.events(intro.id, w.a_admin)
    assert [(e.kind, e.actor_org, e.actor_id, e.actor_name) for e in log][-1] == (
        "declined",
        w.b,
        None,
        None,
    )
    assert not [k for k in _keys(w) if ":declined" in k]  # the asker gets no decline e-mail
    with pytest.raises(NotFoundError):
        w.intros.get(intro.id, w.c_admin)
    with pytest.raises(ConflictError, match="no thread"):
        w.intros.messages(intro.id, w.a_member)


# the state machine -------------------------------------------------------------------------
ACTIONS = ("accept", "decline", "withdraw")
# (status reached first, action, actor: "asker" or "asked", expected status or error)
MACHINE: list[tuple[str, str, str, str | type[Exception]]] = [
    ("requested", "accept", "asked", "accepted"),
    ("requested", "decline", "asked", "declined"),
    ("requested", "withdraw", "asker", "withdrawn"),
    ("requested", "accept", "asker", PermissionDeniedError),
    ("requested", "decline", "asker", PermissionDeniedError),
    ("requested", "withdraw", "asked", PermissionDeniedError),
    ("requested", "accept", "third", NotFoundError),
    ("accepted", "accept", "asked", ConflictError),
    ("accepted", "decline", "asked", ConflictError),
    ("accepted", "withdraw", "asker", ConflictError),
    ("declined", "accept", "asked", ConflictError),
    ("declined", "withdraw", "asker", ConflictError),
    ("withdrawn", "accept", "asked", ConflictError),
    ("withdrawn", "decline", "asked", ConflictError),
    ("expired", "accept", "asked", ConflictError),
    ("expired", "withdraw", "asker", ConflictError),
]


@pytest.mark.parametrize(("first", "action", "actor", "expected"), MACHINE)
def test_state_machine(
    lite: World, first: str, action: str, actor: str, expected: str | type[Exception]
) -> None:
    w = lite
    intro = w.intros.request(w.a_member, w.b, "Hello", need_text=NEED).introduction
    if first == "expired":
        w.now[0] += timedelta(days=7, seconds=1)
    elif first != "requested":
        verb = {"accepted": "accept", "declined": "decline", "withdrawn": "withdraw"}[first]
        who = w.a_member if verb == "withdraw" else w.b_member
        getattr(w.intros, verb)(intro.id, who)
    assert w.intros.get(intro.id, w.a_admin).introduction.status == first
    person = {"asker": w.a_admin, "asked": w.b_admin, "third": w.c_admin}[actor]
    if isinstance(expected, str):
        assert getattr(w.intros, action)(intro.id, person).introduction.status == expected
        assert w.intros.events(intro.id, w.a_admin)[-1].to_status == expected
    else:
        with pytest.raises(expected):
            getattr(w.intros, action)(intro.id, person)
        assert w.intros.get(intro.id, w.a_admin).introduction.status == first


def test_expiry_frees_the_pair(lite: World) -> None:
    w = lite
    intro = w.intros.request(w.a_member, w.b, "Hello", need_text=NEED).introduction
    assert intro.expires_at == intro.created_at + timedelta(days=7)
    w.now[0] += timedelta(days=8)
    assert w.intros.expire_due() == 1
    log = w.intros.events(intro.id, w.b_admin)
    assert [(e.kind, e.actor_org) for e in log] == [("requested", w.a), ("expired", None)]
    again = w.intros.request(w.a_member, w.b, "Hello again", need_text=NEED)
    assert again.introduction.status == "requested"


# bad input ---------------------------------------------------------------------------------
def test_bad_requests(lite: World) -> None:
    w = lite
    ask = w.intros.request
    with pytest.raises(ValidationError, match="itself") as e:
        ask(w.a_member, w.a, "Hi", need_text=NEED)
    assert e.value.field == "to_organisation_id"
    with pytest.raises(NotFoundError, match="no organisation 'nobody'"):
        ask(w.a_member, "nobody", "Hi", need_text=NEED)
    with pytest.raises(NotFoundError):
        ask(w.a_member, w.hidden, "Hi", need_text=NEED)
    with pytest.raises(ValidationError, match="inactive"):
        ask(w.a_member, w.inactive, "Hi", need_text=NEED)
    with pytest.raises(PermissionDeniedError, match="join your organisation"):
        ask(w.loner, w.b, "Hi", need_text=NEED)
    with pytest.raises(PermissionDeniedError, match="not a member"):
        ask(w.a_member, w.b, "Hi", need_text=NEED, from_org=w.c)
    with pytest.raises(ValidationError, match="name the need"):
        ask(w.a_member, w.b, "Hi")
    with pytest.raises(NotFoundError, match="no recommendation"):
        ask(w.a_member, w.b, "Hi", recommendation_id="rec_000000000000")
    with pytest.raises(NotFoundError, match="no need"):
        ask(w.a_member, w.b, "Hi", need_id="need-nope")
    with pytest.raises(ValidationError, match="message"):
        ask(w.a_member, w.b, " \x00\x07 ", need_text=NEED)
    with pytest.raises(ValidationError, match="at most 2000"):
        ask(w.a_member, w.b, "x" * 2001, need_text=NEED)

    first = ask(w.a_member, w.b, "Hi", need_text=NEED).introduction
    with pytest.raises(ConflictError, match="already asked .* waiting for an answer"):
        ask(w.a_admin, w.b, "Hi again", need_text=NEED)
    with pytest.raises(ConflictError, match="accept that request instead"):
        ask(w.b_member, w.a, "Hi back", need_text=NEED)
    with pytest.raises(ValidationError, match="member of .* yourself"):
        # a person in both organisations does not introduce them to each other
        from intro_world import add_member  # noqa: PLC0415

        both = add_member(w.db, w.c, "member", "dual")
        from matcher.store.models import MembershipRow  # noqa: PLC0415

        with w.db.session() as s:
            s.add(
                MembershipRow(
                    organisation_id=w.a, person_id=both, role="member", created_at=w.now[0]
                )
            )
        ask(both, w.c, "Hi", need_text=NEED, from_org=w.a)
    with pytest.raises(ValidationError, match="name the one that asks"):
        ask(both, w.b, "Hi", need_text=NEED)

    w.intros.decline(first.id, w.b_admin)
    w.now[0] += timedelta(days=29)
    with pytest.raises(ConflictError, match="declined a request .* may ask again from"):
        ask(w.a_member, w.b, "Please?", need_text=NEED)
    w.now[0] += timedelta(days=1, minutes=1)
    assert ask(w.a_member, w.b, "A new need", need_text=NEED).introduction.status == "requested"


def test_accepted_pair_is_not_asked_again(lite: World) -> None:
    w = lite
    intro = w.intros.request(w.a_member, w.b, "Hi", need_text=NEED).introduction
    w.intros.accept(intro.id, w.b_member)
    for asker, target in ((w.a_admin, w.b), (w.b_admin, w.a)):
        with pytest.raises(ConflictError, match="already introduced"):
            w.intros.request(asker, target, "Again", need_text=NEED)


def test_rate_limit_per_organisation(lite: World) -> None:
    w = lite
    targets = [add_org(w.db, f"{w.a}-t{i}", f"Target {i}") for i in range(5)]
    for i, target in enumerate(targets[:3]):
        asker = w.a_member if i % 2 else w.a_admin  # the organisation's budget, not a person's
        w.intros.request(asker, target, "Hi", need_text=NEED)
        w.now[0] += timedelta(hours=1)
    with pytest.raises(QuotaExceededError, match="3 introduction requests in the last 24") as e:
        w.intros.request(w.a_member, targets[3], "Hi", need_text=NEED)
    # the first request leaves the window 24 h after it was made: 21 h from now
    assert e.value.retry_after == pytest.approx(21 * 3600, abs=1)
    # another organisation is not affected
    assert w.intros.request(w.b_member, targets[3], "Hi", need_text=NEED)
    w.now[0] += timedelta(hours=21, seconds=1)
    assert w.intros.request(w.a_member, targets[3], "Hi", need_text=NEED)


def test_thread_rules(lite: World) -> None:
    w = lite
    intro = w.intros.request(w.a_member, w.b, "Hi", need_text=NEED).introduction
    with pytest.raises(ConflictError, match="opens once it is accepted"):
        w.intros.post_message(intro.id, w.a_member, "Anyone?")
    w.intros.accept(intro.id, w.b_admin)
    with pytest.raises(ValidationError, match="at most 2000") as e:
        w.intros.post_message(intro.id, w.a_member, "x" * 2001)
    assert e.value.field == "body"
    with pytest.raises(ValidationError, match="must not be empty"):
        w.intros.post_message(intro.id, w.a_member, "\x00\u202e\r\n")
    with pytest.raises(NotFoundError):
        w.intros.post_message(intro.id, w.c_admin, "Let me in")


def test_one_open_request_per_pair_even_when_written_at_once(lite: World) -> None:
    w = lite
    intro = w.intros.request(w.a_member, w.b, "Hi", need_text=NEED).introduction
    with pytest.raises(StorageError), w.db.session() as s:  # past the checks: the index holds
        s.add(
            IntroductionRow(
                id="intro_dupe",
                from_org=w.a,
                to_org=w.b,
                requested_by=w.a_admin,
                message="Hi",
                need_text=NEED,
                status="requested",
                created_at=intro.created_at,
            )
        )
    w.intros.withdraw(intro.id, w.a_member)
    assert w.intros.request(w.a_member, w.b, "Hi", need_text=NEED)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain", "plain"),
        ("  two\r\nlines\r\n", "two\nlines"),
        ("bell\x07 and nul\x00", "bell and nul"),
        ("tab\tkept", "tab\tkept"),
        ("a\n\n\n\n\nb", "a\n\nb"),
        ("rtl \u202eevil\u202c", "rtl evil"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),  # escaped when shown
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw, field="body", max_chars=100) == clean
