"""Issue 13's split: causes are learned on training states and scored on states never seen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from training.benchmarks.learned_causes import held_out, learned_causes_setup, split_states

STATES = ["CT", "DC", "DE", "HI", "ME", "MT", "ND", "NM", "OR", "RI", "VT", "WY"]


@dataclass(frozen=True)
class _Task:
    key: pd.DataFrame
    queries: pd.DataFrame


def test_the_split_is_fixed_and_disjoint() -> None:
    train, held = split_states(STATES)
    assert len(held) == 4 and set(train) | set(held) == set(STATES)
    assert not set(train) & set(held)
    assert split_states(list(reversed(STATES))) == (train, held)


def test_held_out_keeps_only_the_queries_of_those_states() -> None:
    task = _Task(
        key=pd.DataFrame({"id": ["a"], "region": ["HI"], "code3": ["K30"]}),
        queries=pd.DataFrame({"query_id": ["q1", "q2"], "region": ["HI", "OR"]}),
    )
    assert held_out(task, ["HI"]).queries["query_id"].tolist() == ["q1"]
    assert held_out(task, ["HI"]).key is task.key


def test_learning_reads_only_the_training_states_codes() -> None:
    rng = np.random.default_rng(0)
    rows = [
        (f"o{i}", s, c)
        for i, (s, c) in enumerate(
            [(s, c) for s in ("HI", "OR") for c in ("K30", "B60") for _ in range(6)]
        )
    ]
    key = pd.DataFrame(rows, columns=["id", "region", "code3"])
    vectors = rng.normal(size=(len(rows), 8)).astype(np.float32)

    class Catalog:
        def __init__(self) -> None:
            self.vectors = vectors

        def position_of_id(self, oid: str) -> int:
            return int(oid[1:])

    class Engine:
        catalog = Catalog()
        got: Any = None

        def set_cause_prototypes(
            self, causes: Any, protos: Any, temperature: float, second: Any = None
        ) -> int:
            Engine.got = (causes, protos, second)
            return len(causes)

    setup = learned_causes_setup(_Task(key=key, queries=key), ["OR"], {"K30": "Food banks"})
    setup(Engine())
    causes, protos, second = Engine.got
    assert {c.code for c in causes} == {"K30", "B60"} and second is None
    or_food = vectors[[i for i, (_, s, c) in enumerate(rows) if s == "OR" and c == "K30"]]
    expected = or_food.mean(axis=0) / np.linalg.norm(or_food.mean(axis=0))
    index = [c.code for c in causes].index("K30")
    assert np.allclose(protos[index], expected, atol=1e-5)  # HI's rows never used
    # the definitions as labelled data: K30's second prototype is its definition
    from matcher.causes import Cause

    definition = rng.normal(size=8).astype(np.float32)
    Engine.cause_vectors = lambda self, causes: np.stack([definition] * len(causes))  # type: ignore[attr-defined]
    learned_causes_setup(
        _Task(key=key, queries=key),
        ["OR"],
        {},
        definitions=[Cause(code="K30", title="Food banks", definition="Food.")],
        definition_weight=1.0,
    )(Engine())
    causes, protos, second = Engine.got
    index = [c.code for c in causes].index("K30")
    assert np.allclose(protos[index], expected, atol=1e-5)  # the members' mean, unchanged
    assert np.allclose(second[index], definition / np.linalg.norm(definition), atol=1e-5)
    assert len(causes) == 2  # no cause added
    # at the default weight the second prototype is the normalised mix with the members' mean
    learned_causes_setup(
        _Task(key=key, queries=key),
        ["OR"],
        {},
        definitions=[Cause(code="K30", title="Food banks", definition="Food.")],
    )(Engine())
    mixed = Engine.got[2][index]
    unit = definition / np.linalg.norm(definition)
    assert float(mixed @ unit) < 0.9999 and float(mixed @ expected) > float(unit @ expected)


def test_t4_cross_fitting_never_answers_a_need_with_its_own_states_codes(
    monkeypatch: Any,
) -> None:
    """T4's learned-causes row: each fold's needs are asked after learning from the other
    states' nonprofits only; every need is asked once, and the runs come back in task order."""
    import matcher.cause_model
    import training.benchmarks.t4_engine
    from training.benchmarks.learned_causes import state_folds, t4_learned_runs

    states = STATES[:6]
    np_key = {f"n{i}": (s, "K30" if i % 2 else "B60") for i, s in enumerate(states * 4)}
    vectors = np.zeros((len(np_key), 4), np.float32)
    vectors[:, 0] = [states.index(s) for s, _ in np_key.values()]  # the row's state, readable

    @dataclass(frozen=True)
    class Need:
        id: str
        state: str

    @dataclass(frozen=True)
    class Task:
        needs: list[Need]
        np_key: dict[str, tuple[str, str]]

    @dataclass
    class Run:
        need: Need

    task = Task([Need(f"q-{s}", s) for s in reversed(states)], np_key)
    learned_from: list[set[str]] = []
    asked: list[tuple[set[str], list[str]]] = []

    given_defs: list[Any] = []

    def learn(
        vecs: Any, codes: Any, titles: Any, definitions: Any = None, definition_weight: float = 1
    ) -> Any:
        learned_from.append({states[int(v)] for v in vecs[:, 0]})
        given_defs.append(definitions)
        return matcher.cause_model.LearnedCauses([], np.zeros((0, 4)), 0.1, {}, 0.0)

    def run(engine: Any, sub: Any) -> list[Run]:
        asked.append((learned_from[-1], [n.state for n in sub.needs]))
        return [Run(n) for n in sub.needs]

    class Catalog:
        def __init__(self) -> None:
            self.vectors = vectors

        def position_of_id(self, oid: str) -> int:
            return int(oid[1:])

    class Engine:
        catalog = Catalog()

        def set_cause_prototypes(self, *args: Any) -> int:
            return 0

    monkeypatch.setattr(matcher.cause_model, "learn_causes", learn)
    monkeypatch.setattr(training.benchmarks.t4_engine, "run_engine_t4", run)
    runs, lines = t4_learned_runs(Engine(), task, {}, n_folds=3)
    assert [r.need.id for r in runs] == [n.id for n in task.needs]
    assert len(asked) == 3 and len(lines) == 3
    assert sorted(s for _, fold in asked for s in fold) == sorted(states)
    for used, fold in asked:
        assert used == set(states) - set(fold)  # all the other states, never its own
    assert state_folds(states, 3) == state_folds(list(reversed(states)), 3)
    assert given_defs == [None] * 3
    # with definitions: embedded once by the engine, handed to every fold's learning
    from matcher.causes import Cause

    class DefEngine(Engine):
        def cause_vectors(self, causes: Any) -> np.ndarray:
            return np.ones((len(causes), 4), np.float32)

    given_defs.clear()
    t4_learned_runs(DefEngine(), task, {}, n_folds=3, definitions=[Cause(code="K30", title="F")])
    assert len(given_defs) == 3 and all(set(d) == {"K30"} for d in given_defs)
