"""The manifest: what a build is, enough to refuse loading it with the wrong model and to rebuild it incrementally.

A strict, frozen pydantic model read with `model_validate_json`: a manifest with a missing field, a wrong type
or counts that disagree with each other is refused on load, so a loaded index never meets a wrong type later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from indexer.index_dir import MANIFEST, IndexCorruptError, IndexMismatchError

#: 3: the lexical index moved from SQLite FTS5 to `lexical/` (BM25 matrices). 4: sentence vectors
#: (`indexer.sentence_vectors`).
FORMAT_VERSION = 4
#: Older formats whose vectors and database a build can still reuse (it re-analyses every document).
REUSABLE_FORMATS = (2, 3, 4)
#: Formats a server can search: a format-3 build has no sentence vectors and is searched without them until
#: the next `seedsearch build` adds them.
SERVABLE_FORMATS = (3, 4)


class VectorIndexInfo(BaseModel):
    """What was built, for the manifest (strict and frozen: a manifest with a wrong type is refused on load).

    Attributes:
        kind: Resolved kind: "flat", "hnsw" or "ivfpq".
        factory: The ``faiss.index_factory`` string used (IDMap layer included).
        count: Number of vectors indexed.
        dimension: Vector dimension.
        recall_at_10: Recall@10 against exact search measured at build time on held-out indexed vectors
            (None for flat: exact).
        search_params: Search parameters applied by :class:`VectorSearcher`, e.g. ``{"efSearch": 64}`` or
            ``{"nprobe": 16, "rerank": 100}``.
    """

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    kind: Literal["flat", "hnsw", "ivfpq"]
    factory: str
    count: int = Field(ge=0)
    dimension: int = Field(gt=0)
    recall_at_10: float | None = None
    search_params: dict[str, int] = Field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for a manifest."""
        return self.model_dump()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VectorIndexInfo:
        """Read the form written by :meth:`to_dict`, refusing unknown kinds and wrong types."""
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise ValueError(f"Unknown vector index kind or bad vector index info in manifest: {err}") from err


class Manifest(BaseModel):
    """What a build is: model, counts, settings, checksum of the sources and the vector index built."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")

    model_id: str
    dimension: int = Field(gt=0)
    documents: int = Field(ge=0)
    passages: int = Field(ge=0)
    built_at: str
    sources_checksum: str
    passage_settings: dict[str, Any]
    vector_index: VectorIndexInfo
    backend: str = ""
    normalized: bool = True
    metric: str = "inner_product"
    build_seconds: float = 0.0
    skipped: int = 0
    format_version: int = FORMAT_VERSION
    analysis_version: int = 0
    lexical_version: int = 0
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _vectors_match_counts(self) -> Manifest:
        info = self.vector_index
        if info.count != self.passages or info.dimension != self.dimension:
            raise ValueError(
                f"vector_index holds {info.count} x {info.dimension} but the manifest says "
                f"{self.passages} x {self.dimension}"
            )
        return self

    def to_json(self) -> str:
        """The manifest as written to `manifest.json`."""
        return self.model_dump_json(indent=2)

    @classmethod
    def read(cls, build_dir: Path, formats: tuple[int, ...] = SERVABLE_FORMATS) -> Manifest:
        """The manifest of `build_dir`, refusing a missing or damaged one, or one of another format than
        `formats`, with what to do."""
        path = build_dir / MANIFEST
        try:
            raw = path.read_bytes()
        except FileNotFoundError as err:
            raise IndexCorruptError(f"{path} is missing: rebuild the index with `seedsearch build`.") from err
        except OSError as err:
            raise IndexCorruptError(f"{path} cannot be read ({err}): rebuild with `seedsearch build`.") from err
        try:
            version = _Version.model_validate_json(raw).format_version
        except ValidationError as err:
            raise IndexCorruptError(
                f"{path} is not a JSON manifest object ({err.errors()[0]['msg']}): rebuild with `seedsearch build`."
            ) from err
        if version not in formats:
            raise IndexCorruptError(
                f"{path} has format version {version!r}, this seedsearch reads {FORMAT_VERSION}: "
                "rebuild with `seedsearch build --full`."
            )
        try:
            return cls.model_validate_json(raw)
        except ValidationError as err:
            problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()[:3])
            raise IndexCorruptError(
                f"{path} was edited or damaged ({problem}): rebuild with `seedsearch build --full`."
            ) from err

    def check_model(self, model_id: str, dimension: int) -> None:
        """Refuse a build made with another model, naming both."""
        if self.model_id != model_id or self.dimension != dimension:
            raise IndexMismatchError(
                f"the index was built with model {self.model_id!r} ({self.dimension} dimensions) but the "
                f"search uses {model_id!r} ({dimension} dimensions): rebuild with `seedsearch build --full "
                f"--model {model_id}` or search with `--model {self.model_id}`."
            )


class _Version(BaseModel):
    model_config = ConfigDict(extra="ignore")

    format_version: Any = None

