"""`matcher train embed --pairs`: definition pairs, pairs of a text and who took it up
(introductions, partnership records, past partnerships, grants), and the command's checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from matcher.causes import Cause
from matcher.domain import Organisation
from matcher.store import Database, Store
from matcher.store.models import IntroductionRow, PartnershipRecordRow
from training.finetune.pair_sources import (
    definition_triplets,
    parse_sources,
    taken_up,
    taken_up_triplets,
)
from training.history import store_partnerships
from training.partnership import Partnership

TEXTS = {
    "K31": "hands out groceries and hot meals to hungry families every week",
    "K35": "runs a soup kitchen serving dinner to homeless neighbours downtown",
    "B60": "teaches adults to read and write and prepares them for the diploma",
}
CAUSES = [
    Cause(code="K31", title="Food Banks", definition="Organizations that distribute food."),
    Cause(code="K35", title="Soup Kitchens", definition="Organizations that serve meals."),
    Cause(code="B60", title="Adult Education", definition="Programs that teach adults."),
    Cause(code="Z99", title="Unused", definition="No profile has this code."),
]


def _orgs() -> list[Organisation]:
    out = []
    for i in range(4):
        for code, text in TEXTS.items():
            out.append(
                Organisation(
                    id=f"{code}-{i}",
                    name=f"{code} group {i}",
                    sector="nonprofit",
                    description=f"Our volunteers in town {i} {text}.",
                    region="HI" if i == 3 else "OR",
                    cause_code=code,
                )
            )
    out.append(
        Organisation(
            id="stub",
            name="Stub Trust",
            sector="nonprofit",
            description="Stub Trust is a UK organisation in Leeds funded by The Baring Foundation.",
        )
    )
    return out


def test_definition_pairs_anchor_on_the_definition_with_a_sibling_as_negative() -> None:
    triplets, counts = definition_triplets(_orgs(), CAUSES, per_cause=2, hold_out_states=["HI"])
    assert counts == {"causes_with_members": 3, "causes_without_members": 1, "triplets": 6}
    for t in triplets:
        code = t.anchor.split(".")[0]
        cause = next(c for c in CAUSES if c.title == code)
        assert t.anchor == cause.text()
        assert t.positive.startswith(cause.code) and "group 3" not in t.positive  # HI held out
        if cause.code.startswith("K"):  # a sibling cause of the same major group
            assert t.negative.startswith("K") and not t.negative.startswith(cause.code)
        assert not t.negative.startswith(cause.code)


def _store(tmp_path: Path) -> Store:
    db = Database(f"sqlite:///{tmp_path / 'matcher.db'}")
    db.create_all()
    store = Store(db)
    store.upsert_organisations(_orgs())
    store_partnerships(
        store,
        [
            Partnership(
                id="g1",
                source_id="B60-0",
                partner_id="K31-1",
                description="A grant for a mobile pantry van visiting rural villages each week",
                outcome="funded",
            ),
            Partnership(
                id="g2",
                source_id="B60-0",
                partner_id="stub",
                description="A grant for core costs of the advice line for one more year",
                outcome="funded",
            ),
            Partnership(
                id="p1",
                source_id="K31-0",
                partner_id="B60-1",
                description="Reading lessons for parents who come to the pantry on Fridays",
                outcome="partnered",
            ),
            Partnership(
                id="p2",
                source_id="K31-0",
                partner_id="B60-2",
                description="A declined proposal for evening literacy classes at the pantry",
                outcome="declined",
            ),
        ],
    )
    now = datetime.now(UTC)
    with db.session() as s:
        for i, status in enumerate(("accepted", "declined")):
            s.add(
                IntroductionRow(
                    id=f"i{i}",
                    from_org="B60-0",
                    to_org="K35-1",
                    requested_by="p",
                    message="hello",
                    need_text=f"Hot dinners for the adults in our evening classes ({status})",
                    status=status,
                    created_at=now,
                )
            )
        s.add(
            PartnershipRecordRow(
                id="r1",
                organisation_id="K35-0",
                partner_id="K31-2",
                status="active",
                body={
                    "title": "Shared food rescue",
                    "goals": [{"description": "Rescue surplus food from shops"}],
                },
                proposed_by="p",
                created_at=now,
                updated_at=now,
            )
        )
        s.commit()
    return store


def test_texts_and_who_took_them_up_come_from_the_stores_tables(tmp_path: Path) -> None:
    store = _store(tmp_path)
    found = taken_up(store.db)
    grants = dict((o, t) for t, o in found["grants"])
    assert set(grants) == {"K31-1", "stub"}
    outcomes = {o: t for t, o in found["outcomes"]}
    assert outcomes["B60-1"].startswith("Reading lessons")  # a positive past partnership
    assert "B60-2" not in outcomes  # declined: not a positive
    assert outcomes["K35-1"].endswith("(accepted)")  # only the accepted introduction
    assert (
        outcomes["K31-2"] == "Shared food rescue. Rescue surplus food from shops"
    )  # an active record
    triplets, counts = taken_up_triplets(found["grants"], _orgs(), max_pairs=10)
    # the stub recipient (an importer's "is a UK organisation ... funded by") is skipped
    assert len(triplets) == 1 and counts["no_description_or_held_out"] == 1
    assert triplets[0].positive.startswith("K31 group 1") and triplets[0].negative != (
        triplets[0].positive
    )
    held, _ = taken_up_triplets(found["grants"], _orgs(), max_pairs=10, hold_out_states=["OR"])
    assert held == []


def test_pair_sources_are_checked() -> None:
    assert parse_sources("missions, definitions,missions") == ["missions", "definitions"]
    with pytest.raises(ValueError, match="unknown pair source.*bogus"):
        parse_sources("missions,bogus")


def test_train_embed_pairs_option_records_its_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import training.finetune.train as train_mod
    from matcher.cli import main

    (tmp_path / "var").mkdir()
    _store(tmp_path / "var")
    codes = tmp_path / "codes.csv"
    codes.write_text(
        "code,title,definition\n" + "".join(f"{c.code},{c.title},{c.definition}\n" for c in CAUSES),
        encoding="utf-8",
    )
    base = ["--data-dir", str(tmp_path / "var"), "train", "embed", "--out", "ft"]
    assert main([*base, "--pairs", "missions,bogus"]) == 2
    assert "unknown pair source(s) bogus" in capsys.readouterr().err
    assert main([*base, "--pairs", "definitions"]) == 2
    assert "needs --definitions" in capsys.readouterr().err
    all_sources = ["--pairs", "missions,definitions,outcomes,grants", "--definitions", str(codes)]
    assert main([*base, *all_sources]) == 2  # under the default minimum of 1,000
    err = capsys.readouterr().err
    assert "training pairs (--min-pairs 1000) from missions" in err and "grants 1" in err

    seen: dict[str, Any] = {}

    def fake(base_path: Any, triplets: Any, out_dir: Path, *a: Any, **kw: Any) -> Any:
        seen["n"] = len(triplets)
        return train_mod.FinetuneResult(
            out_dir,
            {
                "seconds": 0,
                "steps": 1,
                "loss_first_steps": 1,
                "loss_last_steps": 1,
                **kw["extra_manifest"],
            },
            0,
        )

    monkeypatch.setattr(train_mod, "finetune", fake)
    args = [*all_sources, "--min-pairs", "2", "--no-register", "--json"]
    assert main([*base, *args]) == 0
    out = json.loads(capsys.readouterr().out)
    sources = out["pair_sources"]
    assert set(sources) == {"missions", "definitions", "outcomes", "grants"}
    assert sources["definitions"] == 9 and sources["grants"] == 1 and sources["outcomes"] == 3
    assert seen["n"] == sum(sources.values())
