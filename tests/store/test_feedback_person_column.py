"""A data directory made before feedback recorded the signed-in person (`feedback.person_id`)
opens: the column is added in place, every old row is kept and read as before, and marks by a
person are stored and learned from from then on. SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from api.records import Records
from matcher.domain import Need
from matcher.store import Database, Store
from matcher.store.models import PersonRow, RecommendationRow
from tests.support_databases import pg_schema_url
from training.history import labelled_pairs


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with pg_schema_url("fbp") as pg_url:
        yield pg_url


def _columns(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return {c["name"] for c in inspect(conn).get_columns("feedback")}


def _old_data_dir(url: str) -> None:
    """A database as the code before `person_id` made it, with a key's and a visitor's marks."""
    db = Database(url)
    db.create_all()
    with db.session() as s:
        s.add(
            RecommendationRow(
                id="rec_old",
                created_at=datetime(2026, 11, 1, tzinfo=UTC),
                need=Need(id="n-old", text="Meals for elders").model_dump(mode="json"),
                result_ids=["org-a", "org-b", "org-c"],
                model_version="m",
                index_generation=1,
            )
        )
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE feedback DROP COLUMN person_id")
        conn.execute(
            text(
                "INSERT INTO feedback (recommendation_id, organisation_id, outcome, note,"
                " created_at, api_key_id) VALUES ('rec_old', :org, 'contacted', NULL, :at, :key)"
            ),
            [
                {"org": "org-a", "at": datetime(2026, 11, 2, 10, tzinfo=UTC), "key": "key-1"},
                {"org": "org-b", "at": datetime(2026, 11, 2, 11, tzinfo=UTC), "key": None},
            ],
        )
    assert "person_id" not in _columns(db)
    db.dispose()


def test_an_old_data_dir_gains_person_id_and_keeps_its_feedback(url: str) -> None:
    _old_data_dir(url)

    db = Database(url)
    db.create_all()
    assert "person_id" in _columns(db)
    with db.session() as s:  # a person whose e-mail is confirmed: their marks train
        s.add(
            PersonRow(
                id="person-1",
                email="person-1@example.org",
                password_hash="x",
                email_verified=True,
                created_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
        )
    records = Records(db)
    rows, total = records.list_feedback()
    assert total == 2
    assert [(r.organisation_id, r.given_by, r.person_id) for r in rows] == [
        ("org-a", "api_key", None),
        ("org-b", "anonymous", None),
    ]
    added = records.add_feedback(
        recommendation_id="rec_old",
        organisation_id="org-c",
        outcome="not_relevant",
        note=None,
        api_key_id=None,
        person_id="person-1",
    )
    assert added.given_by == "person"

    skipped: Counter[str] = Counter()
    pairs = labelled_pairs(Store(db), skipped=skipped)
    fed = pairs[pairs["origin"] == "feedback"]
    assert dict(zip(fed["partner_id"], fed["label"], strict=True)) == {"org-a": 1, "org-c": 0}
    assert skipped == Counter({"anonymous feedback": 1})
    db.dispose()

    again = Database(url)  # opening again changes nothing
    again.create_all()
    assert Records(again).list_feedback()[1] == 3
    again.dispose()
