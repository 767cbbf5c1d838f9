"""Trace a sentence-transformers model into an ONNX graph, holding as little memory as the model allows (torch).

Run only inside the export's graph child (``python -m indexer.embedding_export graph ...``). A *plain* stack
(a Transformer at the model's root, Pooling by CLS token, mean or max, an optional Normalize: most
sentence-transformers models, the bundled one among them) is rebuilt from transformers alone, so the child never
imports sentence-transformers and the scikit-learn, SciPy and pandas it brings (~250 MB of the child's peak). Any
other stack is traced through sentence-transformers itself. Either way the graph is exported without its weights
and the weights are then streamed, tensor by tensor, into ``model.onnx.data``: the ONNX serialiser otherwise holds
two more copies of them. Whether the rebuilt stack computes what sentence-transformers computes is not assumed: the
export's last step measures the graph against vectors sentence-transformers made (``reference.json``).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from indexer.embedding_runners import load_sentence_transformer

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
TRACE_TEXTS = ["An example passage for tracing the graph.", "short"]
_POOLING_KEYS = {"cls": "pooling_mode_cls_token", "mean": "pooling_mode_mean_tokens", "max": "pooling_mode_max_tokens"}
_OTHER_POOLING_KEYS = (
    "pooling_mode_mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens",
    "pooling_mode_lasttoken",
)


def plain_stack(model_folder: Path) -> tuple[str, int] | None:
    """(pooling mode, max_seq_length) when the folder holds a plain stack that transformers alone can rebuild."""
    try:
        modules = json.loads((model_folder / "modules.json").read_text(encoding="utf-8"))
        kinds = [str(m["type"]).rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]) or modules[0]["path"]:
            return None
        transformer = json.loads((model_folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        pooling = json.loads((model_folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    if set(transformer) - {"max_seq_length", "do_lower_case"} or transformer.get("do_lower_case"):
        return None
    modes = [mode for mode, key in _POOLING_KEYS.items() if pooling.get(key)]
    known = {"word_embedding_dimension", "include_prompt", *_POOLING_KEYS.values(), *_OTHER_POOLING_KEYS}
    if len(modes) != 1 or any(pooling.get(k) for k in _OTHER_POOLING_KEYS) or set(pooling) - known:
        return None
    if pooling.get("include_prompt", True) is not True or not isinstance(transformer.get("max_seq_length"), int):
        return None
    return modes[0], int(transformer["max_seq_length"])


def export_graph(model_folder: Path, target: Path) -> None:
    """Write ``target`` (the graph) and ``target.data`` (its weights) for the model in `model_folder`."""
    import torch

    stack = plain_stack(model_folder)
    module, names, sample, transformer = (
        _plain_traceable(model_folder, *stack) if stack else _st_traceable(str(model_folder))
    )
    previous = getattr(getattr(transformer, "config", None), "_attn_implementation", None)
    switch = previous not in (None, "eager")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        if switch:
            try:
                transformer.set_attn_implementation("eager")  # eager attention traces cleanly
            except Exception:  # older transformers or no eager kernel: trace the current attention instead
                switch = False
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                sample,
                str(tmp),
                dynamo=False,
                export_params=False,  # weights follow, streamed: see _attach_weights
                do_constant_folding=False,
                opset_version=17,
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes={**{k: {0: "batch", 1: "sequence"} for k in names}, "sentence_embedding": {0: "batch"}},
            )
        _attach_weights(tmp, module, target)
    finally:
        tmp.unlink(missing_ok=True)
        if switch:
            transformer.set_attn_implementation(previous)


def _attach_weights(graph_path: Path, module: Any, target: Path) -> None:
    """Turn the weight inputs of a graph exported without parameters into initializers kept in ``target.data``."""
    import numpy as np
    import onnx

    proto = onnx.load(str(graph_path))
    tensors = {**dict(module.named_parameters()), **dict(module.named_buffers())}
    data_name = f"{target.name}.data"
    data_tmp = target.with_name(f".{data_name}.{os.getpid()}.tmp")
    graph_tmp = target.with_name(f".{target.name}.{os.getpid()}.graph.tmp")
    weights = [i for i in proto.graph.input if i.name in tensors]
    try:
        with data_tmp.open("wb") as data:
            for weight in weights:
                array = np.ascontiguousarray(tensors[weight.name].detach().cpu().numpy())
                tensor = onnx.TensorProto(name=weight.name, dims=array.shape)
                tensor.data_type = onnx.helper.np_dtype_to_tensor_dtype(array.dtype)
                tensor.data_location = onnx.TensorProto.EXTERNAL
                for key, value in (("location", data_name), ("offset", data.tell()), ("length", array.nbytes)):
                    entry = tensor.external_data.add()
                    entry.key, entry.value = key, str(value)
                data.write(array.tobytes())
                proto.graph.initializer.append(tensor)
        kept = [i for i in proto.graph.input if i.name not in tensors]
        del proto.graph.input[:]
        proto.graph.input.extend(kept)
        onnx.save_model(proto, str(graph_tmp))
        os.replace(data_tmp, target.with_name(data_name))
        os.replace(graph_tmp, target)
    finally:
        data_tmp.unlink(missing_ok=True)
        graph_tmp.unlink(missing_ok=True)


def _plain_traceable(model_folder: Path, mode: str, max_length: int) -> tuple[Any, list[str], tuple[Any, ...], Any]:
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    transformer = AutoModel.from_pretrained(str(model_folder), local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_folder), local_files_only=True)
    sample = tokenizer(TRACE_TEXTS, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    names = [k for k in INPUT_NAMES if k in sample]

    def pooled(inputs: dict[str, Any]) -> Any:
        tokens = transformer(**inputs).last_hidden_state
        mask = inputs["attention_mask"].unsqueeze(-1).to(tokens.dtype)
        if mode == "cls":
            return tokens[:, 0]
        if mode == "max":
            return torch.where(mask > 0, tokens, torch.full_like(tokens, -1e9)).max(dim=1).values
        return (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)

    graph = _graph(transformer, names, pooled)
    return graph, names, tuple(sample[k] for k in names), transformer


def _st_traceable(model_folder: str) -> tuple[Any, list[str], tuple[Any, ...], Any]:
    model = load_sentence_transformer(model_folder, "cpu")
    sample = model.preprocess(TRACE_TEXTS)
    names = [k for k in INPUT_NAMES if k in sample]
    graph = _graph(model, names, lambda inputs: model.forward(inputs)["sentence_embedding"])
    transformer = model[0].auto_model if hasattr(model[0], "auto_model") else None
    return graph, names, tuple(sample[k] for k in names), transformer


def _graph(inner: Any, names: list[str], embed: Any) -> Any:
    """`inner` (whose parameters the graph's weights are named after) as a module with positional tensors in and
    `embed`'s vectors, L2-normalised, out."""
    import torch

    class _Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.normalize(embed(dict(zip(names, tensors, strict=True))), p=2.0, dim=-1)

    return _Graph().eval()
