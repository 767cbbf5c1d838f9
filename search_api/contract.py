"""The HTTP API's contract: modes, limits, request and response models, shared by every client.

The API, the CLI's `--json` and the page's client all use these models, so they cannot drift apart. This
module imports pydantic and the standard library only (never FastAPI, the indexer, FAISS or torch), so the
page can import it without pulling in the search stack.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator


class Mode(StrEnum):
    """How passages are found: meaning and words combined, meaning only, or words only (BM25)."""

    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"


MODES: tuple[str, ...] = tuple(mode.value for mode in Mode)
DEFAULT_MODE = Mode.HYBRID
DEFAULT_K = 5
MAX_K = 100
MAX_QUERY_CHARS = 2000
#: A query may carry this much white space around its 2,000 characters before it is refused unread.
MAX_RAW_QUERY_CHARS = 8000
MAX_FILTER_CHARS = 500
MAX_CONTEXT_WINDOW = 10
#: Metadata nested deeper than this is served as its JSON text, so every stored value can be answered.
MAX_METADATA_DEPTH = 32
API_KEY_HEADER = "X-API-Key"
MISSING_KEY = f"missing or wrong API key: send it in the {API_KEY_HEADER} header"


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
    """Trim a filter value; empty means no filter; refuse long values and control or surrogate characters."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > MAX_FILTER_CHARS or any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise ValueError(
            f"a filter is longer than {MAX_FILTER_CHARS} characters or has control characters: fix the filter value"
        )
    return value


def whole_number(value: Any) -> Any:
    """JSON has one number type: 5.0 is the integer 5 (JSON Schema agrees); 5.5, "5" and true are not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


DATE_FORMAT_HELP = "an ISO 8601 date or date-time such as 2026-03-01 or 2026-03-01T14:30:00Z"


class Sort(StrEnum):
    """The order of hits: best first, or the most relevant `k` newest first (undated last)."""

    RELEVANCE = "relevance"
    DATE = "date"


def clean_date(value: str | None) -> str | None:
    """Trim a `since`/`until` value and refuse what is not an ISO 8601 date or date-time; empty means none."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or len(value) < 10:
        raise ValueError(f"{value[:40]!r} is not a date: give {DATE_FORMAT_HELP}")
    return value


def date_order(since: str | None, until: str | None) -> None:
    """Refuse a `since` after `until` (compared in UTC; a time without a zone is UTC)."""
    if since is None or until is None:
        return
    low, high = (_utc(dt.datetime.fromisoformat(v)) for v in (since, until))
    if low > high and not (len(until) == 10 and low.date() == high.date()):
        raise ValueError(f"since ({since}) is after until ({until}): swap them or widen the range")


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


QueryText = Annotated[str, AfterValidator(clean_query)]
FilterText = Annotated[str | None, AfterValidator(clean_filter)]
DateText = Annotated[str | None, AfterValidator(clean_date)]
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
FILTER_SCHEMA: dict[str, Any] = {"maxLength": MAX_FILTER_CHARS, "pattern": r"^[^\x00-\x1f\x7f-\x9f]*$"}
QUERY_HELP = f"The question, 1 to {MAX_QUERY_CHARS:,} characters after trimming, without control characters."
K_HELP = f"How many passages to return, 1 to {MAX_K}."
MODE_HELP = "hybrid (dense + lexical), dense or lexical."
DOC_HELP = "Only passages of this document (an id from GET /facets)."
SPEAKER_HELP = "Only passages where this speaker is quoted (a name from GET /facets)."
ENTITY_HELP = "Only passages about this country or organisation (id or name)."
SINCE_HELP = f"Only documents published then or later: {DATE_FORMAT_HELP}. Undated documents are left out."
UNTIL_HELP = f"Only documents published then or earlier (a date includes its whole day): {DATE_FORMAT_HELP}."
SORT_HELP = "relevance (best first) or date (the k most relevant passages, newest first, undated last)."
#: What `clean_date` accepts, for the OpenAPI schema (documented only: a day the calendar lacks, such as
#: 2026-02-30, matches it and is refused with a message).
DATE_SCHEMA: dict[str, Any] = {
    "maxLength": 40,
    "pattern": r"^\s*(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)?)?)?\s*$",
}


class SearchRequest(BaseModel):
    """The body of POST /search."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    query: QueryText = Field(description=QUERY_HELP, json_schema_extra=QUERY_SCHEMA)
    k: WholeNumber = Field(DEFAULT_K, ge=1, le=MAX_K, description=K_HELP)
    mode: Annotated[Mode, Field(strict=False)] = Field(DEFAULT_MODE, description=MODE_HELP)
    doc_id: FilterText = Field(None, description=DOC_HELP, json_schema_extra=FILTER_SCHEMA)
    speaker: FilterText = Field(None, description=SPEAKER_HELP, json_schema_extra=FILTER_SCHEMA)
    entity: FilterText = Field(None, description=ENTITY_HELP, json_schema_extra=FILTER_SCHEMA)
    since: DateText = Field(None, max_length=40, description=SINCE_HELP, json_schema_extra=DATE_SCHEMA)
    until: DateText = Field(None, max_length=40, description=UNTIL_HELP, json_schema_extra=DATE_SCHEMA)
    sort: Annotated[Sort, Field(strict=False)] = Field(Sort.RELEVANCE, description=SORT_HELP)

    @model_validator(mode="after")
    def _dates_in_order(self) -> SearchRequest:
        date_order(self.since, self.until)
        return self


class SearchParams(BaseModel):
    """The query parameters of GET /search: the same limits as `SearchRequest`, with the question as `q`."""

    q: str = Field(max_length=MAX_RAW_QUERY_CHARS, description=QUERY_HELP, json_schema_extra=QUERY_SCHEMA)
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K, description=K_HELP)
    mode: Mode = Field(DEFAULT_MODE, description=MODE_HELP)
    doc_id: str | None = Field(None, max_length=MAX_FILTER_CHARS, description=DOC_HELP, json_schema_extra=FILTER_SCHEMA)
    speaker: str | None = Field(
        None, max_length=MAX_FILTER_CHARS, description=SPEAKER_HELP, json_schema_extra=FILTER_SCHEMA
    )
    entity: str | None = Field(
        None, max_length=MAX_FILTER_CHARS, description=ENTITY_HELP, json_schema_extra=FILTER_SCHEMA
    )
    since: str | None = Field(None, max_length=40, description=SINCE_HELP, json_schema_extra=DATE_SCHEMA)
    until: str | None = Field(None, max_length=40, description=UNTIL_HELP, json_schema_extra=DATE_SCHEMA)
    sort: Sort = Field(Sort.RELEVANCE, description=SORT_HELP)

    def to_request(self) -> SearchRequest:
        """The same search as a POST body (raises `pydantic.ValidationError` with the reason when invalid)."""
        return SearchRequest(
            query=self.q, k=self.k, mode=self.mode, doc_id=self.doc_id, speaker=self.speaker, entity=self.entity,
            since=self.since, until=self.until, sort=self.sort,
        )


class _Answer(BaseModel):
    """A response model: read-only once built, unknown fields from a newer server ignored."""

    model_config = ConfigDict(frozen=True)


class Span(_Answer):
    start: int
    end: int


class Speaker(_Answer):
    speaker: str
    title: str | None = None
    affiliations: list[str] = []
    affiliation_names: list[str] = []


class EntityRef(_Answer):
    id: str
    name: str


class Why(_Answer):
    """Why a hit was lifted: the asked party speaks in it, through this chain (speaker -> title -> party)."""

    speaker: str
    verb: str
    title: str | None = None
    path: list[str] = []


class SearchHit(_Answer):
    rank: int
    score: float
    passage_id: int
    doc_id: str
    title: str
    section: str | None = None
    text: str = Field(
        description="The passage with the neighbouring passages of its run (`passages`), paragraphs separated by a "
        "blank line; for a who-said-what hit, the passages of its document where the asked party speaks, then "
        "neighbours, so they need not be consecutive."
    )
    passages: list[int] = Field([], description="The ids of the passages `text` holds, in order; `passage_id` ranked.")
    start: int = Field(0, description="Offset of `text`'s first passage in its document's text.")
    end: int = Field(0, description="Offset of the end of `text`'s last passage in its document's text.")
    highlights: list[Span] = Field([], description="The answering sentence(s), as offsets within `text`.")
    speakers: list[Speaker] = []
    entities: list[EntityRef] = []
    why: Why | None = Field(None, description="Present when the hit was lifted because the asked party speaks.")
    page: int | None = Field(None, description="The 1-based page the passage starts on (PDFs), else null.")
    published: str | None = Field(None, description="The document's publication date (ISO 8601), when known.")


class SearchResponse(_Answer):
    query: str
    mode: Mode
    took_ms: float
    results: list[SearchHit]


class Health(_Answer):
    status: Literal["ok"] = "ok"
    documents: int
    passages: int
    building: bool


class Unavailable(_Answer):
    """/health when no index is loaded."""

    detail: str
    building: bool = False


class Stats(_Answer):
    documents: int
    passages: int
    model: str
    dimension: int
    built_at: str
    index_kind: str
    backend: str


class DocumentOut(_Answer):
    doc_id: str
    title: str
    text: str
    metadata: dict[str, Any] = Field(
        description=f"The document's metadata; values nested deeper than {MAX_METADATA_DEPTH} levels are given as "
        "their JSON text."
    )
    passages: int


class ContextPassage(_Answer):
    passage_id: int
    position: int
    section: str | None = None
    text: str
    start: int = 0
    end: int = 0
    is_hit: bool = False


class Context(_Answer):
    doc_id: str
    title: str
    passages: list[ContextPassage]


class DocumentRef(_Answer):
    doc_id: str
    title: str


class Facets(_Answer):
    documents: list[DocumentRef] = []
    speakers: list[str] = []
    entities: list[EntityRef] = []


class ReloadResult(_Answer):
    reloaded: bool
    build: str | None
    detail: str


MAX_DOCUMENT_ID_CHARS = 500
#: The files POST /documents reads (as a build does); the page offers these.
UPLOAD_SUFFIXES: tuple[str, ...] = (".pdf", ".html", ".htm", ".docx", ".txt", ".md", ".jsonl")


class DocumentIn(BaseModel):
    """The JSON body of POST /documents: one document to add (or replace, when its id exists)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: str = Field(min_length=1, max_length=MAX_DOCUMENT_ID_CHARS, description="The document's id.")
    title: str | None = Field(None, max_length=2000, description="Its title; default: its first heading, or id.")
    text: str = Field(min_length=1, description="The document's text.")
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Any JSON fields; `date` or `published` is read as its date."
    )


class IndexedDocument(_Answer):
    doc_id: str
    title: str
    passages: int


class SkippedFile(_Answer):
    source: str = Field(description="The file name (or file:line).")
    reason: str


class ChangeResult(_Answer):
    """What POST or DELETE /documents changed; the change is searchable when the answer arrives."""

    indexed: list[IndexedDocument] = []
    removed: list[str] = []
    skipped: list[SkippedFile] = Field([], description="Files that were not indexed, and why.")
    build: str | None = Field(None, description="The build published and now served; null when none was needed.")
    took_ms: float


class FieldError(_Answer):
    loc: list[str | int] = Field(description="Where the bad value is, e.g. ['body', 'k'].")
    msg: str = Field(description="What is wrong with it.")
    type: str


class Problem(_Answer):
    """Every error response: `detail` says what is wrong and what to do."""

    detail: str | list[FieldError]
