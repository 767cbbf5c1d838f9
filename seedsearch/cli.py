"""`seedsearch`: build the index, search it, serve it, open the page, evaluate it.

A thin layer: every command parses options, calls one function and turns domain errors into one line on stderr
and exit code 1. Set SEEDSEARCH_DEBUG=1 to see tracebacks of unexpected errors.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic_settings import BaseSettings

from indexer.settings import BuildSettings, EncoderSettings
from search_api.contract import DEFAULT_K, DEFAULT_MODE, MAX_K, Mode, SearchHit, SearchRequest, Sort
from search_api.settings import SearchSettings, ServerSettings
from ui.settings import PageSettings

app = typer.Typer(
    name="seedsearch",
    help="Semantic search over your own documents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

F = TypeVar("F", bound=Callable[..., Any])
S = TypeVar("S", bound=BaseSettings)

IndexOption = Annotated[Path | None, typer.Option("--index", help="Index directory (env SEEDSEARCH_INDEX).")]
ModelOption = Annotated[
    str | None, typer.Option("--model", help="sentence-transformers name or path; default: bundled MiniLM.")
]
BackendOption = Annotated[
    str | None,
    typer.Option("--backend", help="auto, torch-fp32, torch-bf16, onnx, openvino(-bf16) (env SEEDSEARCH_BACKEND)."),
]
DeviceOption = Annotated[str | None, typer.Option("--device", help="cpu or cuda.")]
ModeOption = Annotated[Mode, typer.Option("--mode", help="hybrid, dense or lexical.", case_sensitive=False)]


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


def clean_errors(command: F) -> F:
    """Turn every error into one line on stderr and exit code 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from indexer.distributed.cluster import RayBuildError  # light: Ray itself is imported only by a Ray build
        from indexer.documents import NoDocumentsError, SourceNotFoundError
        from indexer.embedding import EmbedderError
        from indexer.store import IndexStoreError

        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            raise fail("interrupted") from None
        except (NoDocumentsError, SourceNotFoundError, EmbedderError, IndexStoreError, RayBuildError,
                ValueError) as err:
            raise fail(str(err)) from None
        except OSError as err:
            raise fail(f"{err.strerror or err} ({err.filename or ''})".replace(" ()", "")) from None
        except Exception as err:
            if os.environ.get("SEEDSEARCH_DEBUG"):
                raise
            raise fail(f"unexpected {type(err).__name__}: {err} (set SEEDSEARCH_DEBUG=1 for details)") from None

    return wrapper  # type: ignore[return-value]


def _settings(kind: type[S], **overrides: Any) -> S:
    """`kind` read from the environment, with the options given on the command line on top."""
    return kind().model_copy(update={key: value for key, value in overrides.items() if value is not None})


def _embedder(settings: EncoderSettings) -> Any:
    from indexer.embedding import load_embedder

    return load_embedder(
        settings.model, backend=settings.backend, device=settings.device, cache_dir=settings.cache_dir,
        threads=settings.threads,
    )


@app.command()
@clean_errors
def build(
    source: Annotated[
        list[Path] | None, typer.Option("--source", help="Files or folders of .txt, .md, .jsonl (repeatable).")
    ] = None,
    index: IndexOption = None,
    model: ModelOption = None,
    backend: BackendOption = None,
    device: DeviceOption = None,
    full: Annotated[bool, typer.Option("--full", help="Re-embed everything, not only changed documents.")] = False,
    index_kind: Annotated[
        str | None, typer.Option("--index-kind", help="auto, flat, hnsw or ivfpq.")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", help="Passage size limit in tokens.")] = None,
    min_tokens: Annotated[
        int | None,
        typer.Option("--min-tokens", help="Join shorter paragraphs with their neighbours (0: one per paragraph)."),
    ] = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for another build of the index.")] = 0.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    follow_links: Annotated[
        bool, typer.Option("--follow-links", help="Index what symbolic links outside the sources point to.")
    ] = False,
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="Build on a Ray cluster: HOST:PORT, auto or local (env SEEDSEARCH_RAY_ADDRESS)."),
    ] = None,
) -> None:
    """Build or update the index from the sources and publish it atomically."""
    settings = _settings(
        BuildSettings,
        source=source or None, index=index, model=model, backend=backend, device=device,
        index_kind=index_kind, passage_max_tokens=max_tokens, passage_min_tokens=min_tokens, ray_address=ray,
    )
    if settings.ray_address:  # an unreachable cluster fails before the model is loaded
        from indexer.distributed.cluster import check_reachable

        check_reachable(settings.ray_address, settings.ray_connect_timeout_s)
    embedder = _embedder(settings)
    report = _build(settings, embedder, full=full, wait=wait, quiet=quiet, follow_links=follow_links)
    for skipped in report.skipped:
        typer.echo(skipped.report_line(), err=True)
    if report.up_to_date:
        typer.echo(f"{settings.index}: up to date ({report.documents} documents, {report.passages} passages)")
        return
    typer.echo(
        f"{settings.index}: {report.documents} documents, {report.passages} passages "
        f"({report.embedded_documents} documents new, changed or re-analysed, {report.reused_documents} kept, "
        f"{report.removed_documents} removed, {len(report.skipped)} skipped; {report.embedded_passages} passages "
        f"and {report.embedded_sentences} sentences embedded, {report.reused_passages} vectors reused) in "
        f"{report.seconds:.1f} s, "
        f"{report.passages_per_s:.0f} passages/s, {report.words_per_s:.0f} words/s [{embedder.backend}]"
    )


def _build(settings: BuildSettings, embedder: Any, *, full: bool, wait: float, quiet: bool, follow_links: bool) -> Any:
    """Run the build here, or its passage stage on the Ray cluster `settings.ray_address` names."""
    from contextlib import nullcontext

    from indexer.build import build_index

    log = lambda message: typer.echo(message, err=True)  # noqa: E731
    stage: Any = None
    cluster: Any = nullcontext()
    if settings.ray_address:
        from indexer.distributed import ClusterOptions, EncoderSpec, RayPassages, ray_cluster

        options = ClusterOptions(
            settings.ray_address, settings.ray_connect_timeout_s, settings.ray_local_cpus,
            settings.ray_object_store_mb,
        )
        cluster = ray_cluster(options, log)
        stage = RayPassages(EncoderSpec.of(embedder, settings.model, settings.device, settings.cache_dir))
    with cluster:
        return build_index(
            settings.source,
            settings.index,
            embedder,
            max_tokens=settings.passage_max_tokens,
            min_tokens=settings.passage_min_tokens,
            max_file_bytes=settings.max_file_bytes,
            index_kind=settings.index_kind,
            full=full,
            wait_s=wait,
            progress=not quiet and sys.stderr.isatty(),
            log=log,
            follow_links=follow_links,
            passages=stage,
        )


@app.command()
@clean_errors
def search(
    question: Annotated[str, typer.Argument(help="The question to answer.")],
    index: IndexOption = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=MAX_K, help="Number of results.")] = DEFAULT_K,
    mode: ModeOption = DEFAULT_MODE,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON answer (GET /search).")] = False,
    model: ModelOption = None,
    backend: BackendOption = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only documents published then or later (ISO 8601 date).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Only documents published then or earlier (ISO 8601 date).")
    ] = None,
    sort: Annotated[
        Sort, typer.Option("--sort", help="relevance, or date (the k best, newest first).", case_sensitive=False)
    ] = Sort.RELEVANCE,
) -> None:
    """Search the index and print the best passages, the answering sentence highlighted."""
    from indexer.local_store import LocalStore as LoadedIndex
    from search_api.engine import SearchEngine, SearchFilters
    from search_api.fusion import SearchOptions
    from search_api.ordering import ordered
    from search_api.responses import search_response

    asked = _search_request(question, k, mode, since, until, sort)
    settings = _settings(EncoderSettings, index=index, model=model, backend=backend)
    loaded = LoadedIndex(settings.index)
    engine = SearchEngine(loaded, _embedder(settings), SearchOptions.from_settings(SearchSettings()))
    filters = SearchFilters(since=asked.since, until=asked.until)
    found = ordered(engine.search(asked.query, k=k, mode=mode, filters=filters), asked.sort)
    answer = search_response(found, engine.resolver)
    if as_json:
        typer.echo(answer.model_dump_json())
        return
    _print_hits(answer.results)


def _search_request(
    question: str, k: int, mode: Mode, since: str | None, until: str | None, sort: Sort
) -> SearchRequest:
    """The search as the API would take it, refused with the API's reason (one line) when invalid."""
    from pydantic import ValidationError

    try:
        return SearchRequest(query=question, k=k, mode=mode, since=since, until=until, sort=sort)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{where + ': ' if where else ''}{first['msg'].removeprefix('Value error, ')}") from None


def _print_hits(hits: list[SearchHit]) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    if not hits:
        console.print("No passage matches; try other words or --mode dense.")
    for hit in hits:
        header = Text(f"{hit.rank}. {hit.score:.3f}  {hit.title}", style="bold")
        if hit.section:
            header.append(f"  · {hit.section}", style="dim")
        where = ", ".join(part for part in (hit.published, f"page {hit.page}" if hit.page else None) if part)
        if where:
            header.append(f"  ({where})", style="dim")
        console.print(header)
        speakers = ", ".join(
            s.speaker + (f" ({', '.join(s.affiliation_names)})" if s.affiliation_names else "") for s in hit.speakers
        )
        if speakers:
            console.print(Text(f"   speakers: {speakers}", style="cyan"))
        body = Text(hit.text)
        for span in hit.highlights:
            body.stylize("bold yellow", span.start, span.end)
        console.print(Text("   ").append(body))
        console.print()


WaitOption = Annotated[
    float, typer.Option("--wait", help="Seconds to wait for a running build of the index (changes queue).")
]


@app.command()
@clean_errors
def add(
    paths: Annotated[list[Path], typer.Argument(help="Files (or folders of them) to add; same name replaces.")],
    index: IndexOption = None,
    model: ModelOption = None,
    backend: BackendOption = None,
    wait: WaitOption = 120.0,
) -> None:
    """Add documents to the published index: only they are embedded; running servers pick the change up."""
    from indexer.changes import add_files
    from indexer.documents import SUPPORTED_SUFFIXES

    files: list[tuple[str, Path]] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
            files.extend((p.name, p) for p in found)
        elif path.is_file():
            files.append((path.name, path))
        else:
            raise fail(f"{path} is not a file or folder: check the path")
    settings = _settings(EncoderSettings, index=index, model=model, backend=backend)
    report = add_files(settings.index, files, _embedder(settings), wait_s=wait, log=lambda m: typer.echo(m, err=True))
    for skipped in report.skipped:
        typer.echo(skipped.report_line(), err=True)
    for document in report.indexed:
        typer.echo(f"indexed {document.doc_id}: {document.title} ({document.passages} passages)")
    if not report.indexed:
        raise fail("nothing was indexed")
    typer.echo(f"{settings.index}: published build {report.build} in {report.seconds:.1f} s")


@app.command()
@clean_errors
def remove(
    doc_ids: Annotated[list[str], typer.Argument(help="Ids of the documents to remove (see `seedsearch search`).")],
    index: IndexOption = None,
    wait: WaitOption = 120.0,
) -> None:
    """Remove documents from the published index and from its later builds.

    Nothing is encoded: the index's own model and backend are loaded, so the new build's manifest stays true.
    """
    from indexer.changes import UnknownDocumentError, remove_documents
    from indexer.store import Manifest, resolve_build

    index_dir = _settings(EncoderSettings, index=index).index
    manifest = Manifest.read(resolve_build(index_dir))
    settings = _settings(EncoderSettings, index=index_dir, model=manifest.model_id, backend=manifest.backend or None)
    try:
        report = remove_documents(settings.index, doc_ids, _embedder(settings), wait_s=wait)
    except UnknownDocumentError as err:
        raise fail(f"no document {err.args[0]!r} in {settings.index}: nothing was removed") from None
    typer.echo(f"{settings.index}: removed {', '.join(report.removed)}; published build {report.build}")


@app.command()
@clean_errors
def watch(
    source: Annotated[list[Path], typer.Option("--source", help="Folders (or files) to keep indexed (repeatable).")],
    index: IndexOption = None,
    model: ModelOption = None,
    backend: BackendOption = None,
    device: DeviceOption = None,
    debounce: Annotated[
        float, typer.Option("--debounce", min=0.05, help="Seconds without a change before a build starts.")
    ] = 1.0,
) -> None:
    """Keep the index in step with folders: an incremental build after each burst of file changes (Ctrl-C stops)."""
    import signal
    import threading

    from indexer.watch import watch as watch_sources

    settings = _settings(BuildSettings, source=source, index=index, model=model, backend=backend, device=device)
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    typer.echo(f"watching {', '.join(map(str, settings.source))} for {settings.index} (Ctrl-C stops)", err=True)
    watch_sources(
        settings.source, settings.index, _embedder(settings), stop=stop, debounce_s=debounce,
        log=lambda message: typer.echo(message, err=True), max_tokens=settings.passage_max_tokens,
        min_tokens=settings.passage_min_tokens, max_file_bytes=settings.max_file_bytes,
        index_kind=settings.index_kind,
    )


@app.command()
@clean_errors
def serve(
    index: IndexOption = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to bind; 127.0.0.1 by default.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port; 8000 by default.")] = None,
    model: ModelOption = None,
    backend: BackendOption = None,
    device: DeviceOption = None,
    wait_for_index: Annotated[
        bool, typer.Option("--wait-for-index", help="Start without an index and load it once built.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, max=64, help="Server processes on one port (env SEEDSEARCH_WORKERS)."),
    ] = None,
) -> None:
    """Serve the JSON search API: the model and index load before the port opens (in each worker with --workers)."""
    from search_api.server import prepare_server_process, serve_api, serve_workers

    prepare_server_process()  # SIGINT or SIGTERM while the model loads stops start-up; malloc arenas capped
    from indexer.store import IndexMissingError, Manifest, resolve_build
    from search_api.app import create_app
    from search_api.fusion import SearchOptions
    from search_api.service import IndexHolder

    settings = _settings(EncoderSettings, index=index, model=model, backend=backend, device=device)
    server = _settings(ServerSettings, host=host, port=port, workers=workers)
    search_settings = SearchSettings()
    try:  # a missing index or a broken manifest fails here, before the model spends seconds loading
        Manifest.read(resolve_build(settings.index))
    except IndexMissingError:
        if not wait_for_index:
            raise
    if server.workers > 1:  # each worker loads the model and the index itself, from these settings
        for field in ("index", "model", "backend", "device", "cache_dir"):
            if getattr(settings, field) is not None:
                os.environ[f"SEEDSEARCH_{field.upper()}"] = str(getattr(settings, field))
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        typer.echo(f"seedsearch API on http://{server.host}:{server.port}, {server.workers} workers", err=True)
        serve_workers(server.workers, server.host, server.port)
        return
    holder = IndexHolder(settings.index, _embedder(settings), SearchOptions.from_settings(search_settings))
    holder.load(required=not wait_for_index)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    typer.echo(f"seedsearch API on http://{server.host}:{server.port} (docs at /docs)", err=True)
    serve_api(
        create_app(server, encoder=settings, search_settings=search_settings, holder=holder), server.host, server.port
    )


@app.command()
@clean_errors
def ui(
    port: Annotated[int | None, typer.Option("--port", help="Port of the page; 8501 by default.")] = None,
    api_url: Annotated[str | None, typer.Option("--api-url", help="Where the API answers.")] = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Start the Streamlit search page (SIGTERM or SIGINT stops the page with it)."""
    from ui.launch import run_page

    settings = _settings(PageSettings, ui_port=port, api_url=api_url)
    typer.echo(f"seedsearch page on http://{host}:{settings.ui_port} (API {settings.api_url})", err=True)
    raise typer.Exit(run_page(settings.ui_port, host, settings.api_url))


@app.command()
@clean_errors
def info(index: IndexOption = None) -> None:
    """Print the manifest of the published index, after checking that its files can be read, and the encoder
    backends `auto` measured on this CPU."""
    from indexer.embedding_choice import describe
    from indexer.local_store import LocalStore as LoadedIndex

    settings = _settings(EncoderSettings, index=index)
    loaded = LoadedIndex(settings.index)
    loaded.close()
    for line in describe(settings.cache_dir):
        typer.echo(line)
    typer.echo(f"build: {loaded.build_dir}")
    typer.echo(loaded.manifest.to_json())


@app.command(name="eval")
@clean_errors
def evaluate(
    questions: Annotated[Path | None, typer.Option("--questions", help="JSONL question set.")] = None,
    beir: Annotated[Path | None, typer.Option("--beir", help="BEIR dataset folder (corpus, queries, qrels).")] = None,
    split: Annotated[str, typer.Option("--split", help="qrels split for --beir.")] = "test",
    index: IndexOption = None,
    api_url: Annotated[
        str | None, typer.Option("--api-url", help="Ask a running API (e.g. http://127.0.0.1:8000) instead.")
    ] = None,
    mode: ModeOption = DEFAULT_MODE,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    model: ModelOption = None,
    backend: BackendOption = None,
) -> None:
    """Measure answer quality: hit@1, hit@3, MRR@5 on a question set, or nDCG@10 and recall@100 on BEIR."""
    from indexer.local_store import LocalStore as LoadedIndex
    from search_api.engine import SearchEngine
    from search_api.evaluation import (
        BeirReport,
        QuestionReport,
        SearchFn,
        api_search,
        engine_search,
        evaluate_beir,
        evaluate_questions,
    )
    from search_api.fusion import SearchOptions

    if (questions is None) == (beir is None):
        raise fail("give exactly one of --questions FILE or --beir DIR")
    search: SearchFn
    if api_url:
        search = api_search(api_url, mode, ServerSettings().api_key)
    else:
        settings = _settings(EncoderSettings, index=index, model=model, backend=backend)
        options = SearchOptions.from_settings(SearchSettings())
        search = engine_search(SearchEngine(LoadedIndex(settings.index), _embedder(settings), options), mode)
    report: QuestionReport | BeirReport
    if questions is not None:
        report = evaluate_questions(search, questions)
    else:
        assert beir is not None
        report = evaluate_beir(search, beir, split=split)
    typer.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.render())


if __name__ == "__main__":
    app()
