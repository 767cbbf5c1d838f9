"""Request and response models of the HTTP API: limits live here, so bad input is a 422 that says why."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

MAX_QUERY_CHARS = 2000
MAX_K = 100


def clean_query(value: str) -> str:
    """Trim a query and refuse what no search can use: empty, too long, control or lone surrogate characters."""
    value = value.strip()
    if not value:
        raise ValueError("the query is empty: type a question, for example 'What did Poland say?'")
    if len(value) > MAX_QUERY_CHARS:
        raise ValueError(
            f"the query has {len(value)} characters after trimming; the limit is {MAX_QUERY_CHARS}: shorten it"
        )
    for position, char in enumerate(value):
        category = unicodedata.category(char)
        if category == "Cs":
            raise ValueError(f"the query has a lone surrogate character at position {position}: send valid UTF-8")
        if category == "Cc" and char not in "\t\n\r":
            raise ValueError(
                f"the query has the control character U+{ord(char):04X} at position {position}: remove it"
            )
    return value


def clean_filter(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > 500 or any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise ValueError("a filter is longer than 500 characters or has control characters: fix the filter value")
    return value


Query = Annotated[str, AfterValidator(clean_query)]
Filter = Annotated[str | None, AfterValidator(clean_filter)]
Mode = Literal["hybrid", "dense", "lexical"]


def whole_number(value: Any) -> Any:
    """JSON has one number type: 5.0 is the integer 5 (JSON Schema agrees); 5.5, "5" and true are not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(whole_number)]

_QUERY_CHAR = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
#: What `clean_query` accepts, for the OpenAPI schema (documented only: `clean_query` enforces it with messages
#: that say what is wrong): at least one character that is not a space, no control characters. (Lone
#: surrogates are refused too; regex engines such as Rust's cannot name them, and valid UTF-8 cannot hold them.)
QUERY_SCHEMA: dict[str, Any] = {
    "minLength": 1,
    "maxLength": MAX_QUERY_CHARS,
    "pattern": rf"^{_QUERY_CHAR}*[^\s\x00-\x1f\x7f-\x9f]{_QUERY_CHAR}*$",
}
#: What `clean_filter` accepts, for the OpenAPI schema.
FILTER_SCHEMA: dict[str, Any] = {"maxLength": 500, "pattern": r"^[^\x00-\x1f\x7f-\x9f]*$"}


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    query: Query = Field(
        description="The question, 1 to 2,000 characters after trimming, without control characters.",
        json_schema_extra=QUERY_SCHEMA,
    )
    k: WholeNumber = Field(5, ge=1, le=MAX_K, description="How many passages to return.")
    mode: Mode = Field("hybrid", description="hybrid (dense + lexical), dense or lexical.")
    doc_id: Filter = Field(None, description="Only passages of this document.", json_schema_extra=FILTER_SCHEMA)
    speaker: Filter = Field(
        None, description="Only passages where this speaker is quoted.", json_schema_extra=FILTER_SCHEMA
    )
    entity: Filter = Field(
        None,
        description="Only passages about this country or organisation (id or name).",
        json_schema_extra=FILTER_SCHEMA,
    )


class Span(BaseModel):
    start: int
    end: int


class Speaker(BaseModel):
    speaker: str
    title: str | None = None
    affiliations: list[str] = []
    affiliation_names: list[str] = []


class EntityRef(BaseModel):
    id: str
    name: str


class SearchHit(BaseModel):
    rank: int
    score: float
    passage_id: int
    doc_id: str
    title: str
    section: str | None
    text: str
    start: int = Field(description="Offset of the passage in its document's text.")
    end: int
    highlights: list[Span] = Field(description="The answering sentence(s), as offsets within `text`.")
    speakers: list[Speaker]
    entities: list[EntityRef]


class SearchResponse(BaseModel):
    query: str
    mode: Mode
    took_ms: float
    results: list[SearchHit]


class Health(BaseModel):
    status: Literal["ok"]
    documents: int
    passages: int
    building: bool


class Stats(BaseModel):
    documents: int
    passages: int
    model: str
    dimension: int
    built_at: str
    index_kind: str
    backend: str


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    text: str
    metadata: dict[str, Any]
    passages: int


class ContextPassage(BaseModel):
    passage_id: int
    position: int
    section: str | None
    text: str
    start: int
    end: int
    is_hit: bool


class Context(BaseModel):
    doc_id: str
    title: str
    passages: list[ContextPassage]


class DocumentRef(BaseModel):
    doc_id: str
    title: str


class Facets(BaseModel):
    documents: list[DocumentRef]
    speakers: list[str]
    entities: list[EntityRef]


class ReloadResult(BaseModel):
    reloaded: bool
    build: str | None
    detail: str


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where the bad value is, e.g. ['body', 'k'].")
    msg: str = Field(description="What is wrong with it.")
    type: str


class Problem(BaseModel):
    """Every error response: `detail` says what is wrong and what to do."""

    detail: str | list[FieldError]


class Unavailable(BaseModel):
    """/health when no index is loaded."""

    detail: str
    building: bool
