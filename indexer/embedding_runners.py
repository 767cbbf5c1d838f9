"""Runners: each turns a list of texts into L2-normalised float32 vectors with one engine.

torch (the sentence-transformers module stack, fp32 or bf16 autocast), onnxruntime and OpenVINO (both over the
exported graph). The graph runners import neither torch nor transformers: with a tokenizer read from
``tokenizer.json`` they run in a process that never loads torch.

Also what both the embedder and the exporter need (here, so neither imports the other): the backends whose
runtimes are installed, the usable CPU cores, and loading the sentence-transformers model offline.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
BACKENDS = ("auto", "torch-fp32", "torch-bf16", "torch-fp16", "onnx", "openvino", "openvino-bf16", "openvino-int8")
BACKEND_RUNTIMES = {
    "onnx": "onnxruntime, onnx",
    "openvino": "openvino, onnx",
    "openvino-bf16": "openvino, onnx",
    "openvino-int8": "openvino, onnx, nncf",
}


def available_backends() -> list[str]:
    """Backends whose runtimes are installed here, "auto" first (onnx export also needs the onnx package)."""
    import importlib.util

    def installed(modules: str) -> bool:
        return all(importlib.util.find_spec(m.strip()) is not None for m in modules.split(","))

    return [b for b in BACKENDS if b not in BACKEND_RUNTIMES or installed(BACKEND_RUNTIMES[b])]


class EmbedderError(RuntimeError):
    """The model or backend cannot be loaded; the message says what was tried and what to do."""


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


def run_child(module: str, arguments: list[str], failure: str) -> None:
    """Run ``python -m module arguments`` offline; a failure raises `failure` with the child's last line."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", module, *arguments], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        raise EmbedderError(f"{failure}: {lines[-1]}")


def child_main(work: Callable[[], object]) -> int:
    """A child process's exit status: 0, or 1 with one line for the parent's error message on stderr."""
    try:
        work()
    except Exception as err:
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


def load_sentence_transformer(name: str, device: str) -> Any:
    """The sentence-transformers model `name` (a folder or a cached hub name), offline, in eval mode."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
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


class Runner(Protocol):
    @property
    def name(self) -> str: ...

    def __call__(self, texts: list[str]) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    normalised: np.ndarray = vectors / np.maximum(norms, 1e-12)
    return normalised


class LazyRunner:
    """A runner started on first use, so a process that never embeds passages never pays for their engine.

    Its backend can be decided then too: `name` may be a function (auto measures the passage backend lazily).
    """

    def __init__(self, name: str | Callable[[], str], start: Callable[[str], Runner]) -> None:
        self._name: str | None = None
        self._decide: Callable[[], str] = name if callable(name) else (lambda: name)
        self._start = start
        self._runner: Runner | None = None

    @property
    def name(self) -> str:
        if self._name is None:
            self._name = self._decide()
        return self._name

    def __call__(self, texts: list[str]) -> np.ndarray:
        if self._runner is None:
            self._runner = self._start(self.name)
        return self._runner(texts)


class TorchRunner:
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
        return normalise(out.float().cpu().numpy())


def copy_tokenizer(hf_tokenizer: Any, max_length: int | None = None) -> Any:
    """A private copy of a transformers fast tokenizer; truncating and padding only when `max_length` is given."""
    pad_id = hf_tokenizer.pad_token_id if hf_tokenizer.pad_token_id is not None else 0
    return tokenizer_from_json(
        hf_tokenizer.backend_tokenizer.to_str(), max_length, pad_id, hf_tokenizer.pad_token or "[PAD]"
    )


def tokenizer_from_json(json_text: str, max_length: int | None, pad_id: int = 0, pad_token: str = "[PAD]") -> Any:
    """A `tokenizers.Tokenizer` from its JSON; truncating to `max_length` and padding only when it is given."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(json_text)
    tok.no_truncation()
    tok.no_padding()
    if max_length is not None:
        tok.enable_truncation(max_length=max_length)
        tok.enable_padding(pad_id=pad_id, pad_token=pad_token)
    return tok


class GraphInputs:
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


class OnnxRunner:
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
        # no arena: it keeps the peak of the largest batch ever run for the life of the process
        options.enable_cpu_mem_arena = False
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = GraphInputs(tokenizer, [i.name for i in self._session.get_inputs()])

    def __call__(self, texts: list[str]) -> np.ndarray:
        return normalise(self._session.run(None, self._inputs(texts))[0])


class OpenVinoRunner:
    """The exported ONNX graph compiled by OpenVINO for this CPU."""

    def __init__(self, path: Path, tokenizer: Any, threads: int, *, bf16: bool) -> None:
        import openvino as ov

        config = {
            "INFERENCE_NUM_THREADS": threads,
            "INFERENCE_PRECISION_HINT": "bf16" if bf16 else "f32",
            "PERFORMANCE_HINT": "LATENCY",
            # OpenVINO pins its threads to the first cores: two single-thread encoders (Ray actors, server
            # workers) then share core 0 and each runs at half speed. Pin only a process that uses every core.
            "ENABLE_CPU_PINNING": threads >= len(os.sched_getaffinity(0)),
        }
        compiled = ov.Core().compile_model(str(path), "CPU", config)
        self._request = compiled.create_infer_request()
        self.inputs = GraphInputs(tokenizer, [i.get_any_name() for i in compiled.inputs])
        self.name = "openvino-bf16" if bf16 else "openvino"

    def __call__(self, texts: list[str]) -> np.ndarray:
        return normalise(self._request.infer(self.inputs(texts))[0])


def graph_runner(name: str, plain: Path, fused: Path, tokenizer: Any, threads: int) -> Runner:
    """Start graph backend `name` ("onnx", "openvino", "openvino-bf16") over the exported graphs."""
    try:
        if name == "onnx":
            return OnnxRunner(fused, tokenizer, threads)
        return OpenVinoRunner(plain, tokenizer, threads, bf16=name == "openvino-bf16")
    except Exception as err:
        raise EmbedderError(
            f"cannot start backend {name!r} from {plain.parent} ({type(err).__name__}: {err}); "
            "delete that folder to export again, or use backend='torch-fp32'"
        ) from err
