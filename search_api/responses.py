"""What the engine and the store return, turned into the contract's response models: one place each."""

from __future__ import annotations

import json
from typing import Any

from indexer.entities import EntityResolver
from indexer.store import StoredDocument, StoredPassage
from search_api import contract
from search_api.answers import run_text
from search_api.engine import Hit, SearchResult


def entity_name(resolver: EntityResolver, entity_id: str) -> str:
    """The display name of an entity id; an id the resolver no longer knows stands for itself."""
    try:
        return resolver.get(entity_id).name
    except KeyError:
        return entity_id


def search_hit(hit: Hit, resolver: EntityResolver) -> contract.SearchHit:
    """The one conversion of an engine hit into the API's hit, used by the API, the CLI and evaluation."""
    passage = hit.passage
    run = hit.run or (passage,)
    speakers: dict[tuple[str, str | None], contract.Speaker] = {}
    for statement in (s for member in run for s in member.parsed_statements):
        speakers[(statement.speaker, statement.title)] = contract.Speaker(
            speaker=statement.speaker,
            title=statement.title,
            affiliations=list(statement.affiliations),
            affiliation_names=[entity_name(resolver, a) for a in statement.affiliations],
        )
    entities = dict.fromkeys(e for member in run for e in member.entities)
    return contract.SearchHit(
        rank=hit.rank,
        score=hit.score,
        passage_id=passage.id,
        doc_id=passage.doc_id,
        title=passage.title,
        section=passage.section,
        text=run_text(run),
        passages=[member.id for member in run],
        start=run[0].start,
        end=run[-1].end,
        highlights=[contract.Span(start=s, end=e) for s, e in hit.highlights],
        speakers=list(speakers.values()),
        entities=[contract.EntityRef(id=e, name=entity_name(resolver, e)) for e in entities],
        why=_why(hit),
        page=run[0].page,
        published=passage.published,
    )


def _why(hit: Hit) -> contract.Why | None:
    # `reason` arrives with the statement-boost work; until then hits carry none.
    reason = getattr(hit, "reason", None)
    if reason is None:
        return None
    return contract.Why(speaker=reason.speaker, verb=reason.verb, title=reason.title, path=list(reason.path))


def search_response(result: SearchResult, resolver: EntityResolver) -> contract.SearchResponse:
    """A whole answer of the engine as the API's response."""
    return contract.SearchResponse(
        query=result.query,
        mode=result.mode,
        took_ms=result.took_ms,
        results=[search_hit(hit, resolver) for hit in result.hits],
    )


def document_out(document: StoredDocument) -> contract.DocumentOut:
    """A stored document as the API serves it; any stored metadata, however deep, can be answered."""
    return contract.DocumentOut(
        doc_id=document.doc_id,
        title=document.title,
        text=document.text,
        metadata={key: servable(value) for key, value in document.metadata.items()},
        passages=document.passages,
    )


def servable(value: Any, depth: int = 1) -> Any:
    """`value` with every part nested deeper than `MAX_METADATA_DEPTH` replaced by its JSON text.

    JSON serialisers refuse very deep nesting; the text keeps the value whole for a client that wants it.
    """
    if not isinstance(value, dict | list):
        return value
    if depth >= contract.MAX_METADATA_DEPTH:
        try:
            return json.dumps(value, ensure_ascii=False)
        except RecursionError:
            return "(nested too deeply to serve)"
    if isinstance(value, dict):
        return {key: servable(item, depth + 1) for key, item in value.items()}
    return [servable(item, depth + 1) for item in value]


def context_of(passages: list[StoredPassage], hit_id: int) -> contract.Context:
    """A passage and its neighbours, in document order, the hit marked."""
    return contract.Context(
        doc_id=passages[0].doc_id,
        title=passages[0].title,
        passages=[
            contract.ContextPassage(
                passage_id=p.id, position=p.position, section=p.section, text=p.text, start=p.start, end=p.end,
                is_hit=p.id == hit_id,
            )
            for p in passages
        ],
    )
