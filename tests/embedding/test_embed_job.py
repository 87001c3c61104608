"""`matcher embed` with the local executor: fill, resume, validate, freeze the mean, switch."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from matcher.artifacts import generation_dir
from matcher.cli import main
from matcher.domain import Need
from matcher.embed_job import EmbedJobError, run_embed
from matcher.embedding.cache import text_hash
from matcher.embedding.hashing import HashingEmbedder
from matcher.embedding.spaces import VALIDATED, get_space
from matcher.engine import Engine
from matcher.settings import Settings
from matcher.store import Database
from matcher.store.repository import SqlEmbeddingCache
from tests.embedding.embed_support import TwistedHashing, corpus, fill_store


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    s = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    fill_store(s, n_orgs=40, n_needs=5)
    return s


def test_fills_every_text_in_committed_batches_then_a_rerun_has_nothing_to_do(
    settings: Settings,
) -> None:
    report = run_embed(settings, batch_size=7, embedder=TwistedHashing())
    assert report.texts == 45 and report.already == 0
    assert report.embedded == 45 and report.batches == math.ceil(45 / 7)
    assert report.status == VALIDATED and report.missing == 0
    assert report.identity == "hashing-twisted"

    again = run_embed(settings, batch_size=7, embedder=TwistedHashing())
    assert (again.already, again.embedded, again.batches) == (45, 0, 0)
    assert again.mean_source == "frozen before"


def test_the_frozen_mean_is_the_mean_of_the_profiles_and_stays_frozen(settings: Settings) -> None:
    model = TwistedHashing()
    run_embed(settings, embedder=model)
    db = Database(settings.sqlalchemy_url)
    space = get_space(db, "hashing-twisted")
    assert space is not None and space.mean is not None and space.mean_count == 40
    expected = model.encode([o.profile_text() for o in corpus(40)]).mean(axis=0)
    np.testing.assert_allclose(space.mean, expected, atol=1e-6)
    frozen = space.mean

    fill_store(settings, n_orgs=80, n_needs=5)  # the corpus grows: the space's mean does not
    report = run_embed(settings, embedder=model)
    assert report.embedded == 40
    space = get_space(db, "hashing-twisted")
    assert space is not None and space.mean is not None
    np.testing.assert_array_equal(space.mean, frozen)
    db.dispose()


class Failing(TwistedHashing):
    """Dies on the third batch, as a job killed mid-way."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def encode(self, texts, *, progress=False):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("worker lost")
        return super().encode(texts, progress=progress)


def test_a_job_that_dies_keeps_its_finished_batches_and_the_rerun_resumes(
    settings: Settings,
) -> None:
    with pytest.raises(RuntimeError, match="worker lost"):
        run_embed(settings, batch_size=10, embedder=Failing())
    db = Database(settings.sqlalchemy_url)
    assert SqlEmbeddingCache(db).count("hashing-twisted") == 20  # two batches committed
    db.dispose()
    report = run_embed(settings, batch_size=10, embedder=TwistedHashing())
    assert (report.already, report.embedded) == (20, 25)
    assert report.status == VALIDATED


def test_a_vector_of_another_dimension_fails_validation(settings: Settings) -> None:
    run_embed(settings, embedder=TwistedHashing())
    db = Database(settings.sqlalchemy_url)
    h = text_hash(corpus(1)[0].profile_text())
    SqlEmbeddingCache(db).put_many("hashing-twisted", {h: np.ones(5, dtype=np.float32)})
    db.dispose()
    with pytest.raises(EmbedJobError, match="1 vectors not of 384 dimensions"):
        run_embed(settings, embedder=TwistedHashing())


def test_switch_builds_a_generation_from_the_space_while_the_old_one_served(
    settings: Settings,
) -> None:
    old = Engine.open(settings, embedder=HashingEmbedder())  # builds generation 1
    assert old.index_generation == 1
    need = Need(text="We need food bank volunteers")
    before = [r.id for r in old.recommend(need).results]
    assert before

    report = run_embed(settings, embedder=TwistedHashing())  # fill and validate, no switch
    assert report.switched is None
    reopened = Engine.open(settings, embedder=HashingEmbedder())
    assert reopened.index_generation == 1  # still serving the old space, nothing rebuilt
    reopened.close()

    report = run_embed(settings, embedder=TwistedHashing(), switch=True)
    assert report.switched is not None and report.switched["generation"] == 2
    manifest = json.loads((generation_dir(old.index_root, 2) / "manifest.json").read_text())
    assert manifest["model"] == "hashing-twisted"
    assert manifest["model_identity"] == "hashing-twisted"
    assert manifest["mean_source"] == "frozen"
    db = Database(settings.sqlalchemy_url)
    space = get_space(db, "hashing-twisted")
    db.dispose()
    assert space is not None and space.mean is not None
    mean = np.load(generation_dir(old.index_root, 2) / "mean.npy")
    np.testing.assert_array_equal(mean, space.mean)
    assert (generation_dir(old.index_root, 1) / "manifest.json").exists()  # kept for rollback
    # the process that loaded generation 1 answers from it throughout, unchanged
    assert old.index_generation == 1
    assert [r.id for r in old.recommend(need).results] == before
    old.close()
    new = Engine.open(settings, embedder=TwistedHashing())
    assert new.index_generation == 2  # a process started on the new model serves the switch
    assert new.recommend(need).results
    new.close()


def test_cli_embed_local_reports_and_refuses_address_without_ray(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data-dir", str(settings.data_dir), "--model", "hashing-v1", "embed"]
    # --nice 0: in this process, the default would lower the test session's priority for good
    assert main([*args, "--json", "--quiet", "--batch-size", "16", "--nice", "0"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["identity"] == "hashing-v1" and out["embedded"] == 45 and out["batches"] == 3
    assert out["extra"]["priority"]["nice"] == os.getpriority(os.PRIO_PROCESS, 0)
    assert main([*args, "--address", "127.0.0.1:6379"]) == 2
    assert "--address needs --executor ray" in capsys.readouterr().err
    assert main([*args, "--model-path", str(settings.data_dir / "nope")]) == 2
    assert "no model folder" in capsys.readouterr().err


SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.mark.skipif(
    not (SHARED / "us_nonprofits_dev.csv.gz").is_file(), reason="no ../shared/data (real T1)"
)
def test_a_t1_sample_below_the_floor_refuses_the_switch(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data-dir", str(settings.data_dir), "--model", "hashing-v1", "embed", "--quiet"]
    args += ["--nice", "0"]  # in this process: keep the test session's priority
    t1 = ["--t1", str(SHARED), "--t1-states", "VT", "--switch"]
    assert main([*args, *t1, "--t1-min", "0.99"]) == 1
    err = capsys.readouterr().err
    assert "T1 sample P@10" in err and "below --t1-min 0.99" in err
    db = Database(settings.sqlalchemy_url)
    from matcher.store import Store

    assert Store(db).index_state("organisations") is None  # nothing was switched
    db.dispose()
    assert main([*args, *t1, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["extra"]["t1"]["states"] == ["VT"] and out["extra"]["t1"]["queries"] > 0
    assert out["switched"]["generation"] == 1
