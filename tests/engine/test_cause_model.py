"""Causes learned from labelled profiles (matcher.cause_model) and their use by the engine."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.cause_model import _log_loss, learn_causes, prototypes
from matcher.domain import Filters, Need, Sector
from matcher.engine import Engine
from matcher.errors import ValidationError


def _clusters(
    n_per: int = 40, dim: int = 16, spread: float = 0.3, seed: int = 0
) -> tuple[np.ndarray, list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rows, labels = [], []
    for i, code in enumerate(["K30", "B60", "P84"]):
        pts = centres[i] + spread * rng.normal(size=(n_per, dim)) / np.sqrt(dim)
        rows.append(pts / np.linalg.norm(pts, axis=1, keepdims=True))
        labels += [code] * n_per
    return np.vstack(rows).astype(np.float32), labels, centres


def test_prototypes_are_the_normalised_means_of_each_code() -> None:
    vecs, labels, centres = _clusters()
    protos = prototypes(vecs, labels, ["B60", "K30"])
    assert np.allclose(np.linalg.norm(protos, axis=1), 1.0, atol=1e-5)
    assert float(protos[0] @ centres[1]) > 0.95 and float(protos[1] @ centres[0]) > 0.95


def test_learned_causes_classify_held_out_rows_with_a_calibrated_temperature() -> None:
    vecs, labels, _ = _clusters()
    learned = learn_causes(vecs, labels, {"K30": "Food banks"})
    assert [c.code for c in learned.causes] == ["B60", "K30", "P84"]
    assert {c.code: c.title for c in learned.causes}["K30"] == "Food banks"
    assert learned.members == {"B60": 40, "K30": 40, "P84": 40}
    # new rows of the same clusters are classified right by the prototypes
    fresh, truth, _ = _clusters(n_per=10, seed=0)
    codes = [c.code for c in learned.causes]
    predicted = [codes[i] for i in np.argmax(fresh @ learned.vectors.T, axis=1)]
    assert np.mean([p == t for p, t in zip(predicted, truth, strict=True)]) > 0.9
    # the chosen temperature has the lowest held-out log-loss of the grid
    sims = vecs @ learned.vectors.T
    target = np.asarray([codes.index(t) for t in labels])
    best = _log_loss(sims, target, learned.temperature)
    assert all(best <= _log_loss(sims, target, t) + 0.05 for t in (0.01, 0.2))


def test_too_few_labelled_profiles_are_refused_with_a_clear_message() -> None:
    vecs, labels, _ = _clusters(n_per=3)
    with pytest.raises(ValidationError, match="too few labelled profiles"):
        learn_causes(vecs, labels, min_members=5)
    with pytest.raises(ValidationError, match="labels for vectors"):
        learn_causes(vecs, labels[:-1])


def test_engine_ranks_by_learned_causes(engine: Engine) -> None:
    """Prototypes learned from the profiles' own labels become the engine's cause space: the
    reasons name the learned cause and the cause component reaches the ranking."""
    ids = [engine.catalog._id_at(i) for i in range(len(engine.catalog))]
    food = {"fb-pdx", "fb-sea"}
    labels = ["K30" if i in food else "other" for i in ids if i is not None]
    positions = [i for i, oid in enumerate(ids) if oid is not None]
    learned = learn_causes(
        engine.catalog.vectors[positions], labels, {"K30": "Food banks"}, min_members=1
    )
    assert engine.set_cause_prototypes(learned.causes, learned.vectors, learned.temperature) == 2
    assert {c.code for c in engine.causes()} == {"K30", "other"}
    need = Need(text="Families go hungry; we need fresh food", wanted_sectors=[Sector.nonprofit])
    rec = engine.recommend(need, filters=Filters(sectors=[Sector.nonprofit]))
    reasons = {m.id: m.reasons for m in rec.results}
    assert "Works on the same cause: Food banks" in reasons["fb-pdx"]
    others = [r for oid, rs in reasons.items() if oid not in food for r in rs]
    assert not any("Food banks" in r for r in others)


def test_definitions_are_a_second_prototype_of_their_own_cause_only() -> None:
    """A cause's definition becomes its second prototype for queries: a query written like the
    definition classifies into the cause with confidence, profiles are classified by the
    members' means alone, and a definition of a code without members adds no cause."""
    from matcher.cause_model import definition_prototypes
    from matcher.causes import CauseSpace

    vecs, labels, centres = _clusters(spread=1.2)
    rng = np.random.default_rng(5)
    # a definition: between its cause and another, with wording of its own (off the members'
    # cloud), so the members' means alone do not tell which cause it defines
    own = rng.normal(size=centres.shape[1])
    definition = 0.55 * centres[0] + 0.45 * centres[1] + 0.3 * own / np.linalg.norm(own)
    plain = learn_causes(vecs, labels)
    stray = np.asarray(rng.normal(size=(centres.shape[1],)))
    with_def = learn_causes(
        vecs, labels, definitions={"K30": definition, "Z99": stray}, definition_weight=1.0
    )
    codes = [c.code for c in with_def.causes]
    assert codes == [c.code for c in plain.causes] == ["B60", "K30", "P84"]  # no Z99
    assert with_def.definitions == 1 and plain.second is None and plain.definitions == 0
    assert np.allclose(with_def.vectors, plain.vectors)  # the members' means are unchanged
    k = codes.index("K30")
    unit = (definition / np.linalg.norm(definition)).astype(np.float32)
    assert with_def.second is not None and np.allclose(with_def.second[k], unit, atol=1e-6)
    for c in ("B60", "P84"):  # no definition: the second prototype is the first
        i = codes.index(c)
        assert np.allclose(with_def.second[i], plain.vectors[i], atol=1e-6)

    def space(learned: object) -> CauseSpace:
        return CauseSpace(learned.temperature).fit(  # type: ignore[attr-defined]
            learned.causes,  # type: ignore[attr-defined]
            learned.vectors,  # type: ignore[attr-defined]
            learned.second,  # type: ignore[attr-defined]
        )

    def asked(learned: object) -> np.ndarray:
        return space(learned).query_distribution(unit[None, :])[0]

    assert asked(plain)[k] < 0.9 < asked(with_def)[k]
    assert with_def.temperature == plain.temperature  # calibrated on the profiles, as before
    # profiles (and the definition read as a profile) are classified by the members' means
    assert np.allclose(
        space(with_def).distribution(vecs[:5]), space(plain).distribution(vecs[:5]), atol=1e-6
    )
    assert np.allclose(
        space(with_def).distribution(unit[None, :]), space(plain).distribution(unit[None, :])
    )
    assert np.allclose(
        definition_prototypes(plain.vectors, codes, {}), plain.vectors
    )  # no definitions: nothing moves


def test_learned_causes_with_definitions_are_saved_and_loaded(tmp_path: object) -> None:
    from pathlib import Path

    from matcher.cause_model import load_learned, save_learned

    vecs, labels, centres = _clusters()
    learned = learn_causes(vecs, labels, definitions={"B60": centres[1]})
    save_learned(Path(str(tmp_path)), learned, "digest")
    back = load_learned(Path(str(tmp_path)), "digest")
    assert back is not None and back.definitions == 1 and back.second is not None
    assert np.allclose(back.second, learned.second)  # type: ignore[arg-type]


def test_engine_classifies_needs_with_the_definitions_and_profiles_without(
    engine: Engine,
) -> None:
    """With a second prototype per cause, the engine reads a need's causes with both (the
    definition that matches it wins) and keeps the profiles' causes from the first."""
    ids = [engine.catalog._id_at(i) for i in range(len(engine.catalog))]
    food = {"fb-pdx", "fb-sea"}
    positions = [i for i, oid in enumerate(ids) if oid is not None]
    labels = ["K30" if ids[i] in food else "other" for i in positions]
    learned = learn_causes(engine.catalog.vectors[positions], labels, min_members=1)
    q = engine.query_vectors(["Our town needs a new playground for toddlers"])[0]
    codes = [c.code for c in learned.causes]
    second = learned.vectors.copy()
    second[codes.index("K30")] = q  # the need reads exactly like K30's definition
    engine.set_cause_prototypes(learned.causes, learned.vectors, learned.temperature)
    before_idx, before_p = engine.catalog.cause_idx_.copy(), engine.catalog.cause_p_.copy()
    plain = engine._cause_dist(q)
    engine.set_cause_prototypes(learned.causes, learned.vectors, learned.temperature, second)
    asked = engine._cause_dist(q)
    assert plain is not None and asked is not None
    k = codes.index("K30")
    assert asked[k] > 0.9 and asked[k] > plain[k]
    assert np.array_equal(engine.catalog.cause_idx_, before_idx)
    assert np.allclose(engine.catalog.cause_p_, before_p)


def test_the_definition_weight_mixes_the_second_prototype() -> None:
    """Weight 1: the definition alone; 0: the members' prototype again; between: their
    normalised mix, closer to the definition as the weight grows. Outside 0-1 is refused."""
    from matcher.cause_model import definition_prototypes

    vecs, labels, centres = _clusters()
    definition = centres[1] + centres[2]
    unit = definition / np.linalg.norm(definition)
    full = learn_causes(vecs, labels, definitions={"K30": definition}, definition_weight=1.0)
    none = learn_causes(vecs, labels, definitions={"K30": definition}, definition_weight=0.0)
    k = [c.code for c in full.causes].index("K30")
    assert full.second is not None and none.second is not None
    assert np.allclose(full.second[k], unit, atol=1e-6)
    assert np.allclose(none.second[k], full.vectors[k], atol=1e-6)
    closeness = [
        float(
            definition_prototypes(full.vectors, ["B60", "K30", "P84"], {"K30": unit}, w)[k] @ unit
        )
        for w in (0.0, 0.25, 0.5, 0.75, 1.0)
    ]
    assert closeness == sorted(closeness) and closeness[-1] == pytest.approx(1.0)
    assert full.definition_weight == 1.0 and learn_causes(vecs, labels).definition_weight is None
    with pytest.raises(ValidationError, match="between 0 and 1"):
        learn_causes(vecs, labels, definitions={"K30": definition}, definition_weight=1.5)
