"""Keep an index in step with folders: watchdog reports file changes, and a quiet spell starts one build.

Each build is the ordinary incremental one (`indexer.build.build_index`): only new or changed documents are
embedded, removed files drop out, the result is published atomically and servers swap it in by hot reload.
Events come in bursts (an editor saving, a copy of many files), so a build starts only once `debounce_s` have
passed without one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from indexer.build import BuildReport, build_index
from indexer.documents import NoDocumentsError, SourceNotFoundError
from indexer.embedding import Embedder
from indexer.index_dir import IndexStoreError

Log = Callable[[str], None]


class _Changes(FileSystemEventHandler):
    """Notes the time of the last change to a file under the sources, outside the index directory."""

    def __init__(self, ignored: Path) -> None:
        self.ignored = ignored.resolve()
        self.last = 0.0
        self.pending = threading.Event()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [Path(str(p)) for p in (event.src_path, getattr(event, "dest_path", "")) if p]
        if all(self._ignored(path) for path in paths):
            return
        self.last = time.monotonic()
        self.pending.set()

    def _ignored(self, path: Path) -> bool:
        resolved = path.resolve()
        return resolved == self.ignored or self.ignored in resolved.parents or path.name.startswith(".")


def watch(
    sources: Sequence[Path],
    index_dir: Path,
    embedder: Embedder,
    *,
    stop: threading.Event,
    debounce_s: float = 1.0,
    log: Log = lambda message: None,
    on_build: Callable[[BuildReport], None] = lambda report: None,
    **build_options: object,
) -> None:
    """Build `index_dir` from `sources` now, then again after each burst of changes, until `stop` is set."""
    changes = _Changes(index_dir)
    observer = Observer()
    for source in sources:
        folder = source if source.is_dir() else source.parent
        observer.schedule(changes, str(folder), recursive=source.is_dir())
    observer.start()
    try:
        _build(sources, index_dir, embedder, log, on_build, build_options)
        while not stop.is_set():
            if changes.pending.is_set() and time.monotonic() - changes.last >= debounce_s:
                changes.pending.clear()
                _build(sources, index_dir, embedder, log, on_build, build_options)
            stop.wait(min(0.1, debounce_s))
    finally:
        observer.stop()
        observer.join(timeout=5)


def _build(
    sources: Sequence[Path],
    index_dir: Path,
    embedder: Embedder,
    log: Log,
    on_build: Callable[[BuildReport], None],
    options: dict[str, object],
) -> None:
    """One incremental build; a failure is logged and the watch goes on (the published index stays)."""
    try:
        report = build_index(sources, index_dir, embedder, wait_s=600, log=log, **options)  # type: ignore[arg-type]
    except (NoDocumentsError, SourceNotFoundError, IndexStoreError, OSError) as err:
        log(f"not rebuilt: {err}")
        return
    for skipped in report.skipped:
        log(skipped.report_line())
    if not report.up_to_date:
        log(
            f"{index_dir}: {report.documents} documents ({report.embedded_documents} new or changed, "
            f"{report.removed_documents} removed) in {report.seconds:.1f} s"
        )
    on_build(report)
