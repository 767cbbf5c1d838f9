"""The page's upload section: files added to the index through POST /documents, with the API key typed here.

Searching uses the page's own key (if any); adding documents always asks for the key, so a page open to
readers does not let them change the index.
"""

from __future__ import annotations

import streamlit as st

from search_api.contract import UPLOAD_SUFFIXES, ChangeResult
from ui.client import ApiClient, ApiError, ApiUnreachable

UPLOAD_KEY, UPLOAD_FILES, UPLOAD_ROUND, UPLOAD_RESULT = "upload_key", "upload_files", "_ss_upload_round", "_ss_added"


def upload_section(client: ApiClient) -> None:
    """An expander with the key, a file picker and an Add button; the outcome of the last upload below it."""
    state = st.session_state
    with st.expander("Add documents", icon=":material/upload_file:", expanded=bool(state.get(UPLOAD_RESULT))):
        st.text_input("API key", type="password", key=UPLOAD_KEY, help="The server's SEEDSEARCH_API_KEY.")
        files = st.file_uploader(
            "PDF, HTML, Word or text files",
            type=[suffix.lstrip(".") for suffix in UPLOAD_SUFFIXES],
            accept_multiple_files=True,
            key=f"{UPLOAD_FILES}_{state.get(UPLOAD_ROUND, 0)}",  # a new key empties the picker after an upload
        )
        if st.button("Add to the index", disabled=not files, icon=":material/add:"):
            key = str(state.get(UPLOAD_KEY, "")).strip()
            if not key:
                st.error("Type the API key first: adding documents needs it.")
                return
            _add(client, [(f.name, f.getvalue()) for f in files or []], key)
        result = state.get(UPLOAD_RESULT)
        if isinstance(result, ChangeResult):
            _show(result)


def _add(client: ApiClient, files: list[tuple[str, bytes]], key: str) -> None:
    state = st.session_state
    try:
        with st.spinner("Indexing…"):
            result = client.add_documents(files, key)
    except ApiUnreachable as err:
        st.error(f"The API at {err.url} did not answer: is `seedsearch serve` running?")
        return
    except ApiError as err:
        hint = {401: " Check the key.", 403: " The server has no API key: set SEEDSEARCH_API_KEY there."}
        st.error(f"Not added ({err.status}): {err.detail}{hint.get(err.status, '')}")
        return
    state[UPLOAD_RESULT] = result
    state[UPLOAD_ROUND] = state.get(UPLOAD_ROUND, 0) + 1
    st.rerun()


def _show(result: ChangeResult) -> None:
    for document in result.indexed:
        st.success(f"Added “{document.title}” ({document.doc_id}, {document.passages} passages): search it now.")
    for skipped in result.skipped:
        st.warning(f"Skipped {skipped.source}: {skipped.reason}")
