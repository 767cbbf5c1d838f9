"""The passage stage of a build as a Ray Data pipeline: split and analyse in CPU tasks, embed in an actor pool.

The driver has already listed and hashed the documents, so only new and changed ones come here. Each document
is split and analysed by a task (`analyse_document`); each passage is embedded by an actor that loaded the
encoder once (`EmbedPassages`), with one GPU per actor when the cluster has GPUs. Rows stream back to the
driver, which numbers the passages in document order exactly as a local build does and writes the index.
"""

from __future__ import annotations

import _thread
import ctypes
import pickle
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from indexer.build import _analyse
from indexer.database import PassageRow
from indexer.distributed.cluster import RayBuildError
from indexer.documents import Document
from indexer.embedding import Embedder, FakeEmbedder, load_embedder, token_counter
from indexer.entities import EntityResolver
from indexer.passages import split_document
from indexer.stage import ReusableVectors, StageInput, embedding_text, text_key

# Encoder actors hold the cluster's CPUs (one thread each); analysis tasks ask for almost none, so an actor pool
# that fills the cluster never starves them: their number is capped instead.
ANALYSIS_CPUS = 0.01
ENCODER_CPUS = 1.0 - ANALYSIS_CPUS  # a node of one CPU holds an actor and an analysis task
ANALYSIS_MEMORY = 256 * 2**20  # a worker splitting and analysing holds ~145 MiB (the entity tables included)
EMBED_BATCH = 256  # passages per actor call; the encoder batches them by length inside
STALL_S = 300.0  # no rows back for this long: the build stops with one line rather than hang


@dataclass(frozen=True)
class EncoderSpec:
    """How an actor loads the same encoder as the driver: its model, backend and device, never the weights."""

    model: str | None
    backend: str
    device: str = "cpu"
    cache_dir: Path | None = None
    fake_dimension: int = 0  # > 0: the model-free FakeEmbedder (tests)

    @classmethod
    def of(cls, embedder: Embedder, model: str | None, device: str, cache_dir: Path | None) -> EncoderSpec:
        """The spec that reloads `embedder`: the passage backend it resolved to, not "auto", so actors agree.

        `device` is the one asked for ("auto" included): actors on GPU nodes encode there even when the driver
        has no GPU.
        """
        if isinstance(embedder, FakeEmbedder):
            return cls(None, "fake", fake_dimension=embedder.dimension)
        return cls(model, embedder.backend, device, cache_dir)

    def load(self, threads: int) -> Embedder:
        if self.fake_dimension:
            return FakeEmbedder(dimension=self.fake_dimension)
        return load_embedder(self.model, backend=self.backend, device=self.device, cache_dir=self.cache_dir,
                             threads=threads)


def analyse_row(
    row: dict[str, Any],
    *,
    count_tokens: Callable[[Sequence[str]], list[int]],
    settings: dict[str, Any],
    reusable: dict[bytes, int],
) -> list[dict[str, Any]]:
    """One document -> one row per passage: where it goes, what analysis found, and its text unless reused."""
    doc: Document = pickle.loads(row["document"])
    resolver = EntityResolver.default()  # built once per worker process
    passages = split_document(doc, count_tokens, settings["max_tokens"], settings["min_tokens"])
    out = []
    # the same analysis as a local build; the driver numbers the passages once every document is back
    for analysed, passage in zip(_analyse(doc, passages, resolver, 0), passages, strict=True):
        text = embedding_text(doc.title, doc.doc_id, passage.text, settings["embed_title"])
        reuse_row = reusable.get(text_key(text), -1)
        out.append({
            "position": row["position"],
            "offset": passage.position,
            "row": pickle.dumps(analysed),
            "text": text if reuse_row < 0 else "",
            "reuse_row": reuse_row,
        })
    return out


class EmbedPassages:
    """A Ray Data actor: loads the encoder once, then embeds every batch of passages given to it."""

    def __init__(self, spec: EncoderSpec, threads: int) -> None:
        self._embedder = spec.load(threads)

    def __call__(self, batch: dict[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
        reuse_rows = np.asarray(batch["reuse_row"], dtype=np.int64)
        vectors = np.zeros((len(reuse_rows), self._embedder.dimension), dtype=np.float32)
        todo = np.flatnonzero(reuse_rows < 0)
        if todo.size:
            vectors[todo] = self._embedder.encode_passages([str(batch["text"][i]) for i in todo])
        return {"position": batch["position"], "offset": batch["offset"], "row": batch["row"],
                "reuse_row": reuse_rows, "vector": vectors}


@dataclass(frozen=True)
class RayPassages:
    """A `PassageStage` on the Ray cluster this process is connected to (see `indexer.distributed.ray_cluster`)."""

    spec: EncoderSpec
    actors: int | None = None  # default: one per GPU, else one per ENCODER_CPUS of the cluster's CPUs
    stall_s: float = STALL_S

    def __call__(self, job: StageInput) -> tuple[list[PassageRow], npt.NDArray[np.float32], int]:
        import ray

        tick = time.perf_counter()
        if not job.documents:
            return [], np.zeros((0, job.embedder.dimension), dtype=np.float32), 0
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = job.progress
        context.issue_detectors_config.detectors = []  # advice printed every 30 s; the build says what matters
        dataset = self._dataset(ray, job.documents, job.embedder, job.settings, job.reuse.rows)
        with Watchdog(self.stall_s) as watchdog:
            try:
                batches = []
                for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                    batches.append(batch)
                    watchdog.progress()
            except KeyboardInterrupt:
                if not watchdog.fired:
                    raise
                raise RayBuildError(
                    f"the Ray cluster returned nothing for {self.stall_s:g} s (nodes lost, or too few CPUs for the "
                    "encoder actors); nothing was published"
                ) from None
            except Exception as err:  # a task or actor failed beyond Ray's retries, or the cluster went away
                first = (str(err).strip().splitlines() or [""])[0][:300]
                raise RayBuildError(f"the distributed build failed ({type(err).__name__}: {first}); "
                                    "nothing was published") from None
        rows, vectors, reused = _assemble(batches, job.first_id, job.reuse, job.embedder.dimension)
        job.timings["distributed"] = time.perf_counter() - tick
        return rows, vectors, reused

    def _dataset(self, ray: Any, documents: Sequence[Document], embedder: Embedder, settings: dict[str, Any],
                 reusable: dict[bytes, int]) -> Any:
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        cpus = float(resources.get("CPU", 1))
        # GPUs when the cluster has them and the build allows them (--device auto or cuda): fp16 passages there
        use_gpu = gpus > 0 and self.spec.device != "cpu" and not self.spec.fake_dimension
        spec = replace(self.spec, device="cuda", backend="auto") if use_gpu else self.spec
        actors = self.actors or (gpus if use_gpu else max(1, int(cpus // ENCODER_CPUS)))
        items = [{"position": i, "document": pickle.dumps(doc)} for i, doc in enumerate(documents)]
        blocks = max(1, min(len(items), int(cpus) * 4, 200))
        analysed = ray.data.from_items(items, override_num_blocks=blocks).flat_map(
            analyse_row,
            fn_kwargs={"count_tokens": token_counter(embedder), "settings": settings, "reusable": reusable},
            num_cpus=ANALYSIS_CPUS,
            memory=ANALYSIS_MEMORY,
            compute=ray.data.TaskPoolStrategy(size=max(1, int(cpus))),
        )
        return analysed.map_batches(
            EmbedPassages,
            fn_constructor_kwargs={"spec": spec, "threads": 1},
            batch_size=EMBED_BATCH,
            batch_format="numpy",
            # the pool may shrink to one actor, so one lost with its node is not waited for
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=actors),
            num_cpus=0 if use_gpu else ENCODER_CPUS,
            num_gpus=1 if use_gpu else 0,
        )


class Watchdog:
    """Interrupts the main thread when `progress` was not called for `stall_s` seconds (then `fired` is True)."""

    def __init__(self, stall_s: float) -> None:
        self.stall_s = stall_s
        self.fired = False
        self._last = time.monotonic()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="ray-build-watchdog", daemon=True)

    def progress(self) -> None:
        self._last = time.monotonic()

    def _watch(self) -> None:
        while not self._done.wait(min(5.0, self.stall_s / 4)):
            if time.monotonic() - self._last > self.stall_s:
                self.fired = True
                _interrupt_main_thread()
                return

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=10)


def _interrupt_main_thread() -> None:
    """Raise KeyboardInterrupt in the main thread, even where SIGINT is ignored (`nohup`, a background job)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        _thread.interrupt_main()  # also wakes a blocking system call
        return
    main = threading.main_thread().ident
    if main is not None:  # delivered at the main thread's next Python step: Ray's iterator waits in short steps
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(main), ctypes.py_object(KeyboardInterrupt))


def _assemble(
    batches: Sequence[dict[str, npt.NDArray[Any]]], first_id: int, reuse: ReusableVectors, dimension: int
) -> tuple[list[PassageRow], npt.NDArray[np.float32], int]:
    """Rows in document order, numbered from `first_id` as a local build numbers them, with their vectors."""
    if not batches:
        return [], np.zeros((0, dimension), dtype=np.float32), 0
    position = np.concatenate([b["position"] for b in batches]).astype(np.int64)
    offset = np.concatenate([b["offset"] for b in batches]).astype(np.int64)
    reuse_row = np.concatenate([b["reuse_row"] for b in batches]).astype(np.int64)
    vectors = np.concatenate([b["vector"] for b in batches]).astype(np.float32, copy=False)
    payload = np.concatenate([b["row"] for b in batches])
    order = np.lexsort((offset, position))
    found = reuse_row[order] >= 0
    vectors = vectors[order]
    if found.any():
        vectors[found] = reuse.vectors[reuse_row[order][found]]
    rows = [replace(pickle.loads(payload[i]), id=first_id + n) for n, i in enumerate(order)]
    return rows, np.ascontiguousarray(vectors), int(found.sum())
