"""Settings of searching and of serving, read from `SEEDSEARCH_*` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from indexer.settings import ENV_PREFIX
from search_api.fusion import SearchOptions

_DEFAULTS = SearchOptions()


class SearchSettings(BaseSettings):
    """How candidates are found and fused (`SearchOptions` holds the defaults; these only bound them)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    candidates: int = Field(
        _DEFAULTS.candidates, ge=10, le=2000, description="Candidates taken from each retriever before fusion."
    )
    fusion: Literal["rrf", "convex"] = _DEFAULTS.fusion
    dense_scores: Literal["cosine", "minmax"] = Field(
        _DEFAULTS.dense_scores,
        description="Dense scores in convex fusion: cosine as it is, or min-max normalised like BM25.",
    )
    dense_weight: float = Field(
        _DEFAULTS.dense_weight, ge=0.0, le=1.0, description="Weight of dense scores in convex fusion."
    )
    document_weight: float = Field(
        _DEFAULTS.document_weight, ge=0.0, le=10.0, description="Weight of a passage's whole document's BM25."
    )
    sentence_weight: float = Field(
        _DEFAULTS.sentence_weight,
        ge=0.0,
        le=10.0,
        description="Weight of a passage's best sentence beside its whole passage in its dense score (0: off).",
    )
    rrf_k: int = Field(_DEFAULTS.rrf_k, ge=1)
    statement_weight: float = Field(
        _DEFAULTS.statement_weight, ge=0.0, description="Boost for passages where the asked party speaks."
    )
    answer_chars: int = Field(
        _DEFAULTS.answer_chars,
        ge=0,
        le=5000,
        description="A hit shows its passage with the neighbouring passages of its run, up to this many "
        "characters in all (about 150 words, under the 1,000 characters past which a text is a document rather "
        "than an answer); 0: the passage alone.",
    )


class ServerSettings(BaseSettings):
    """What `seedsearch serve` reads: where to listen, the key, CORS, body limit, how often to look for builds."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    api_key: str | None = Field(None, description="When set, every endpoint but /health needs X-API-Key.")
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(64_000, ge=1024)
    max_upload_bytes: int = Field(
        50 * 1024 * 1024, ge=1024, description="Body limit of POST /documents (file uploads), apart from the rest."
    )
    change_wait_s: float = Field(
        120.0, ge=0, description="How long an added or removed document waits for a running build before a 503."
    )
    reload_interval_s: float = Field(1.0, gt=0, description="How often the server looks for a newer build.")
    workers: int = Field(1, ge=1, le=64, description="Server processes sharing the port and the memory-mapped index.")

    @field_validator("api_key")
    @classmethod
    def _empty_key_means_none(cls, value: str | None) -> str | None:
        return value or None
