"""`matcher embed --executor ray`: the texts embedded by a pool of Ray actors (Ray Data).

The driver reads the rows (the texts the space lacks, in the job's order) into a Ray dataset
of one block per batch, `map_batches` runs them through an actor pool, each actor holding one
embedder (the int8 ONNX model by default, loaded once per actor), and the driver writes each
batch of vectors back to the database in bulk, one commit per batch, as the batches come back
in order. Only the driver writes: SQLite allows one writer, and a killed job loses only the
batches in flight.

Without `address` a private local Ray is started for the job, with every process listening on
127.0.0.1 only, without the dashboard, with `workers` CPUs, and stopped at the end: Ray's
processes otherwise listen on every interface. With `address` (`ray://host:10001` or
`host:6379`) the job runs on that cluster, whose workers must have matcher and the model files
installed; each batch carries the identity of the model the worker loaded, and a batch from
other model files stops the job.

Needs the optional `ray[data]` package (`pip install 'partner-matcher[scale]'`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from matcher.embedding.base import Embedder
from matcher.embedding.identity import model_identity
from matcher.errors import MatcherError

logger = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"


class RayUnavailableError(MatcherError):
    """Ray is not installed or its cluster cannot be reached."""


class EmbedActor:
    """One embedder per Ray actor: built once, then called with batches of (hash, text)."""

    def __init__(self, factory: Callable[[], Embedder]) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.embedder = factory()
        self.identity = model_identity(self.embedder)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        texts = [str(t) for t in batch["text"]]
        vectors = np.asarray(self.embedder.encode(texts), dtype=np.float32)
        return {
            "hash": batch["hash"],
            "vector": vectors,
            "identity": np.asarray([self.identity] * len(texts)),
        }


# Ray turns 127.0.0.1 given as the node address into the machine's address and listens on
# every interface, except where it keeps to loopback (its single-machine mode for macOS and
# Windows): that mode, read from this variable by the driver and by every process it starts,
# is what binds the private cluster to 127.0.0.1.
_SINGLE_MACHINE = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def _loopback_only(on: bool) -> None:
    if on:
        os.environ[_SINGLE_MACHINE] = "0"
    else:
        os.environ.pop(_SINGLE_MACHINE, None)
    import ray._private.ray_constants as constants

    constants.ENABLE_RAY_CLUSTER = not on  # read at import: set it for this process too


def is_loopback(address: str) -> bool:
    """`127.0.0.1:6379`, `localhost:6379`, `ray://127.0.0.1:10001`: a head on this machine."""
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return host in ("127.0.0.1", "localhost", "::1")


def start_ray(address: str | None, workers: int) -> bool:
    """Connect to `address`, or start a private local Ray listening on 127.0.0.1 only; True if
    started here (and so to be stopped by the caller with `stop_ray`)."""
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailableError(
            "--executor ray needs Ray Data: pip install 'ray[data]' (the 'scale' extra)"
        ) from exc
    if ray.is_initialized():
        return False
    quiet: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    try:
        if address:
            # a head on this machine's loopback (`ray start --head --node-ip-address 127.0.0.1`
            # run with RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0): without the same mode here, Ray
            # turns 127.0.0.1 into the machine's address and never reaches the head
            _loopback_only(is_loopback(address))
            ray.init(address=address, **quiet)
            return True
        _loopback_only(True)
        ray.init(
            address="local",  # a new cluster, never one `ray start` left on this machine
            num_cpus=workers,
            include_dashboard=False,
            _node_ip_address=LOCALHOST,
            **quiet,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        _loopback_only(False)
        where = address or "local"
        raise RayUnavailableError(f"could not start or reach Ray ({where}): {exc}") from exc
    return True


def stop_ray() -> None:
    import ray

    ray.shutdown()
    _loopback_only(False)


def run_ray(
    order: list[tuple[str, str]],
    factory: Callable[[], Embedder],
    *,
    identity: str,
    address: str | None,
    batch_size: int,
    workers: int,
    write: Callable[[list[str], np.ndarray], None],
) -> None:
    """Embed `order` ((hash, text) pairs) on Ray; `write(hashes, vectors)` each batch, in
    order, in the driver."""
    started = start_ray(address, workers)
    import pyarrow as pa
    import ray
    import ray.data

    logging.getLogger("ray.data").setLevel(logging.WARNING)  # the job prints its own progress
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # batches come back as the job cut them
        ctx.enable_progress_bars = False
        blocks = [
            pa.table({"hash": [h for h, _ in chunk], "text": [t for _, t in chunk]})
            for chunk in (
                order[start : start + batch_size] for start in range(0, len(order), batch_size)
            )
        ]
        dataset = ray.data.from_arrow(blocks)  # one block per batch: the local batches
        vectors = dataset.map_batches(
            EmbedActor,
            fn_constructor_kwargs={"factory": factory},
            batch_size=batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1,
        )
        for batch in vectors.iter_batches(batch_size=None, batch_format="numpy"):
            got = set(batch["identity"].tolist())
            if got != {identity}:
                raise MatcherError(
                    f"a Ray worker embedded with {sorted(got)}, the job's model is {identity}: "
                    "install the same model files on every worker"
                )
            write([str(h) for h in batch["hash"]], np.asarray(batch["vector"], np.float32))
    finally:
        if started:
            stop_ray()
