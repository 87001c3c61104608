"""A data directory made before feedback recorded the signed-in person (`feedback.person_id`)
opens: the column is added in place, every old row is kept and read as before, and marks by a
person are stored and learned from from then on."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from api.records import Records
from matcher.domain import Need
from matcher.store import Database, Store
from matcher.store.models import RecommendationRow
from training.history import labelled_pairs


def _old_data_dir(path: Path) -> None:
    """A database as the code before `person_id` made it, with a key's and a visitor's marks."""
    db = Database(f"sqlite:///{path}")
    db.create_all()
    with db.session() as s:
        s.add(
            RecommendationRow(
                id="rec_old",
                created_at=datetime(2026, 11, 1, tzinfo=UTC),
                need={**Need(id="n-old", text="Meals for elders").model_dump(mode="json")},
                result_ids=["org-a", "org-b", "org-c"],
                model_version="m",
                index_generation=1,
            )
        )
    db.dispose()
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE feedback DROP COLUMN person_id")
    con.executemany(
        "INSERT INTO feedback (recommendation_id, organisation_id, outcome, note, created_at,"
        " api_key_id) VALUES ('rec_old', ?, ?, NULL, ?, ?)",
        [
            ("org-a", "contacted", "2026-11-02 10:00:00.000000", "key-1"),
            ("org-b", "contacted", "2026-11-02 11:00:00.000000", None),
        ],
    )
    con.commit()
    assert "person_id" not in {r[1] for r in con.execute("PRAGMA table_info(feedback)")}
    con.close()


def test_an_old_data_dir_gains_person_id_and_keeps_its_feedback(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_data_dir(path)

    db = Database(f"sqlite:///{path}")
    db.create_all()
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

    con = sqlite3.connect(path)  # the column is there for good: opening again changes nothing
    assert con.execute("SELECT count(*) FROM feedback").fetchone() == (3,)
    con.close()
    again = Database(f"sqlite:///{path}")
    again.create_all()
    assert Records(again).list_feedback()[1] == 3
    again.dispose()
