"""Causes learned from labelled profiles, measured on states never trained on (issue 13).

The dev corpus is split by state: prototypes are learned from the NTEE codes of the nonprofits
of the training states only (matcher.cause_model), and every method is scored on the queries
of the held-out states, whose codes never reach the engine. The split is fixed (seed 0, 4 of the
12 dev states held out) so runs compare.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from matcher.cause_model import DEFINITION_WEIGHT

HELD_OUT_STATES = 4
SPLIT_SEED = 0

T = TypeVar("T")


def split_states(
    states: Sequence[str], n_held: int = HELD_OUT_STATES
) -> tuple[list[str], list[str]]:
    """(training states, held-out states), fixed by SPLIT_SEED."""
    ordered = sorted(set(states))
    rng = np.random.default_rng(SPLIT_SEED)
    held = sorted(str(s) for s in rng.choice(ordered, n_held, replace=False))
    return [s for s in ordered if s not in held], held


def held_out(task: T, states: Sequence[str]) -> T:
    """The task with only the queries of `states` (profiles and key unchanged)."""
    queries = task.queries  # type: ignore[attr-defined]
    kept = queries[queries["region"].isin(set(states))].reset_index(drop=True)
    return dataclasses.replace(task, queries=kept)  # type: ignore[type-var]


def definition_vectors(engine: Any, definitions: Sequence[Any]) -> dict[str, np.ndarray] | None:
    """code -> the definition's embedding in the engine's (centred) profile space; None
    without definitions."""
    if not definitions:
        return None
    vectors = engine.cause_vectors(definitions)
    return {c.code: v for c, v in zip(definitions, vectors, strict=True)}


def learned_causes_setup(
    task: Any,
    train_states: Sequence[str],
    titles: Mapping[str, str],
    definitions: Sequence[Any] = (),
    definition_weight: float = DEFINITION_WEIGHT,
) -> Callable[[Any], None]:
    """A function that, given the T1/T3 engine, learns cause prototypes from the codes of the
    training states' profiles and loads them as its cause space. `definitions` (causes):
    their definitions are added to the learned prototypes as labelled data (never a cause of
    their own: the cause space stays the learned one), a second prototype each."""
    from matcher.cause_model import learn_causes

    def setup(engine: Any) -> None:
        key = task.key[task.key["region"].isin(set(train_states))]
        found = [
            (p, code)
            for p, code in (
                (engine.catalog.position_of_id(i), c)
                for i, c in zip(key["id"], key["code3"], strict=True)
            )
            if p is not None
        ]
        vectors = engine.catalog.vectors[[p for p, _ in found]]
        learned = learn_causes(
            vectors,
            [c for _, c in found],
            titles,
            definitions=definition_vectors(engine, definitions),
            definition_weight=definition_weight,
        )
        engine.set_cause_prototypes(
            learned.causes, learned.vectors, learned.temperature, learned.second
        )
        print(
            f"learned causes: {len(learned.causes)} prototypes from {len(found)} profiles of "
            f"{', '.join(train_states)}, {learned.definitions} with their definition "
            f"(temperature {learned.temperature}, held-out log-loss {learned.log_loss})"
        )

    return setup


T4_FOLDS = 3


def state_folds(states: Sequence[str], n_folds: int = T4_FOLDS) -> list[list[str]]:
    """The states dealt into `n_folds` folds, fixed by SPLIT_SEED."""
    order = np.random.default_rng(SPLIT_SEED).permutation(sorted(set(states)))
    return [sorted(str(s) for s in order[i::n_folds]) for i in range(n_folds)]


def t4_learned_runs(
    engine: Any,
    task: Any,
    titles: Mapping[str, str],
    n_folds: int = T4_FOLDS,
    definitions: Sequence[Any] = (),
    definition_weight: float = DEFINITION_WEIGHT,
) -> tuple[list[Any], list[str]]:
    """T4 through the engine with causes learned by cross-fitting over states: the needs'
    states are dealt into folds; each fold's needs are asked of an engine whose cause
    prototypes were learned from the codes of the nonprofits of every other state, so no need
    is ever answered with codes from its own state. `definitions`: as in
    `learned_causes_setup`. Returns the runs in the task's order and a line per fold. Leaves
    the last fold's prototypes loaded."""
    from matcher.cause_model import learn_causes
    from training.benchmarks.t4_engine import run_engine_t4

    runs: list[Any] = []
    lines: list[str] = []
    defs = definition_vectors(engine, definitions)
    for fold in state_folds([n.state for n in task.needs], n_folds):
        held = set(fold)
        found = [
            (p, code)
            for p, code in (
                (engine.catalog.position_of_id(i), c)
                for i, (state, c) in task.np_key.items()
                if c and state not in held
            )
            if p is not None
        ]
        vectors = engine.catalog.vectors[[p for p, _ in found]]
        learned = learn_causes(
            vectors,
            [c for _, c in found],
            titles,
            definitions=defs,
            definition_weight=definition_weight,
        )
        engine.set_cause_prototypes(
            learned.causes, learned.vectors, learned.temperature, learned.second
        )
        needs = [n for n in task.needs if n.state in held]
        runs += run_engine_t4(engine, dataclasses.replace(task, needs=needs))
        lines.append(
            f"fold {'+'.join(fold)}: {len(needs)} needs, {len(learned.causes)} causes learned "
            f"from {len(found)} nonprofits of the other states"
        )
    order = {n.id: i for i, n in enumerate(task.needs)}
    runs.sort(key=lambda r: order[r.need.id])
    return runs, lines
