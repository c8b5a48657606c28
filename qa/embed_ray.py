"""Text -> vectors on a Ray cluster: the embedding work of `qa index --ray` spread over actors, each loading
the model once."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from qa import config
from qa.embed import EmbedderError, resolve_backend

logger = logging.getLogger(__name__)

INSTALL = 'pip install "newsqa[ray]"  (or: pip install ray)'
# Ray turns a node address of 127.0.0.1 into the machine's routable one, and its servers then
# listen on every interface, unless it believes it runs on a single-node OS (Ray reads this when
# it is imported). A local cluster must stay on the loopback interface.
_LOOPBACK_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


class _EmbedWorker:
    """A Ray actor's state: one embedder, loaded once, on one CPU."""

    def __init__(self, model: str, backend: str):
        from qa import embed

        if backend == "torch":
            self.embedder = embed.SentenceTransformerEmbedder(model)
        else:  # one ONNX Runtime run at a time: the actor has one CPU, its neighbours the others
            self.embedder = embed.OnnxEmbedder(model, quantize=backend == "onnx-int8", threads=1)

    def describe(self) -> tuple[str, int, int]:
        return self.embedder.name, int(self.embedder.dimension), os.getpid()

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode(texts)


class RayEmbedder:
    """The Embedder protocol (qa/embed/) over Ray actors: a build uses it as it uses a local model.

    `address`: "auto" starts a local cluster on 127.0.0.1 (config.RAY_LOCAL_CPUS CPUs), stopped
    by close(); anything else is an existing cluster's address ("HOST:PORT" of its head, or
    "ray://HOST:10001"), whose nodes need newsqa installed. One actor per CPU of the cluster unless
    `actors` says.
    Each encode() cuts its texts into contiguous batches, one or more per actor, and puts the
    vectors back in order: the same vectors as one process makes (with onnx-int8, the default,
    bit for bit: it reads one text at a time).

    Example:
        >>> with RayEmbedder(config.DEFAULT_EMBEDDER, address="auto") as embedder:  # doctest: +SKIP
        ...     build_index("articles/", "index/", embedder)
    """

    def __init__(
        self,
        model: str = config.DEFAULT_EMBEDDER,
        backend: str | None = None,
        *,
        address: str = "auto",
        actors: int | None = None,
    ):
        if not address or not address.strip():
            raise ValueError("--ray needs auto or a Ray cluster's address (HOST:PORT, or ray://HOST:10001)")
        self.backend = resolve_backend(backend)
        self._ray, self._started_cluster = start_ray(address)
        ray = self._ray
        try:
            # The cluster's CPUs, not the ones free this instant: Ray frees a stopped actor's CPU a
            # moment later, and an actor waiting for one is bounded by the timeout below.
            cpus = int(ray.cluster_resources().get("CPU", 1))
            count = actors if actors is not None else max(1, cpus)
            if count < 1:
                raise ValueError(f"actors must be at least 1, got {count}")
            worker = ray.remote(num_cpus=1)(_EmbedWorker)
            self.actors = [worker.remote(model, self.backend) for _ in range(count)]
            # An actor waits for a free CPU; a cluster kept busy by other jobs must not hang the build.
            described = ray.get(
                [actor.describe.remote() for actor in self.actors], timeout=config.RAY_ACTOR_START_TIMEOUT_S
            )
        except Exception as error:
            self.close()
            if isinstance(error, ValueError):
                raise
            if isinstance(error, ray.exceptions.GetTimeoutError):
                raise EmbedderError(
                    f"Ray did not start {count} embedding actors within "
                    f"{config.RAY_ACTOR_START_TIMEOUT_S:.0f} s "
                    f"(one CPU each; the cluster has {cpus}, other jobs may hold them)"
                ) from None
            raise EmbedderError(f"Ray could not start the embedding actors for {model!r}: {error}") from error
        self.name, self.dimension = described[0][0], described[0][1]
        self.pids = [pid for _, _, pid in described]

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Two batches an actor, so that a slow batch does not leave the others idle at the end.
        pieces = min(len(texts), 2 * len(self.actors))
        bounds = np.linspace(0, len(texts), pieces + 1).astype(int)
        futures = [
            self.actors[i % len(self.actors)].encode.remote(list(texts[bounds[i] : bounds[i + 1]]))
            for i in range(pieces)
        ]
        try:
            parts = self._ray.get(futures)
        except Exception as error:  # noqa: BLE001 - a dead actor or node: one message
            raise EmbedderError(f"Ray embedding failed: {error}") from error
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)

    def close(self) -> None:
        """Stop the actors, and the local cluster when this embedder started it."""
        for actor in getattr(self, "actors", []):
            try:
                self._ray.kill(actor)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self.actors = []
        if self._started_cluster and self._ray.is_initialized():
            self._ray.shutdown()

    def __enter__(self) -> RayEmbedder:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def start_ray(address: str) -> tuple[Any, bool]:
    """(the ray module, connected; whether this call started a cluster): a new local cluster on
    127.0.0.1 for "auto", else the cluster at `address`; a process already connected stays so."""
    if address == "auto":
        os.environ[_LOOPBACK_ONLY] = "0"  # before ray is imported: see _LOOPBACK_ONLY
    try:
        import ray
    except ImportError:
        raise EmbedderError(f"--ray needs Ray: {INSTALL}") from None
    if ray.is_initialized():
        return ray, False
    try:
        if address == "auto":
            ray.init(
                address="local",
                num_cpus=config.RAY_LOCAL_CPUS,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                log_to_driver=False,
            )
            host = ray.get_runtime_context().gcs_address.rsplit(":", 1)[0]
            if host not in ("127.0.0.1", "localhost"):
                ray.shutdown()
                raise EmbedderError(
                    f"the local Ray cluster bound {host}, not 127.0.0.1 (ray was imported before --ray auto "
                    "could keep it on loopback); start one with "
                    "`ray start --head --node-ip-address 127.0.0.1` and pass its address"
                )
        else:
            ray.init(address=address, log_to_driver=False)
    except EmbedderError:
        raise
    except Exception as error:  # noqa: BLE001 - unreachable head, version mismatch: one line
        raise EmbedderError(
            f"cannot start or reach the Ray cluster {address!r}: {' '.join(str(error).split())}"
        ) from None
    return ray, address == "auto"
