"""Partnership history, feedback as labelled pairs, and profiles enriched from history."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError as PydanticValidationError

from matcher.cli import main
from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.settings import Settings
from matcher.store.models import FeedbackRow, PersonRow, RecommendationRow
from training.history import (
    HISTORY_MARKER,
    enrich_profiles,
    labelled_pairs,
    list_partnerships,
    load_partnership_file,
    store_partnerships,
)
from training.partnership import OUTCOME_LABELS, Partnership, label_of

HISTORY = (
    "source_id,partner_id,title,description,date,outcome,amount\n"
    "f-youth,r1,Football for teenagers,Weekly youth sport sessions,2020-01-05,funded,1000\n"
    "f-youth,r2,Youth boxing club,Boxing coaching for young people,2021-03-01,,\n"
    "f-youth,r3,Skate park,,2019-07-01,declined,\n"
    "f-arts,r4,Community theatre,Plays staged by local residents,2020-02-02,funded,500\n"
    "f-arts,f-arts,Self,,2020-01-01,funded,\n"
    "f-arts,r5,Mural,,not a date,funded,\n"
    "f-arts,r6,Gallery,,2020-01-01,won a prize,\n"
    "f-arts,,Gallery,,2020-01-01,funded,\n"
)


def _org(i: str, name: str, desc: str, sector: str = "nonprofit") -> Organisation:
    return Organisation(id=i, name=name, sector=sector, description=desc)  # type: ignore[arg-type]


@pytest.fixture()
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    eng = Engine.open(Settings(data_dir=tmp_path / "var", model_name="hashing-v1"), load=False)
    eng.store.upsert_organisations(
        [
            _org("f-youth", "Northfield Trust", "A grant-making trust."),
            _org("f-arts", "Southgate Trust", "A grant-making trust."),
            _org("r1", "Teen FC", "Football club."),
            _org("r4", "Players", "Theatre group."),
            _org("big", "Big Charity", "x" * 400),
        ]
    )
    yield eng
    eng.close()


def _history(tmp_path: Path) -> Path:
    p = tmp_path / "history.csv"
    p.write_text(HISTORY)
    return p


def test_outcome_labels() -> None:
    assert label_of("partnered") == (1, 1.0) and label_of("contacted") == (1, 0.5)
    assert label_of("declined") == (0, 1.0) and label_of("viewed") is None
    assert label_of(None) == (1, 1.0)  # a listed past partnership happened


def test_outcomes_as_analysts_write_them() -> None:
    """ "Success" was refused while "successful" was taken: other words, case, spaces and
    hyphens read as the vocabulary's outcome."""
    written = {
        "Success": "successful",
        "FAILURE": "failed",
        "In progress": "ongoing",
        "partly-achieved": "partly_achieved",
        "Partly Achieved": "partly_achieved",
        "canceled": "cancelled",
        " not relevant ": "not_relevant",
    }
    for outcome, key in written.items():
        p = Partnership(source_id="f-a", partner_id="n-b", outcome=outcome)
        assert p.outcome == key and (p.label, p.weight) == OUTCOME_LABELS[key], outcome
        assert label_of(outcome) == OUTCOME_LABELS[key]
    with pytest.raises(PydanticValidationError, match="unknown outcome 'won a prize'"):
        Partnership(source_id="f-a", partner_id="n-b", outcome="won a prize")


def test_partnership_file_rows_and_errors(tmp_path: Path) -> None:
    loaded = load_partnership_file(_history(tmp_path))
    assert loaded.total_rows == 8 and len(loaded.accepted) == 4
    errors = {e.row: e for e in loaded.rejected}
    assert errors[5].column == "partner_id" and "both 'f-arts'" in errors[5].reason
    assert errors[6].column == "date" and "not a valid date" in errors[6].reason
    assert errors[7].column == "outcome" and "unknown outcome 'won a prize'" in errors[7].reason
    assert errors[8].column == "partner_id" and "missing" in errors[8].reason
    first = loaded.accepted[0]
    assert first.started_at == datetime(2020, 1, 5, tzinfo=UTC) and first.amount == 1000
    assert loaded.accepted[1].outcome == "partnered"  # blank outcome
    # ids are stable, so the same file upserts rather than duplicates
    again = load_partnership_file(_history(tmp_path))
    assert [p.id for p in again.accepted] == [p.id for p in loaded.accepted]


def test_duplicate_id_and_mapping(tmp_path: Path) -> None:
    p = tmp_path / "h.jsonl"
    p.write_text('{"ref": "x", "org": "a", "with": "b"}\n{"ref": "x", "org": "a", "with": "c"}\n')
    loaded = load_partnership_file(
        p, mapping={"id": "ref", "source_id": "org", "partner_id": "with"}
    )
    assert [x.id for x in loaded.accepted] == ["x"]
    assert loaded.rejected[0].row == 2 and "duplicate id 'x'" in loaded.rejected[0].reason


def test_store_partnerships_is_idempotent(engine: Engine, tmp_path: Path) -> None:
    items = load_partnership_file(_history(tmp_path)).accepted
    assert len(store_partnerships(engine.store, items).inserted) == 4
    again = store_partnerships(engine.store, items)
    assert len(again.unchanged) == 4 and again.changed == 0
    changed = [items[0].model_copy(update={"outcome": "completed"})]
    assert store_partnerships(engine.store, changed).updated == [items[0].id]
    assert len(list_partnerships(engine.store)) == 4


def _feedback(engine: Engine) -> None:
    need = Need(id="n1", text="Sports for bored teenagers", requester_id="r1")
    when = datetime(2022, 5, 1, tzinfo=UTC)
    with engine.store.db.session() as s:
        s.add(
            RecommendationRow(
                id="rec1",
                created_at=when,
                need=need.model_dump(mode="json"),
                result_ids=["f-youth", "f-arts", "big"],
                model_version="m",
                index_generation=1,
            )
        )
        s.flush()
        for i, (org, outcome) in enumerate(
            [
                ("f-youth", "viewed"),
                ("f-youth", "partnered"),
                ("f-arts", "not_relevant"),
                ("big", "viewed"),
            ]
        ):
            s.add(
                FeedbackRow(
                    recommendation_id="rec1",
                    organisation_id=org,
                    outcome=outcome,
                    created_at=when.replace(hour=i + 1),
                    api_key_id="key-1",  # keyless (anonymous) feedback is not a label
                )
            )


def test_labelled_pairs_join_history_and_feedback(engine: Engine, tmp_path: Path) -> None:
    store_partnerships(engine.store, load_partnership_file(_history(tmp_path)).accepted)
    _feedback(engine)
    pairs = labelled_pairs(engine.store)
    assert list(pairs.columns[:6]) == [
        "source_id",
        "partner_id",
        "label",
        "weight",
        "timestamp",
        "text",
    ]
    assert len(pairs) == 6  # 4 history + 2 labelled feedback ('viewed' carries no label)
    assert pairs["timestamp"].is_monotonic_increasing
    fb = pairs[pairs["origin"] == "feedback"].set_index("partner_id")
    assert fb.loc["f-youth", "label"] == 1 and fb.loc["f-youth", "source_id"] == "r1"
    assert fb.loc["f-youth", "outcome"] == "partnered"  # latest outcome wins over 'viewed'
    assert fb.loc["f-arts", "label"] == 0 and fb.loc["f-arts", "weight"] == 1.0
    assert fb.loc["f-arts", "text"] == "Sports for bored teenagers"
    hist = pairs[pairs["origin"] == "history"].set_index("partner_id")
    assert hist.loc["r3", "label"] == 0
    assert hist.loc["r1", "text"] == "Football for teenagers. Weekly youth sport sessions"
    only_history = labelled_pairs(engine.store, include_feedback=False)
    assert set(only_history["origin"]) == {"history"}
    assert isinstance(only_history["timestamp"].dtype, pd.DatetimeTZDtype)


def test_a_signed_in_persons_feedback_is_a_label_and_an_anonymous_one_is_not(
    engine: Engine,
) -> None:
    """The web page's marks by a signed-in person (no API key: `person_id` only) are labels
    with the recommendation's subject once the person's e-mail is confirmed (anyone can sign
    up); a mark by nobody, or by a person not confirmed, is skipped and counted."""
    need = Need(id="n2", text="Homework help for refugee children")
    when = datetime(2023, 3, 1, tzinfo=UTC)
    with engine.store.db.session() as s:
        s.add(
            RecommendationRow(
                id="rec2",
                created_at=when,
                need={**need.model_dump(mode="json"), "subject": "need:n2"},
                result_ids=["f-youth", "f-arts", "big"],
                model_version="m",
                index_generation=1,
            )
        )
        for pid, confirmed in (("person-1", True), ("person-2", False)):
            s.add(
                PersonRow(
                    id=pid,
                    email=f"{pid}@example.org",
                    password_hash="x",
                    email_verified=confirmed,
                    created_at=when,
                )
            )
        s.flush()
        for i, (org, outcome, key, person) in enumerate(
            [
                ("f-youth", "contacted", None, "person-1"),
                ("f-arts", "not_relevant", None, "person-1"),
                ("big", "contacted", None, None),  # anonymous
                ("f-arts", "contacted", None, None),  # anonymous: does not undo person-1's mark
                ("big", "contacted", None, "person-2"),  # signed up, e-mail not confirmed
            ]
        ):
            s.add(
                FeedbackRow(
                    recommendation_id="rec2",
                    organisation_id=org,
                    outcome=outcome,
                    created_at=when.replace(hour=i + 1),
                    api_key_id=key,
                    person_id=person,
                )
            )
    skipped: Counter[str] = Counter()
    pairs = labelled_pairs(engine.store, skipped=skipped)
    fb = pairs[pairs["origin"] == "feedback"].set_index("partner_id")
    assert sorted(fb.index) == ["f-arts", "f-youth"]
    assert fb.loc["f-youth", "label"] == 1 and fb.loc["f-youth", "weight"] == 0.5
    assert fb.loc["f-arts", "label"] == 0 and fb.loc["f-arts", "outcome"] == "not_relevant"
    assert set(fb["source_id"]) == {"need:n2"}
    assert set(fb["text"]) == {"Homework help for refugee children"}
    assert skipped == Counter(
        {"anonymous feedback": 2, "feedback of people with unconfirmed e-mail": 1}
    )


def test_enrich_describes_funders_by_what_they_funded(engine: Engine, tmp_path: Path) -> None:
    store_partnerships(engine.store, load_partnership_file(_history(tmp_path)).accepted)
    report = enrich_profiles(engine.store, max_chars=500)
    youth = engine.store.get_organisation("f-youth").record
    assert youth.description.startswith("A grant-making trust." + HISTORY_MARKER + "Funded: ")
    assert "Weekly youth sport sessions" in youth.description
    assert "Skate park" not in youth.description  # declined partnerships do not describe it
    r1 = engine.store.get_organisation("r1").record
    assert "Funded for: Football for teenagers" in r1.description
    assert "big" not in {o.id for o in report.enriched}  # a long description is left alone
    assert report.with_history == 4
    # re-running never appends twice
    again = enrich_profiles(engine.store, max_chars=500)
    assert again.enriched == [] and engine.store.get_organisation("f-youth").record == youth


def test_enrich_cap_exclusions_and_dry_run(engine: Engine) -> None:
    grants = [
        Partnership(
            id=f"g{i}",
            source_id="f-youth",
            partner_id="r1",
            title=f"Grant {i} for youth football coaching sessions in the park",
            started_at=datetime(2020, 1, 1 + i, tzinfo=UTC),
            outcome="funded",
        )
        for i in range(20)
    ]
    store_partnerships(engine.store, grants)
    dry = enrich_profiles(engine.store, max_chars=200, apply=False)
    assert engine.store.get_organisation("f-youth").record.description == "A grant-making trust."
    added = next(o for o in dry.enriched if o.id == "f-youth").description.split(HISTORY_MARKER)[1]
    assert len(added) <= 200 and added.startswith("Funded: Grant")
    held_out = {f"g{i}" for i in range(10, 20)}
    recent = enrich_profiles(engine.store, order="recent", exclude=held_out, max_chars=2000)
    text = next(o for o in recent.enriched if o.id == "f-youth").description
    assert "Grant 9 " in text and "Grant 10 " not in text and "Grant 19" not in text
    assert text.index("Grant 9 ") < text.index("Grant 0 ")  # newest first
    early = enrich_profiles(engine.store, until=datetime(2020, 1, 3, tzinfo=UTC), apply=False)
    desc = next(o for o in early.enriched if o.id == "f-youth").description
    assert "Grant 1 " in desc and "Grant 2 " not in desc


def test_enrichment_lets_the_engine_find_the_right_funder(engine: Engine, tmp_path: Path) -> None:
    store_partnerships(engine.store, load_partnership_file(_history(tmp_path)).accepted)
    engine.build()
    need = Need(text="Coaching sport for young people and teenagers")
    before = [m.id for m in engine.recommend(need).results if m.id.startswith("f-")]
    enrich_profiles(engine.store)
    engine.build()
    after = [m.id for m in engine.recommend(need).results if m.id.startswith("f-")]
    assert after[0] == "f-youth"
    assert before == [] or before[0] != "f-youth" or len(before) < 2  # identical text before


def test_cli_history_enrich_pairs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    base = ["--data-dir", str(tmp_path / "var"), "--model", "hashing-v1", "train"]
    path = _history(tmp_path)
    assert main([*base, "history", str(path), "--dry-run", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["stored"] == {}
    assert main([*base, "history", str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["accepted"] == 4 and out["stored"]["inserted"] == 4
    assert len(out["rejected"]) == 4
    assert main([*base, "history", str(path), "--map", "bad"]) == 2
    assert main([*base, "enrich", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["short_profiles"] == 0  # no organisations yet
    out_file = tmp_path / "pairs.csv"
    assert main([*base, "pairs", "--out", str(out_file)]) == 0
    assert "wrote 4 labelled pairs (3 positive)" in capsys.readouterr().out
    assert len(pd.read_csv(out_file)) == 4
    assert main([*base, "pairs", "--out", str(tmp_path / "p.txt")]) == 2


def test_cli_history_warns_of_unknown_organisations_and_future_dates(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Real data walk (2026-12-04, night): `ticker-CVS -> ein-999999999` (no such organisation)
    and a start in 2031 were stored without a word. They still are (a file of history may come
    before its organisations), but each is a warning on its row and column."""
    from matcher.store import Database, Store

    data = tmp_path / "var"
    base = ["--data-dir", str(data), "--model", "hashing-v1", "train"]
    path = tmp_path / "h.csv"
    path.write_text(
        "source_id,partner_id,title,started_at,outcome\n"
        "f-a,p-a,Pantry grant,2024-05-01,funded\n"
        "f-a,p-gone,Pantry grant,2024-05-01,funded\n"
        "f-a,p-a,Pantry grant 2,2031-05-01,funded\n",
        encoding="utf-8",
    )
    data.mkdir()
    db = Database(Settings(data_dir=data).sqlalchemy_url)
    db.create_all()
    store = Store(db)
    store.upsert_organisations(
        [
            Organisation(id=i, name=i, sector="nonprofit", description="Food for families.")
            for i in ("f-a", "p-a")
        ]
    )
    assert main([*base, "history", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["stored"]["inserted"] == 3
    warned = {(w["row"], w["column"]): w["reason"] for w in out["warnings"]}
    assert warned == {
        (2, "partner_id"): "no organisation 'p-gone' is stored here",
        (3, "started_at"): "starts in the future (2031-05-01)",
    }
    assert main([*base, "history", str(path)]) == 0
    text = capsys.readouterr().out
    assert "2 warnings (stored all the same):" in text and "warning: row 2" in text
