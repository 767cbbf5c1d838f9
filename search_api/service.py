"""The engine a server answers with, and the watcher that swaps in a newly published build."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from indexer.embedding import Embedder
from indexer.local_store import LocalStore as LoadedIndex
from indexer.store import (
    IndexCorruptError,
    IndexMissingError,
    IndexStoreError,
    current_build_id,
    is_building,
    mark_served,
    resolve_build,
    unmark_served,
)
from search_api.engine import SearchEngine
from search_api.fusion import SearchOptions

log = logging.getLogger("seedsearch.api")


class IndexHolder:
    """Holds the current `SearchEngine`; a reload builds a new one beside it and swaps the reference.

    Requests read `holder.engine` once and keep that engine for the whole request, so a swap never changes an
    index under a running search, and a failed reload leaves the previous engine serving.
    """

    def __init__(self, index_dir: Path, embedder: Embedder, options: SearchOptions) -> None:
        self.index_dir = index_dir
        self.embedder = embedder
        self.options = options
        self.engine: SearchEngine | None = None
        self.build_id: str | None = None
        self.last_error: str | None = None
        self._failed_build: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def load(self, *, required: bool) -> None:
        """Open the published build; with `required`, a missing or broken index raises."""
        try:
            self.reload(raise_errors=True)
        except IndexMissingError as err:
            self.last_error = str(err)
            if required:
                raise
            log.warning("%s", err)

    def reload(self, *, raise_errors: bool = False) -> bool:
        """Swap in the published build if it differs from the one served; True when swapped."""
        with self._lock:
            build_id = current_build_id(self.index_dir)
            if build_id is None:
                if raise_errors:
                    resolve_build(self.index_dir)
                return False
            if build_id == self.build_id or (build_id == self._failed_build and not raise_errors):
                return False
            try:
                loaded = LoadedIndex(self.index_dir)
                engine = SearchEngine(loaded, self.embedder, self.options)
                engine.search("warm up", k=1)
            except Exception as err:  # any broken build, whatever fails on it, keeps the previous engine
                problem = err if isinstance(err, IndexStoreError) else IndexCorruptError(
                    f"the build {build_id} of {self.index_dir} cannot be served ({type(err).__name__}: {err}): "
                    f"rebuild it with `seedsearch build --full --index {self.index_dir}`."
                )
                self._failed_build = build_id
                self.last_error = str(problem)
                if raise_errors:
                    if problem is err:
                        raise
                    raise problem from err
                log.error("kept the previous index: the new build %s cannot be served: %s", build_id, problem)
                return False
            # Requests still running on the old engine hold their own reference to it.
            mark_served(self.index_dir, loaded.build_dir)
            self.engine, self.build_id = engine, build_id
            self.last_error = None
            log.info("serving build %s (%d passages)", build_id, engine.index.manifest.passages)
            return True

    @property
    def building(self) -> bool:
        return is_building(self.index_dir)

    def start_watching(self, interval_s: float) -> None:
        def watch() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.reload()
                except Exception:  # a watcher must never die; the error is logged and the old index serves
                    log.exception("reload check failed")

        self._watcher = threading.Thread(target=watch, name="seedsearch-reload", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        unmark_served(self.index_dir)
