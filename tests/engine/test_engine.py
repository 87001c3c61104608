"""Engine behaviour on a small corpus with the model-free hashing embedder."""

from __future__ import annotations

import pytest

from matcher.domain import Filters, Need, Organisation
from matcher.engine import Engine
from matcher.errors import ConflictError, NotFoundError
from matcher.settings import Settings

PORTLAND = (45.52, -122.68)  # as in conftest.small_corpus


def test_recommend_ranks_local_food_partners_first(engine: Engine) -> None:
    need = Need(text="food bank groceries for hungry families", lat=PORTLAND[0], lon=PORTLAND[1])
    rec = engine.recommend(need, limit=5)
    ids = [m.id for m in rec.results]
    assert ids[0] == "fb-pdx"  # same text as fb-sea, but local
    assert ids.index("fb-pdx") < ids.index("fb-sea")
    assert "hidden" not in ids  # unpublished never recommended
    top = rec.results[0]
    assert set(top.components) == {"fit", "coverage", "reciprocity", "proximity", "freshness"}
    assert top.reasons and any("km from the need" in r for r in top.reasons)
    assert rec.index_generation == 1


def test_hard_filters_are_never_violated(engine: Engine) -> None:
    need = Need(text="food bank groceries")
    f = Filters(sectors=["business", "government"], region="oregon")
    rec = engine.recommend(need, filters=f, limit=20)
    assert rec.results
    for m in rec.results:
        assert (
            m.sector in {"business", "government"} and m.region == "OR"
        )  # stored as the state code
    near = engine.recommend(need, filters=Filters(near=(47.61, -122.33), radius_km=20), limit=20)
    assert {m.id for m in near.results} <= {"fb-sea", "jobs-sea", "uni-sea"}


def test_coalition_spans_sectors_and_lists_gaps(engine: Engine) -> None:
    need = Need(
        text="Hungry families need fresh food, delivery, funding and legal aid",
        lat=PORTLAND[0],
        lon=PORTLAND[1],
    )
    rec = engine.recommend(need)
    sectors = {m.sector for m in rec.coalition.members}
    assert len(sectors) >= 2
    assert "legal_aid" in rec.required_capabilities
    assert "legal_aid" in rec.gaps  # nobody offers legal aid
    assert "food_supply" not in rec.gaps
    assert rec.coalition.covered["food_supply"]


def test_requester_is_excluded_and_reciprocity_counts(engine: Engine) -> None:
    need = Need(text="fresh food for families", requester_id="tenants-pdx")
    rec = engine.recommend(need, limit=10)
    assert "tenants-pdx" not in [m.id for m in rec.results]
    grocer = next(m for m in rec.results if m.id == "groc-pdx")
    assert grocer.components["reciprocity"] > 0
    assert any("Would gain" in r for r in grocer.reasons)


def test_incremental_writes_are_visible_at_once(engine: Engine) -> None:
    need = Need(text="bicycle repair workshop for refugees")
    assert "bike" not in [m.id for m in engine.recommend(need).results[:1]]
    engine.create_organisation(
        Organisation(
            id="bike",
            name="Bike Kitchen",
            sector="community",
            description="bicycle repair workshop for refugees",
            offers=["repair training"],
        )
    )
    assert engine.recommend(need).results[0].id == "bike"
    stored = engine.update_organisation("bike", {"published": False}, expected_version=1)
    assert stored.version == 2
    assert "bike" not in [m.id for m in engine.recommend(need).results]
    with pytest.raises(ConflictError):
        engine.update_organisation("bike", {"name": "x"}, expected_version=1)
    engine.delete_organisation("bike")
    with pytest.raises(NotFoundError):
        engine.store.get_organisation("bike")
    assert engine.stats()["organisations"] == 9


def test_reopen_uses_saved_generation_and_catches_up(
    engine_settings: Settings, engine: Engine
) -> None:
    engine.store.upsert_organisations(
        [
            Organisation(
                id="late",
                name="Late Arrival Kitchen",
                sector="nonprofit",
                description="community kitchen serving soup",
            )
        ]
    )
    again = Engine.open(engine_settings)
    assert again.index_generation == 1  # no rebuild, the delta was applied
    assert again.recommend(Need(text="community kitchen serving soup")).results[0].id == "late"


def test_failed_build_keeps_previous_generation(
    engine_settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matcher.engine as engine_module

    def boom(*a: object, **k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(engine_module, "save_artifact", boom)
    with pytest.raises(OSError):
        engine.build()
    assert engine.store.index_state("organisations")["generation"] == 1  # type: ignore[index]
    monkeypatch.undo()
    again = Engine.open(engine_settings)
    assert again.index_generation == 1
    assert again.recommend(Need(text="food bank")).results


def test_artifact_for_another_model_is_rebuilt(engine_settings: Settings, engine: Engine) -> None:
    from matcher.embedding.hashing import HashingEmbedder

    other = HashingEmbedder(dimension=64)
    other.model_name = "hashing-64"  # type: ignore[misc]
    eng = Engine.open(engine_settings, embedder=other)
    assert eng.index_generation == 2
    assert eng.store.index_state("organisations")["model"] == "hashing-64"  # type: ignore[index]


def test_match_judges_both_directions(engine: Engine) -> None:
    results = engine.match("fb-pdx", sectors=["business"])
    assert [m.sector for m in results] == ["business"] * len(results)
    bank = next(m for m in results if m.id == "bank-pdx")
    assert bank.components["coverage"] > 0  # it offers the grant funding the food bank seeks
    assert any("funding" in r for r in bank.reasons)
    with pytest.raises(NotFoundError):
        engine.match("nope")


def test_needs_for_finds_open_needs(engine: Engine) -> None:
    found = engine.needs_for("groc-pdx")
    assert found[0].id == "need-food"
    assert all(n.id != "need-food" for n in engine.needs_for("tenants-pdx"))  # its own need


def test_a_programme_among_opportunities_is_spoken_of_as_one(engine: Engine) -> None:
    """Real data walk: a housing nonprofit's opportunities read a federal grant programme as a
    need ("matches the need", "Does not cover: funding" of money the programme offers)."""
    text = "Grants to fund fresh food, produce and delivery vans for food banks in Portland."
    engine.create_need(Need(id="prog-food", text=text, city="Portland", kind="programme"))
    engine.create_need(Need(id="need-food-2", text=text, city="Portland"))
    try:
        found = {m.id: m for m in engine.needs_for("groc-pdx")}
        programme, need = found["prog-food"], found["need-food-2"]
        assert programme.kind == "programme" and need.kind == "need"
        assert (
            programme.reasons[0].startswith("Its profile")
            and "matches the programme" in (programme.reasons[0])
        )
        assert any("(the programme supports: " in r for r in programme.reasons)
        assert not any(r.startswith("Does not cover") for r in programme.reasons)
        # the same text as a need: what the grocer does not offer is said
        assert "matches the need" in need.reasons[0]
        assert any(r.startswith("Does not cover: funding") for r in need.reasons), need.reasons
    finally:
        engine.delete_need("prog-food")
        engine.delete_need("need-food-2")


def test_weights_swap_changes_ranking_and_version(engine: Engine) -> None:
    need = Need(text="food bank groceries for hungry families", lat=PORTLAND[0], lon=PORTLAND[1])
    before = engine.recommend(need)
    assert before.model_version.endswith("@default-weights")
    engine.use_weights({"proximity": 1.0}, "proximity-only")
    after = engine.recommend(need, limit=20)
    assert after.model_version.endswith("@proximity-only")
    dists = [m.distance_km for m in after.results if m.distance_km is not None]
    assert dists == sorted(dists)  # ranked by distance alone now
    from matcher.errors import ArtifactMismatchError

    with pytest.raises(ArtifactMismatchError):
        engine.use_weights({"charisma": 1.0}, "bad")
    engine.use_default_weights()
    assert engine.recommend(need).model_version.endswith("@default-weights")
