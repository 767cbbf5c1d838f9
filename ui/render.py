"""Pure functions that turn API results into safe HTML for the page.

Document text is always text. Every piece of it goes through :func:`escape_text`, which HTML-escapes it and
also neutralises the characters Streamlit's Markdown would act on (``*`` ``_`` ``[`` ``$`` ``:`` ...), and
keeps the output on one line so the Markdown parser treats the whole card as one raw-HTML block.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from search_api.contract import Context, ContextPassage, EntityRef, SearchHit, Span, Speaker, Why

MAX_ENTITY_CHIPS = 6

# Characters that Markdown (or Streamlit's extensions: emoji/colour ``:...:``, LaTeX ``$``) would interpret.
_MARKDOWN_ENTITIES = str.maketrans(
    {
        "*": "&#42;",
        "_": "&#95;",
        "`": "&#96;",
        "[": "&#91;",
        "]": "&#93;",
        "$": "&#36;",
        ":": "&#58;",
        "~": "&#126;",
        "\\": "&#92;",
        "|": "&#124;",
        "\r": "",
        "\n": "<br>",
    }
)


def escape_text(text: str) -> str:
    """Escape document text so it shows literally inside ``st.markdown(..., unsafe_allow_html=True)``."""
    return html.escape(text, quote=True).translate(_MARKDOWN_ENTITIES)


def merge_spans(highlights: Iterable[Span], length: int) -> list[tuple[int, int]]:
    """Clip spans to ``[0, length]``, drop empty ones and merge overlapping or touching ones, in order."""
    spans = sorted((max(0, h.start), min(length, h.end)) for h in highlights if min(length, h.end) > max(0, h.start))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def highlight_html(text: str, highlights: Sequence[Span]) -> str:
    """The passage as escaped HTML with each highlighted span wrapped in ``<mark>``.

    Args:
        text: Passage text exactly as the API returned it.
        highlights: Character offsets within ``text``; out-of-range or overlapping spans are tolerated.

    Returns:
        One line of HTML in which every piece of ``text`` is escaped.
    """
    parts: list[str] = []
    cursor = 0
    for start, end in merge_spans(highlights, len(text)):
        parts.append(escape_text(text[cursor:start]))
        parts.append(f"<mark>{escape_text(text[start:end])}</mark>")
        cursor = end
    parts.append(escape_text(text[cursor:]))
    return "".join(parts)


def score_fraction(score: float, top_score: float) -> float:
    """Score relative to the best score of the list, in ``[0, 1]`` (scores differ in scale per mode)."""
    if top_score <= 0:
        return 1.0 if score >= top_score else 0.0
    return max(0.0, min(1.0, score / top_score))


def speaker_label(speaker: Speaker) -> str:
    """``Donald Tusk · Polish Prime Minister`` (plain text, not escaped); a title the name holds is not repeated."""
    title = speaker.title
    if not title or title.casefold() in speaker.speaker.casefold():
        return speaker.speaker
    return f"{speaker.speaker} · {title}"


def _chip(label: str, kind: str, tooltip: str = "") -> str:
    title = f' title="{escape_text(tooltip)}"' if tooltip else ""
    return f'<span class="ss-chip ss-chip-{kind}"{title}>{escape_text(label)}</span>'


def chips_html(
    speakers: Sequence[Speaker], entities: Sequence[EntityRef], max_entities: int = MAX_ENTITY_CHIPS
) -> str:
    """Chips for the people quoted and the countries/entities named in a passage.

    Beyond ``max_entities`` entities, one ``+N`` chip lists the rest in its tooltip.
    """
    chips = [_chip(speaker_label(s), "speaker", ", ".join(s.affiliation_names or s.affiliations)) for s in speakers]
    shown, rest = entities[:max_entities], entities[max_entities:]
    chips += [_chip(e.name, "entity", e.id) for e in shown]
    if rest:
        chips.append(_chip(f"+{len(rest)}", "entity", ", ".join(e.name for e in rest)))
    return f'<div class="ss-chips">{"".join(chips)}</div>' if chips else ""


def card_html(hit: SearchHit, top_score: float) -> str:
    """A result card: rank, title and section, score bar, people and countries, highlighted passage."""
    fraction = score_fraction(hit.score, top_score)
    section = f'<span class="ss-section">{escape_text(hit.section)}</span>' if hit.section else ""
    return (
        '<div class="ss-card">'
        '<div class="ss-head">'
        f'<span class="ss-rank">{hit.rank}</span>'
        f'<div class="ss-where"><span class="ss-title">{escape_text(hit.title)}</span>{section}{where_html(hit)}</div>'
        f'<div class="ss-score" title="score {hit.score:.4f}, relative to the best result">'
        f'<div class="ss-bar"><div class="ss-fill" style="width:{fraction * 100:.0f}%"></div></div>'
        f'<span class="ss-num">{hit.score:.3f}</span></div>'
        "</div>"
        f"{chips_html(hit.speakers, hit.entities)}"
        f"{why_html(hit.why)}"
        f'<div class="ss-text">{highlight_html(hit.text, hit.highlights)}</div>'
        "</div>"
    )


def where_html(hit: SearchHit) -> str:
    """The document's date and, for a PDF, the page the passage is on; empty when neither is known."""
    parts = [part for part in (hit.published, f"page {hit.page}" if hit.page else None) if part]
    if not parts:
        return ""
    return f'<span class="ss-meta">{escape_text(" · ".join(parts))}</span>'


def why_label(why: Why) -> str:
    """``Why: Jacques Chirac -> French president -> France, said`` (plain text, not escaped)."""
    chain: list[str] = []
    for step in (why.speaker, why.title, *why.path):
        if step and (not chain or chain[-1].casefold() != step.casefold()):
            chain.append(step)
    return f"Why: {' -> '.join(chain)}, {why.verb}"


def why_html(why: Why | None) -> str:
    """The line saying why a hit was lifted, or nothing when the API gave no reason."""
    return f'<div class="ss-why">{escape_text(why_label(why))}</div>' if why is not None else ""


def context_html(context: Context, hit: SearchHit | None = None) -> str:
    """The passages around a hit, in document order; the hit's passages are marked and keep its highlights."""
    marked = _hit_highlights(context, hit)
    rows: list[str] = []
    last_section: str | None = None
    for passage in context.passages:
        if passage.section and passage.section != last_section:
            rows.append(f'<div class="ss-ctx-section">{escape_text(passage.section)}</div>')
        last_section = passage.section or last_section
        rows.append(_context_row(passage, marked.get(passage.passage_id)))
    return f'<div class="ss-ctx">{"".join(rows)}</div>'


def _hit_highlights(context: Context, hit: SearchHit | None) -> dict[int, list[Span]]:
    """passage id -> the hit's highlights within that passage, for each passage the hit's text shows."""
    if hit is None:
        return {p.passage_id: [] for p in context.passages if p.is_hit}
    shown = set(hit.passages or [hit.passage_id])
    marked: dict[int, list[Span]] = {}
    searched_from = 0
    for passage in context.passages:
        if passage.passage_id not in shown:
            continue
        offset = hit.text.find(passage.text, searched_from)
        if offset < 0:
            marked[passage.passage_id] = []
            continue
        searched_from = end = offset + len(passage.text)
        marked[passage.passage_id] = [
            Span(start=h.start - offset, end=h.end - offset) for h in hit.highlights if h.start < end and h.end > offset
        ]
    return marked


def _context_row(passage: ContextPassage, highlights: list[Span] | None) -> str:
    if highlights is not None:
        return f'<div class="ss-ctx-p ss-ctx-hit">{highlight_html(passage.text, highlights)}</div>'
    return f'<div class="ss-ctx-p">{escape_text(passage.text)}</div>'


PAGE_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
.ss-card { font-size: 1rem; }
.ss-head { display: flex; align-items: center; gap: .75rem; flex-wrap: wrap; margin-bottom: .35rem; }
.ss-rank { flex: none; width: 1.9rem; height: 1.9rem; border-radius: 50%; background: #1f3a5f; color: #fff;
  display: inline-flex; align-items: center; justify-content: center; font-weight: 600; font-size: .9rem; }
.ss-where { flex: 1 1 14rem; min-width: 0; line-height: 1.25; }
.ss-title { font-weight: 600; overflow-wrap: anywhere; }
.ss-section { display: block; font-size: .85rem; opacity: .7; }
.ss-meta { display: block; font-size: .8rem; opacity: .6; }
.ss-score { flex: 0 0 auto; display: flex; align-items: center; gap: .4rem; }
.ss-bar { width: 5.5rem; height: .45rem; border-radius: .25rem; background: rgba(128,128,128,.22);
  overflow: hidden; }
.ss-fill { height: 100%; background: linear-gradient(90deg, #3b82f6, #1f3a5f); }
.ss-num { font-variant-numeric: tabular-nums; font-size: .8rem; opacity: .75; }
.ss-chips { display: flex; flex-wrap: wrap; gap: .35rem; margin: .25rem 0 .5rem; }
.ss-chip { font-size: .78rem; padding: .1rem .55rem; border-radius: 1rem; white-space: nowrap;
  max-width: 100%; overflow: hidden; text-overflow: ellipsis; }
.ss-chip-speaker { background: rgba(59,130,246,.13); border: 1px solid rgba(59,130,246,.35); }
.ss-chip-entity { background: rgba(16,185,129,.12); border: 1px solid rgba(16,185,129,.35); }
.ss-why { font-size: .82rem; opacity: .8; margin: -.2rem 0 .45rem; }
.ss-text { line-height: 1.6; overflow-wrap: anywhere; }
.ss-text mark, .ss-ctx mark { background: #fde68a; color: #1f2937; padding: 0 .1rem; border-radius: .15rem; }
.ss-ctx { font-size: .92rem; line-height: 1.55; }
.ss-ctx-section { font-weight: 600; font-size: .85rem; margin: .6rem 0 .2rem; opacity: .8; }
.ss-ctx-p { padding: .35rem .6rem; margin: .25rem 0; border-left: 3px solid transparent; opacity: .75;
  overflow-wrap: anywhere; }
.ss-ctx-hit { border-left-color: #3b82f6; background: rgba(59,130,246,.06); opacity: 1; }
</style>
"""
