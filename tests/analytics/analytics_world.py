"""A hand-built history of introductions and partnership records, made through the real
services (Introductions, PartnershipRecords), whose analytics figures are worked out by hand in
EXPECTED: four organisations of three sectors, six introduction requests (accepted, declined,
withdrawn, expired, open) and three partnership records (closed achieved, closed partly
achieved, declined)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from matcher.domain import new_id, utcnow
from matcher.followthrough.plan import CheckInInput, Goal, Outcome, Plan
from matcher.followthrough.records import PartnershipRecords
from matcher.introductions import Introductions
from matcher.store.db import Database
from matcher.store.models import MembershipRow, OrganisationRow, PersonRow

NTEE_TITLES = {"K": "food, agriculture and nutrition", "L": "housing and shelter"}


def add_org(db: Database, org_id: str, sector: str, cause: str | None, areas: list[str]) -> str:
    with db.session() as s:
        s.add(
            OrganisationRow(
                id=org_id,
                name=org_id.split("-")[0].title(),
                sector=sector,
                description=f"{org_id} does good work.",
                focus_areas=areas,
                offers=[],
                needs=[],
                cause_code=cause,
                published=True,
                active=True,
                updated_at=utcnow(),
                text_hash="x",
                version=1,
            )
        )
    return org_id


def add_member(db: Database, org_id: str) -> str:
    """A member without a usable password (these tests never log in: argon2 is slow)."""
    person_id = new_id("person")
    with db.session() as s:
        s.add(
            PersonRow(
                id=person_id,
                email=f"{uuid.uuid4().hex[:8]}@{org_id}.example",
                name=org_id.split("-")[0].title() + " member",
                password_hash="!",
                email_verified=True,
                created_at=utcnow(),
            )
        )
        s.flush()
        s.add(
            MembershipRow(
                organisation_id=org_id, person_id=person_id, role="admin", created_at=utcnow()
            )
        )
    return person_id


def plan(title: str) -> Plan:
    goal = Goal(id="meals", description="More fed", indicator="meals a week", baseline=0, target=9)
    return Plan(title=title, goals=[goal])


@dataclass
class History:
    db: Database
    orgs: dict[str, str]  # short name -> organisation id
    people: dict[str, str]  # short name -> its member's person id
    now: datetime  # the clock after the history (the open request's creation)


def build(db: Database) -> History:
    tag = uuid.uuid4().hex[:6]
    orgs = {
        "pantry": add_org(db, f"pantry-{tag}", "nonprofit", "K31", ["food"]),
        "shelter": add_org(db, f"shelter-{tag}", "nonprofit", "L41", []),
        "grocer": add_org(db, f"grocer-{tag}", "business", None, ["food retail"]),
        "council": add_org(db, f"council-{tag}", "government", None, []),
    }
    people = {k: add_member(db, v) for k, v in orgs.items()}
    t0 = utcnow() - timedelta(days=40)
    clock = [t0]
    now: Callable[[], datetime] = lambda: clock[0]  # noqa: E731
    intros = Introductions(db, clock=now)

    def ask(asker: str, asked: str) -> str:
        clock[0] = t0
        view = intros.request(people[asker], orgs[asked], "hello", need_text="a need")
        return view.introduction.id

    def at(hours: float) -> None:
        clock[0] = t0 + timedelta(hours=hours)

    i1 = ask("pantry", "grocer")
    i2 = ask("shelter", "grocer")
    i3 = ask("council", "pantry")
    i5 = ask("council", "shelter")
    ask("grocer", "council")  # left unanswered: it expires
    at(2)
    intros.accept(i1, people["grocer"])
    at(6)
    intros.decline(i2, people["grocer"])
    at(10)
    intros.accept(i3, people["pantry"])
    at(11)
    intros.withdraw(i5, people["council"])
    clock[0] = t0 + timedelta(days=31)
    assert intros.expire_due() == 1
    intros.request(people["grocer"], orgs["shelter"], "hello", need_text="a need")  # stays open

    records = PartnershipRecords(db)
    # proposed by the asked side of introduction 1: counted in the introduction's direction
    r1 = records.propose(people["grocer"], orgs["grocer"], orgs["pantry"], plan("Food"), i1)
    records.accept(people["pantry"], r1.id)
    records.check_in(people["pantry"], r1.id, CheckInInput(rating=4))
    records.check_in(people["grocer"], r1.id, CheckInInput(rating=2))
    records.check_in(people["grocer"], r1.id, CheckInInput(note="no rating"))
    records.close(people["pantry"], r1.id, Outcome(result="achieved"), None)
    r2 = records.propose(people["council"], orgs["council"], orgs["pantry"], plan("Town"), i3)
    records.accept(people["pantry"], r2.id)
    records.check_in(people["council"], r2.id, CheckInInput(rating=5))
    records.close(people["council"], r2.id, Outcome(result="partly_achieved"), None)
    r3 = records.propose(people["pantry"], orgs["pantry"], orgs["shelter"], plan("Beds"))
    records.decline(people["shelter"], r3.id)
    return History(db, orgs, people, clock[0])


# key -> figures worked out by hand from build()
EXPECTED_PAIRS: dict[str, dict[str, object]] = {
    "nonprofit->business": dict(
        requests=2, accepted=1, declined=1, responses=2, response_rate=1.0,
        acceptance_rate=0.5, median_hours_to_answer=4.0, records_proposed=1,
        records_started=1, records_closed=1, achieved=1, ratings=2, mean_rating=3.0,
    ),
    "government->nonprofit": dict(
        requests=2, accepted=1, withdrawn=1, responses=1, response_rate=1.0,
        acceptance_rate=1.0, median_hours_to_answer=10.0, records_proposed=1,
        records_started=1, records_closed=1, partly_achieved=1, ratings=1, mean_rating=5.0,
    ),
    "business->government": dict(
        requests=1, expired=1, responses=0, response_rate=0.0, acceptance_rate=None,
        median_hours_to_answer=None, records_proposed=0,
    ),
    "business->nonprofit": dict(
        requests=1, open=1, responses=0, response_rate=None, acceptance_rate=None,
    ),
    "nonprofit->nonprofit": dict(
        requests=0, records_proposed=1, records_started=0, records_closed=0, mean_rating=None,
    ),
}  # fmt: skip
EXPECTED_CAUSES: dict[str, dict[str, object]] = {
    "food retail": dict(requests=2, accepted=1, declined=1, acceptance_rate=0.5, achieved=1),
    "K": dict(requests=1, accepted=1, acceptance_rate=1.0, partly_achieved=1, mean_rating=5.0),
    "L": dict(requests=2, open=1, withdrawn=1, response_rate=None, records_proposed=1),
    "(none)": dict(requests=1, expired=1, response_rate=0.0),
}
EXPECTED_TOTALS: dict[str, object] = dict(
    requests=6, open=1, accepted=2, declined=1, withdrawn=1, expired=1, responses=3,
    response_rate=0.75, acceptance_rate=0.6667, median_hours_to_answer=6.0,
    records_proposed=3, records_started=2, records_closed=2, achieved=1, partly_achieved=1,
    not_achieved=0, ratings=3, mean_rating=3.67,
)  # fmt: skip


def build_with_large_groups(db: Database) -> History:
    """`build`, plus enough requests for two large groups (at least 5 requests): six nonprofits
    ask the grocer (nonprofit -> business: 8 requests; the grocer's cause 'food retail': 8) and
    the council asks five businesses about jobs (government -> business: 5; cause 'jobs': 5),
    and one small group whose only request is declined: a community group asks the council
    (community -> government: 1 request, declined)."""
    history = build(db)
    tag = uuid.uuid4().hex[:6]
    intros = Introductions(db, clock=lambda: history.now)
    grocer, council = history.orgs["grocer"], history.orgs["council"]
    for k in range(6):
        asker = add_member(db, add_org(db, f"np{k}-{tag}", "nonprofit", None, []))
        view = intros.request(asker, grocer, "hello", need_text="a need")
        if k < 4:
            intros.accept(view.introduction.id, history.people["grocer"])
    for k in range(5):
        add_member(db, add_org(db, f"biz{k}-{tag}", "business", None, ["jobs"]))
        intros.request(history.people["council"], f"biz{k}-{tag}", "hello", need_text="a need")
    club = add_member(db, add_org(db, f"club-{tag}", "community", None, ["youth"]))
    view = intros.request(club, council, "hello", need_text="a need")
    intros.decline(view.introduction.id, history.people["council"])
    return history


# build_with_large_groups() by hand, with min_group 5: nonprofit -> business (8) and
# government -> business (5) are shown; the five small pairs (government -> nonprofit 2,
# business -> government 1, business -> nonprofit 1, community -> government 1 declined,
# nonprofit -> nonprofit a record only) are merged into 'other' (5 requests). Causes: 'food
# retail' (8) and 'jobs' (5) shown; 'K' 1, 'L' 2 and '(none)' 2 merged (5 requests).
LARGE_TOTAL_REQUESTS = 6 + 6 + 5 + 1
LARGE_SHOWN_PAIRS = {"nonprofit->business": 8, "government->business": 5}
LARGE_SHOWN_CAUSES = {"food retail": 8, "jobs": 5}
LARGE_MERGED_PAIRS = 5
LARGE_MERGED_CAUSES = 3
LARGE_OTHER_REQUESTS = 5
