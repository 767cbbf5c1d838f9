"""Settings of building an index and of the encoder that both builds and searches use.

Every field can be set with an environment variable named `SEEDSEARCH_<FIELD>`, for example
`SEEDSEARCH_INDEX=/data/index`. Search, server and page settings live in the layers that read them
(`search_api.settings`, `ui.settings`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from indexer.documents import DEFAULT_MAX_FILE_BYTES

ENV_PREFIX = "SEEDSEARCH_"


class EncoderSettings(BaseSettings):
    """Which model encodes passages and questions, and how: read by builds and by servers."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    index: Path = Field(Path("index"), description="Index directory that builds publish into and servers load.")
    model: str | None = Field(None, description="sentence-transformers name or path; default: the bundled MiniLM.")
    backend: str = Field(
        "auto",
        description="Encoding backend: auto (measured on this CPU), torch-fp32, torch-bf16, onnx, openvino, "
        "openvino-bf16, openvino-int8 (passages only).",
    )
    device: str = Field("cpu", description="cpu, cuda or auto (cuda when torch sees a GPU).")
    threads: int | None = Field(None, ge=1, le=1024, description="Encoder threads (default: every usable core).")
    cache_dir: Path = Field(Path.home() / ".cache" / "seedsearch", description="Exported encoder models.")


class BuildSettings(EncoderSettings):
    """What `seedsearch build` reads: the sources and how they are cut into passages and indexed."""

    source: list[Path] = Field(default_factory=lambda: [Path("seeds")], description="Document sources to index.")
    passage_max_tokens: int = Field(128, ge=16, le=8192, description="Upper bound of a passage in model tokens.")
    passage_min_tokens: int = Field(
        0, ge=0, le=8192, description="Paragraphs shorter than this join their neighbours of the same section."
    )
    max_file_bytes: int = Field(DEFAULT_MAX_FILE_BYTES, ge=1, description="Larger source files are skipped.")
    index_kind: Literal["auto", "flat", "hnsw", "ivfpq"] = "auto"
    ray_address: str | None = Field(
        None, description="Build on a Ray cluster: HOST:PORT, ray://HOST:PORT, auto (this machine's) or local."
    )
    ray_connect_timeout_s: float = Field(15.0, gt=0, le=600, description="How long to try to reach the cluster.")
    ray_local_cpus: int | None = Field(None, ge=1, description="CPUs of a `local` cluster (default: all).")
    ray_object_store_mb: int = Field(256, ge=80, description="Object store of a `local` cluster, in MB.")
