"""The seedsearch page: ask a question, read the passages that answer it.

All data comes from the HTTP API through :class:`ui.client.ApiClient`; tests replace ``ApiClient.from_env``.
The question and filters live in the address (``?q=...&mode=...``) so a search can be shared and reloaded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import streamlit as st

from search_api.contract import (
    DEFAULT_K,
    MAX_CONTEXT_WINDOW,
    MAX_K,
    MODES,
    Facets,
    Health,
    Mode,
    SearchHit,
    SearchRequest,
    SearchResponse,
    Sort,
    Stats,
    Unavailable,
)
from ui.client import ApiClient, ApiError, ApiUnreachable
from ui.render import PAGE_CSS, card_html, context_html
from ui.upload import upload_section

EXAMPLES: tuple[str, ...] = (
    "What did Poland say?",
    "Who commands Nato forces in Europe?",
    "What does Moscow want from a peace deal?",
)
SORTS: tuple[str, ...] = tuple(sort.value for sort in Sort)
FIRST_VISIT_TITLES = 5
START_API = "seedsearch serve --index index/"
BUILD_INDEX = "seedsearch build --source seeds/ --index index/"
MODE_HELP = (
    "hybrid: meaning and exact words combined (best default) · dense: meaning only · lexical: exact words only (BM25)"
)

# Session-state keys.
Q_INPUT, QUERY, MODE, K, DOC, SPEAKER, ENTITY = "q_input", "query", "mode", "k", "doc", "speaker", "entity"
SINCE, UNTIL, SORT = "since", "until", "sort"
_INIT, _FORCE, _MEMO = "_ss_init", "_ss_force", "_ss_memo"


def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown punctuation so user/API text shows literally in ``st.*`` Markdown bodies."""
    return "".join(f"\\{ch}" if ch in "\\`*_{}[]()<>#+-.!|~$:" else ch for ch in text).replace("\n", " ")


def _init_state() -> None:
    """Seed widget state from the address once per session (so ``?q=...`` runs that search)."""
    state = st.session_state
    if state.get(_INIT):
        return
    params = st.query_params
    query = params.get("q", "").strip()
    state[Q_INPUT] = query
    state[QUERY] = query
    mode = params.get("mode", "hybrid")
    state[MODE] = mode if mode in MODES else "hybrid"
    try:
        state[K] = max(1, min(MAX_K, int(params.get("k", DEFAULT_K))))
    except ValueError:
        state[K] = DEFAULT_K
    state[DOC] = params.get("doc", "")
    state[SPEAKER] = params.get("speaker", "")
    state[ENTITY] = params.get("entity", "")
    state[SINCE] = params.get("since", "")
    state[UNTIL] = params.get("until", "")
    sort = params.get("sort", Sort.RELEVANCE.value)
    state[SORT] = sort if sort in SORTS else Sort.RELEVANCE.value
    state[_FORCE] = False
    state[_INIT] = True


def _sync_url() -> None:
    """Write the committed question and non-default filters to the address bar."""
    state = st.session_state
    wanted = {
        "q": state[QUERY],
        "mode": state[MODE] if state[MODE] != "hybrid" else "",
        "k": str(state[K]) if state[K] != DEFAULT_K else "",
        "doc": state[DOC],
        "speaker": state[SPEAKER],
        "entity": state[ENTITY],
        "since": state[SINCE],
        "until": state[UNTIL],
        "sort": state[SORT] if state[SORT] != Sort.RELEVANCE else "",
    }
    wanted = {key: value for key, value in wanted.items() if value}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def _submit() -> None:
    st.session_state[QUERY] = st.session_state[Q_INPUT].strip()
    st.session_state[_FORCE] = True


def _ask(question: str) -> None:
    st.session_state[Q_INPUT] = question
    st.session_state[QUERY] = question
    st.session_state[_FORCE] = True


def _retry() -> None:
    st.session_state[_FORCE] = True


def _clear_filters() -> None:
    for key in (DOC, SPEAKER, ENTITY, SINCE, UNTIL):
        st.session_state[key] = ""


def _request() -> SearchRequest:
    state = st.session_state
    # Built unchecked: the API checks it and its 422 says what is wrong, in the same words as for every client.
    return SearchRequest.model_construct(
        query=state[QUERY],
        k=int(state[K]),
        mode=Mode(state[MODE]),
        doc_id=state[DOC] or None,
        speaker=state[SPEAKER] or None,
        entity=state[ENTITY] or None,
        since=state[SINCE].strip() or None,
        until=state[UNTIL].strip() or None,
        sort=Sort(state[SORT]),
    )


def _search(client: ApiClient, request: SearchRequest) -> SearchResponse:
    """Search, reusing the last answer when only the page (not the request) changed."""
    memo = st.session_state.get(_MEMO)
    if memo is not None and memo[0] == request and not st.session_state.get(_FORCE):
        return cast(SearchResponse, memo[1])
    response = client.search(request)
    st.session_state[_MEMO] = (request, response)
    return response


def _options(values: list[str], current: str) -> list[str]:
    """Selectbox options: 'any' (""), the facet values, and the current value if the facets lack it."""
    options = ["", *values]
    if current not in options:
        options.append(current)
    return options


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _format_built_at(value: str | None) -> str:
    if not value:
        return "unknown"
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M %Z").strip()
    except ValueError:
        return value


def _filters(facets: Facets | None) -> None:
    """Mode, number of results, and the document / speaker / country filters."""
    st.subheader("Filters")
    st.radio(
        "Mode",
        MODES,
        key=MODE,
        horizontal=True,
        format_func=str.capitalize,
        help=MODE_HELP,
    )
    st.slider("Results", min_value=1, max_value=MAX_K, key=K)
    facets = facets or Facets()
    titles = {d.doc_id: d.title for d in facets.documents}
    st.selectbox(
        "Document",
        _options(list(titles), st.session_state[DOC]),
        key=DOC,
        format_func=lambda v: titles.get(v, v) if v else "All documents",
    )
    st.selectbox(
        "Speaker",
        _options(list(facets.speakers), st.session_state[SPEAKER]),
        key=SPEAKER,
        format_func=lambda v: v or "Anyone",
    )
    names = {e.id: e.name for e in facets.entities}
    countries_only = all(e.id.startswith("country:") for e in facets.entities)
    st.selectbox(
        "Country" if countries_only else "Country or entity",
        _options(list(names), st.session_state[ENTITY]),
        key=ENTITY,
        format_func=lambda v: names.get(v, v) if v else ("Any country" if countries_only else "Any"),
    )
    _date_filters()
    if any(st.session_state[key] for key in (DOC, SPEAKER, ENTITY, SINCE, UNTIL)):
        st.button("Clear filters", on_click=_clear_filters, icon=":material/filter_alt_off:")


def _date_filters() -> None:
    """Published since / until (ISO dates, checked by the API) and the order of the results."""
    since, until = st.columns(2)
    since.text_input("Published since", key=SINCE, placeholder="2026-01-01", help="An ISO 8601 date or date-time.")
    until.text_input("Published until", key=UNTIL, placeholder="2026-12-31", help="A date includes its whole day.")
    st.radio(
        "Order", SORTS, key=SORT, horizontal=True, format_func=str.capitalize,
        help="Relevance, or date: the most relevant results, newest first.",
    )


def _index_panel(client: ApiClient, health: Health | Unavailable | None, stats: Stats | None) -> None:
    """Sidebar: does the API answer, what the index holds, how long the last search took."""
    st.subheader("Index")
    if health is None:
        st.markdown(f":red[**API not answering**]  \n{escape_markdown(client.base_url)}")
        return
    status = ":green[**API answering**]" if isinstance(health, Health) else ":orange[**API answering, no index**]"
    st.markdown(f"{status}  \n{escape_markdown(client.base_url)}")
    if health.building:
        st.markdown(":orange[Rebuild in progress]")
    if stats is not None:
        col_docs, col_passages = st.columns(2)
        col_docs.metric("Documents", f"{stats.documents:,}")
        col_passages.metric("Passages", f"{stats.passages:,}")
        st.caption(
            f"Model: **{escape_markdown(stats.model.rsplit('/', 1)[-1] or 'unknown')}**  \n"
            f"Built: {escape_markdown(_format_built_at(stats.built_at))}"
        )
    memo = st.session_state.get(_MEMO)
    if memo is not None:
        st.caption(f"Last search: {memo[1].took_ms:.1f} ms in the API")


def _unreachable(url: str) -> None:
    st.error(
        f"**The search API is not answering** at `{url}`.\n\n"
        f"Start it with `{START_API}` (or `make run`), or point the page at it with "
        "`SEEDSEARCH_API_URL`, then retry.",
        icon=":material/cloud_off:",
    )
    st.button("Retry", on_click=_retry, icon=":material/refresh:")


def _no_index(health: Unavailable) -> None:
    if health.building:
        st.info(
            "**The index is being built.** Searches will work as soon as it is ready.",
            icon=":material/hourglass_top:",
        )
    else:
        st.warning(
            "**No index is loaded**, so there is nothing to search yet. Build one, then restart the API:",
            icon=":material/database:",
        )
        st.code(f"{BUILD_INDEX}\n{START_API}", language="bash")
        if health.detail:
            st.caption(f"The API said: {escape_markdown(health.detail)}")
    st.button("Retry", on_click=_retry, icon=":material/refresh:")


def _search_box() -> None:
    with st.form("search", border=False, enter_to_submit=True):
        col_input, col_button = st.columns([5, 1], vertical_alignment="bottom")
        col_input.text_input(
            "Question",
            key=Q_INPUT,
            placeholder="Ask a question, e.g. What did Poland say?",
            label_visibility="collapsed",
        )
        col_button.form_submit_button(
            "Search", on_click=_submit, type="primary", icon=":material/search:", width="stretch"
        )


def _examples(label: str) -> None:
    """Example questions as buttons; a click fills the box and searches."""
    st.caption(label)
    row = st.container(horizontal=True, gap="small")
    for i, question in enumerate(EXAMPLES):
        row.button(question, key=f"example_{i}", on_click=_ask, args=(question,), icon=":material/north_east:")


def _first_visit(health: Health, facets: Facets | None) -> None:
    st.markdown(
        "Ask a question in plain words. seedsearch finds the passages that answer it, highlights the "
        "answering sentence and shows who said it."
    )
    _examples("Try one of these:")
    summary = f"Searching {_count(health.documents, 'document')}, {_count(health.passages, 'passage')}"
    titles = [d.title for d in facets.documents[:FIRST_VISIT_TITLES]] if facets else []
    if titles:
        more = health.documents - len(titles)
        listed = "; ".join(f"*{escape_markdown(t)}*" for t in titles)
        summary += f": {listed}{f' and {more:,} more' if more > 0 else ''}"
    st.caption(summary + ".")


def _active_filters(request: SearchRequest, facets: Facets | None) -> str:
    names = {e.id: e.name for e in facets.entities} if facets else {}
    titles = {d.doc_id: d.title for d in facets.documents} if facets else {}
    parts = []
    if request.doc_id:
        parts.append(f"document “{titles.get(request.doc_id, request.doc_id)}”")
    if request.speaker:
        parts.append(f"speaker {request.speaker}")
    if request.entity:
        parts.append(f"country {names.get(request.entity, request.entity)}")
    if request.since or request.until:
        parts.append(f"published {request.since or '…'} to {request.until or '…'}")
    return ", ".join(parts)


def _results(client: ApiClient, response: SearchResponse, request: SearchRequest, facets: Facets | None) -> None:
    filters = _active_filters(request, facets)
    filtered = f" · filtered by {escape_markdown(filters)}" if filters else ""
    if not response.results:
        st.info(
            f"**No passages match** “{escape_markdown(request.query)}”{filtered}.\n\n"
            + (
                "Clear the filters, or try other words or another mode."
                if filters
                else "Try other words, or another mode (lexical needs the exact words)."
            ),
            icon=":material/search_off:",
        )
        if filters:
            st.button("Clear filters", key="clear_filters_main", on_click=_clear_filters)
        _examples("Or try one of these:")
        return
    count = len(response.results)
    st.caption(
        f"**{count} passage{'s' if count != 1 else ''}** · {response.mode} · {response.took_ms:.1f} ms{filtered}"
    )
    top = max(hit.score for hit in response.results)
    for hit in response.results:
        with st.container(border=True, key=f"card_{hit.rank}"):
            st.markdown(card_html(hit, top), unsafe_allow_html=True)
            expander = st.expander(
                "Context in the document", key=f"ctx_{hit.passage_id}", on_change="rerun", type="compact"
            )
            with expander:
                if expander.open:
                    _context(client, hit)


def _context(client: ApiClient, hit: SearchHit) -> None:
    try:  # the hit's own passages and one more on each side
        context = client.context(hit.passage_id, window=min(len(hit.passages) + 1, MAX_CONTEXT_WINDOW))
    except ApiUnreachable as err:
        st.caption(f"Could not load the context: the API at {escape_markdown(err.url)} is not answering.")
        return
    except ApiError as err:
        st.caption(f"Could not load the context ({err.status}): {escape_markdown(err.detail)}")
        return
    st.markdown(context_html(context, hit), unsafe_allow_html=True)


def _search_error(err: ApiError) -> None:
    if err.status in (401, 403):
        st.error(
            "**The API refused the API key.** Set `SEEDSEARCH_API_KEY` for the page to the key the API "
            "was started with.",
            icon=":material/key:",
        )
    elif err.status == 422:
        st.warning(f"**The API could not run this search:** {escape_markdown(err.detail)}")
    elif err.status == 503:
        _no_index(Unavailable(detail=err.detail))
    else:
        st.error(f"**The API answered {err.status}:** {escape_markdown(err.detail)}")


def _safe(call: Any) -> Any:
    """Run an optional call (stats, facets); the page works without its answer."""
    try:
        return call()
    except (ApiError, ApiUnreachable):
        return None


def render(client: ApiClient) -> None:
    """Draw the whole page with ``client``."""
    _init_state()
    st.markdown(PAGE_CSS, unsafe_allow_html=True)
    st.title("seedsearch", anchor=False)
    st.caption("Semantic search over your documents: every answer comes with its passage, who said it and where.")
    _search_box()

    try:
        health: Health | Unavailable | None = client.health()
    except ApiUnreachable:
        health = None
    except ApiError as err:  # e.g. a proxy error page: treat like "no index"
        health = Unavailable(detail=f"{err.status}: {err.detail}")
    stats = _safe(client.stats) if isinstance(health, Health) else None
    facets = _safe(client.facets) if isinstance(health, Health) else None

    request = _request()
    _sync_url()

    if health is None:
        _unreachable(client.base_url)
    elif isinstance(health, Unavailable):
        _no_index(health)
    else:
        if health.building:
            st.info(
                "A rebuild of the index is in progress; results come from the current index until it ends.",
                icon=":material/sync:",
            )
        if not request.query:
            _first_visit(health, facets)
        else:
            try:
                with st.spinner("Searching…"):
                    response = _search(client, request)
            except ApiUnreachable as err:
                health = None
                _unreachable(err.url)
            except ApiError as err:
                _search_error(err)
            else:
                _results(client, response, request, facets)
    st.session_state[_FORCE] = False

    with st.sidebar:
        _filters(facets)
        st.divider()
        _index_panel(client, health, stats)
        if isinstance(health, Health):
            upload_section(client)


def main() -> None:
    """Entry point used by ``ui/app.py``."""
    st.set_page_config(page_title="seedsearch", page_icon=":material/travel_explore:", layout="centered")
    st.set_option("client.toolbarMode", "minimal")
    client = ApiClient.from_env()
    try:
        render(client)
    finally:
        client.close()
