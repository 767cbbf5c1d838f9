"""Settings of the page, read from `SEEDSEARCH_*` environment variables."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class PageSettings(BaseSettings):
    """Where the page listens and which API it asks (with which key)."""

    model_config = SettingsConfigDict(env_prefix="SEEDSEARCH_", extra="ignore")

    api_url: str = Field("http://127.0.0.1:8000", description="Where the seedsearch API answers.")
    api_key: str | None = Field(None, description="Sent as X-API-Key when the API has a key set.")
    ui_port: int = Field(8501, ge=1, le=65535)

    @field_validator("api_url")
    @classmethod
    def _empty_url_means_default(cls, value: str) -> str:
        return value.strip().rstrip("/") or "http://127.0.0.1:8000"

    @field_validator("api_key")
    @classmethod
    def _empty_key_means_none(cls, value: str | None) -> str | None:
        return value or None
