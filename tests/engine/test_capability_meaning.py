"""Capabilities by meaning: a capability with further senses is as close to a text as the
closest of its descriptions (asks, offers and focus offers alike)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matcher.capabilities import CAPABILITIES
from matcher.meaning import ASK_THRESHOLD, OFFER_THRESHOLD, CapabilityMeaning

DIM = 64


def _texts() -> list[str]:
    return [c.description for c in CAPABILITIES] + [s for c in CAPABILITIES for s in c.senses]


def _encode(texts: Sequence[str]) -> np.ndarray:
    """Each known description its own axis; any other text the zero vector."""
    axes = {t: i for i, t in enumerate(_texts())}
    out = np.zeros((len(texts), DIM), np.float32)
    for row, text in enumerate(texts):
        if text in axes:
            out[row, axes[text]] = 1.0
    return out


def test_transport_for_people_is_a_sense_of_distribution() -> None:
    dist = next(c for c in CAPABILITIES if c.key == "distribution")
    assert any("rides" in s and "drivers" in s for s in dist.senses)
    assert len(_texts()) <= DIM


def test_a_text_close_to_a_sense_is_about_its_capability() -> None:
    meaning = CapabilityMeaning(_encode)
    k = meaning.keys_.index("distribution")
    assert meaning.vectors_.shape == (len(_texts()), DIM)
    (people,) = next(c for c in CAPABILITIES if c.key == "distribution").senses
    goods = CAPABILITIES[k].description
    vecs = _encode([people, goods, "unrelated"])
    sims = meaning.similarity(vecs)
    assert sims.shape == (3, len(CAPABILITIES))
    assert sims[0, k] == 1.0 and sims[1, k] == 1.0 and sims[2, k] == 0.0
    # the sense counts for its own capability only
    assert np.count_nonzero(sims[0]) == 1
    assert meaning.asks(["a wheelchair van"], vecs[:1]) == {"distribution": "a wheelchair van"}
    assert meaning.offers(vecs) == [{"distribution"}, {"distribution"}, set()]
    assert meaning.focus_offers(["passenger transit"], vecs[:1]) == {
        "distribution": "passenger transit"
    }
    assert ASK_THRESHOLD < 1.0 and OFFER_THRESHOLD < 1.0


def test_without_senses_similarity_is_the_plain_product() -> None:
    meaning = CapabilityMeaning(_encode)
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(5, DIM)).astype(np.float32)
    sims = meaning.similarity(vecs)
    plain = vecs @ meaning.vectors_[: len(CAPABILITIES)].T
    for k, cap in enumerate(CAPABILITIES):
        if not cap.senses:
            assert np.array_equal(sims[:, k], plain[:, k]), cap.key
        else:
            assert np.all(sims[:, k] >= plain[:, k])
