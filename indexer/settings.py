"""Every setting of seedsearch in one typed place, read from `SEEDSEARCH_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SearchMode = Literal["hybrid", "dense", "lexical"]


class Settings(BaseSettings):
    """Settings shared by the indexer, the API, the CLI and the page.

    Every field can be set with an environment variable named `SEEDSEARCH_<FIELD>`, for example
    `SEEDSEARCH_INDEX=/data/index` or `SEEDSEARCH_API_KEY=...`.
    """

    model_config = SettingsConfigDict(env_prefix="SEEDSEARCH_", extra="ignore")

    index: Path = Field(Path("index"), description="Index directory that builds publish into and servers load.")
    source: list[Path] = Field(default_factory=lambda: [Path("seeds")], description="Document sources to index.")
    model: str | None = Field(None, description="sentence-transformers name or path; default: the bundled MiniLM.")
    backend: str = Field(
        "auto", description="Encoding backend: auto, torch-fp32, torch-bf16, onnx, openvino, openvino-bf16."
    )
    device: str = Field("cpu", description="cpu or cuda.")
    cache_dir: Path = Field(Path.home() / ".cache" / "seedsearch", description="Exported encoder models.")

    passage_max_tokens: int = Field(128, ge=16, le=8192, description="Upper bound of a passage in model tokens.")
    passage_min_tokens: int = Field(
        0, ge=0, le=8192, description="Paragraphs shorter than this join their neighbours of the same section."
    )
    max_file_bytes: int = Field(20_000_000, ge=1, description="Larger source files are skipped.")
    index_kind: Literal["auto", "flat", "hnsw", "ivfpq"] = "auto"

    mode: SearchMode = "hybrid"
    candidates: int = Field(100, ge=10, le=2000, description="Candidates taken from each retriever before fusion.")
    fusion: Literal["rrf", "convex"] = "convex"
    dense_scores: Literal["cosine", "minmax"] = Field(
        "cosine", description="Dense scores in convex fusion: cosine as it is, or min-max normalised like BM25."
    )
    dense_weight: float = Field(0.7, ge=0.0, le=1.0, description="Weight of dense scores in convex fusion.")
    document_weight: float = Field(
        2.0, ge=0.0, le=10.0, description="Weight of a passage's whole document's BM25 beside its own."
    )
    rrf_k: int = Field(60, ge=1)
    statement_weight: float = Field(1.0, ge=0.0, description="Boost for passages where the asked party speaks.")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    api_key: str | None = Field(None, description="When set, every endpoint but /health needs X-API-Key.")
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(64_000, ge=1024)
    reload_interval_s: float = Field(1.0, gt=0, description="How often the server looks for a newer build.")
    api_url: str = "http://127.0.0.1:8000"
    ui_port: int = Field(8501, ge=1, le=65535)

    @field_validator("api_key")
    @classmethod
    def _empty_key_means_none(cls, value: str | None) -> str | None:
        return value or None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
