"""`matcher train causes`: causes learned from profiles with a cause code, saved, reloaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.cause_model import LEARNED_DIR
from matcher.cli import main
from matcher.domain import Organisation
from matcher.engine import Engine
from matcher.settings import Settings
from training.importers.irs import cause_code

TOPICS = {
    "K31": "Food pantry giving groceries and canned food to hungry families each week.",
    "B60": "Adult literacy classes teaching parents to read and write English in the evening.",
    "D20": "Animal shelter rescuing stray dogs and cats and finding them adoptive homes.",
}


def _orgs() -> list[Organisation]:
    out = []
    for code, text in TOPICS.items():
        for i in range(6):
            out.append(
                Organisation(
                    id=f"{code.lower()}-{i}",
                    name=f"{code} group {i}",
                    sector="nonprofit",
                    description=f"{text} Volunteers in town number {i}.",
                    cause_code=code,
                )
            )
    return out


def test_irs_cause_code_is_the_ntee_code3() -> None:
    assert cause_code("K31 ") == "K31" and cause_code("b60z") == "B60"
    assert cause_code("") is None and cause_code("Z") is None and cause_code("K3") is None


def test_train_causes_learns_saves_and_is_used_after_reopening(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    engine = Engine.open(settings, load=False)
    engine.store.upsert_organisations(_orgs())
    engine.build()
    engine.close()
    base = ["--data-dir", str(settings.data_dir), "--model", "hashing-v1", "train", "causes"]
    assert main([*base, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["causes"] == 3 and out["labelled_profiles"] == 18
    assert (settings.data_dir / LEARNED_DIR / "manifest.json").is_file()
    reopened = Engine.open(settings)
    assert {c.code for c in reopened.causes()} == set(TOPICS)
    reopened.close()
    # too few labelled profiles per cause: a clear usage error, nothing replaced
    assert main([*base, "--min-members", "7"]) == 2
    assert "too few labelled profiles" in capsys.readouterr().err
    assert (settings.data_dir / LEARNED_DIR / "manifest.json").is_file()
    assert main([*base, "--clear"]) == 0
    assert not (settings.data_dir / LEARNED_DIR).exists()
    assert Engine.open(settings).causes() == []


def test_learned_causes_of_another_index_build_are_refused_not_misused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    engine = Engine.open(settings, load=False)
    engine.store.upsert_organisations(_orgs())
    engine.build()
    engine.learn_causes()
    # a rebuild over other profiles moves the centring mean: the prototypes no longer fit
    engine.store.upsert_organisations(
        [
            Organisation(
                id=f"extra-{i}",
                name=f"Extra {i}",
                sector="business",
                description=f"Steel mill number {i} rolling sheet metal for car makers.",
            )
            for i in range(30)
        ]
    )
    engine.build()
    engine.close()
    assert Engine.open(settings).causes() == []  # back to no taxonomy, with a warning


def test_train_causes_adds_definitions_from_a_file_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    engine = Engine.open(settings, load=False)
    engine.store.upsert_organisations(_orgs())
    engine.build()
    engine.close()
    taxonomy = tmp_path / "codes.csv"
    taxonomy.write_text(
        "code,title,definition\n"
        "K31,Food Banks & Pantries,Organizations that distribute food to the hungry.\n"
        "B60,Adult Education,Programs that teach adults to read.\n"
        "Z99,Unknown,No profile carries this code.\n",
        encoding="utf-8",
    )
    base = ["--data-dir", str(settings.data_dir), "--model", "hashing-v1", "train", "causes"]
    assert main([*base, "--definitions", str(taxonomy), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["causes"] == 3 and out["with_definition"] == 2  # Z99 has no members
    manifest = json.loads((settings.data_dir / LEARNED_DIR / "manifest.json").read_text())
    assert manifest["definitions"] == 2
    assert (settings.data_dir / LEARNED_DIR / "definitions.npy").is_file()
    titles = {c["code"]: c["title"] for c in manifest["causes"]}
    assert titles["K31"] == "Food Banks & Pantries" and "Z99" not in titles
    reopened = Engine.open(settings)
    assert {c.code for c in reopened.causes()} == set(TOPICS)  # the space stays the learned one
    assert reopened.cause_space is not None and reopened.cause_space.second_ is not None
    reopened.close()
    # without definitions: one prototype a cause
    assert main([*base, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["with_definition"] == 0
    assert not (settings.data_dir / LEARNED_DIR / "definitions.npy").exists()
    # bad input: a clear usage error naming the problem
    assert main([*base, "--definitions", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv is not a file" in capsys.readouterr().err
    assert main([*base, "--definitions", "taxonomy"]) == 2
    assert "no cause taxonomy is loaded" in capsys.readouterr().err


def test_train_causes_takes_a_definition_weight_and_checks_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    engine = Engine.open(settings, load=False)
    engine.store.upsert_organisations(_orgs())
    engine.build()
    engine.close()
    taxonomy = tmp_path / "codes.csv"
    taxonomy.write_text(
        "code,title,definition\nK31,Food Banks,Organizations that distribute food.\n",
        encoding="utf-8",
    )
    base = ["--data-dir", str(settings.data_dir), "--model", "hashing-v1", "train", "causes"]
    assert main([*base, "--definitions", str(taxonomy), "--definition-weight", "1.5"]) == 2
    assert "--definition-weight 1.5 is not between 0 and 1" in capsys.readouterr().err
    assert main([*base, "--definition-weight", "0.5"]) == 2
    assert "--definition-weight needs --definitions" in capsys.readouterr().err
    args = [*base, "--definitions", str(taxonomy), "--definition-weight", "0.25", "--json"]
    assert main(args) == 0
    manifest = json.loads((settings.data_dir / LEARNED_DIR / "manifest.json").read_text())
    assert manifest["definition_weight"] == 0.25 and manifest["definitions"] == 1
