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


def test_definitions_are_labelled_data_of_their_own_cause_only() -> None:
    """A cause's definition joins its prototype (weight 1: as much as its members' mean), so
    text written like the definition classifies into it with confidence; a definition of a
    code without members adds no cause."""
    from matcher.cause_model import with_definitions

    vecs, labels, centres = _clusters(spread=1.2)
    rng = np.random.default_rng(5)
    # a definition: the cause's direction plus wording of its own (off the members' cloud)
    own = rng.normal(size=centres.shape[1])
    definition = centres[0] + own / np.linalg.norm(own)
    plain = learn_causes(vecs, labels)
    with_def = learn_causes(
        vecs,
        labels,
        definitions={"K30": definition, "Z99": rng.normal(size=centres.shape[1])},
        definition_weight=1.0,
    )
    codes = [c.code for c in with_def.causes]
    assert codes == [c.code for c in plain.causes] == ["B60", "K30", "P84"]  # no Z99
    assert with_def.definitions == 1 and with_def.definition_weight == 1.0
    k = codes.index("K30")
    unit = definition / np.linalg.norm(definition)
    expected = plain.vectors[k] + unit
    assert np.allclose(with_def.vectors[k], expected / np.linalg.norm(expected), atol=1e-5)
    for c in ("B60", "P84"):  # the others keep their members' prototype
        i = codes.index(c)
        assert np.allclose(with_def.vectors[i], plain.vectors[i], atol=1e-6)

    def p_own(learned: object) -> float:
        sims = unit @ learned.vectors.T  # type: ignore[attr-defined]
        z = np.exp((sims - sims.max()) / learned.temperature)  # type: ignore[attr-defined]
        return float(z[k] / z.sum())

    assert p_own(with_def) > p_own(plain)
    # weight 0 is the members alone
    zero = with_definitions(plain.vectors, codes, {"K30": definition}, 0.0)
    assert np.allclose(zero, plain.vectors, atol=1e-6)
    with pytest.raises(ValidationError, match="must not be negative"):
        learn_causes(vecs, labels, definitions={"K30": definition}, definition_weight=-1)
