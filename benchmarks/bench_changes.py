"""Documents added and removed while serving: POST /documents until the document is found, DELETE until gone.

The app runs in-process (FastAPI's TestClient, lifespan started) with the bundled model over a copy of an index
(the seed index by default, built here; `--index DIR` copies an existing one, such as the Reuters index).
Each round uploads a PDF, an HTML page and a JSON document, one request each, and times the request (incremental
build, publish, swap) plus the first search that finds the new sentence; then deletes the document the same way.

    python -m benchmarks.bench_changes [--index /work/main-reuters-index] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from fastapi.testclient import TestClient  # noqa: E402

from indexer.build import build_index  # noqa: E402
from indexer.embedding import load_embedder  # noqa: E402
from indexer.settings import EncoderSettings  # noqa: E402
from search_api.app import create_app  # noqa: E402
from search_api.settings import ServerSettings  # noqa: E402
from tests.indexer.formats.fixtures import PdfPage, html_page, two_column_pdf  # noqa: E402
from tests.paths import SEEDS  # noqa: E402

KEY = "bench-key"
TARGET_S = 2.0


def uploads(round_number: int) -> list[tuple[str, dict[str, Any], str]]:
    """(doc id, request arguments, a sentence of it) for one PDF, one HTML page and one JSON document."""
    pdf_sentence = f"Survey {round_number}: ptarmigan flocks wintered on the high plateau above the glacier."
    html_sentence = f"Report {round_number}: the ferry crossing resumed after the storm cleared the strait."
    json_sentence = f"Note {round_number}: beekeepers moved their hives to the heather moors in August."
    left = [pdf_sentence, "Observers walked the same transects as in previous winters."]
    right = ["The weather station recorded its lowest temperature in a decade.", "Snow lay deep."]
    pdf = two_column_pdf([PdfPage(left, right)])
    html = html_page(f"Ferry report {round_number}", [html_sentence, "Timetables return to normal on Monday."])
    return [
        (f"survey-{round_number}.pdf", {"files": [("files", (f"survey-{round_number}.pdf", pdf, "application/pdf"))]},
         pdf_sentence),
        (f"ferry-{round_number}.html", {"files": [("files", (f"ferry-{round_number}.html", html, "text/html"))]},
         html_sentence),
        (f"note-{round_number}", {"json": {"id": f"note-{round_number}", "text": json_sentence}}, json_sentence),
    ]


def found(client: TestClient, sentence: str, doc_id: str) -> bool:
    hits = client.get("/search", params={"q": sentence, "k": 5}, headers={"X-API-Key": KEY}).json()["results"]
    return any(hit["doc_id"] == doc_id for hit in hits)


def until(condition: Any, deadline_s: float = 120.0) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > deadline_s:
            raise TimeoutError("not within the deadline")
        time.sleep(0.02)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="an index to copy and change (default: the seed index, built)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    embedder = load_embedder()
    with tempfile.TemporaryDirectory(prefix="bench-changes-") as folder:
        index_dir = Path(folder) / "index"
        if args.index:
            shutil.copytree(args.index, index_dir, symlinks=True)
            build_index(  # brings an index of an older seedsearch to this version (re-analysis, vectors reused)
                [Path(s) for s in __import__("json").loads((index_dir / "current" / "manifest.json").read_text())
                 ["extra"]["sources"]], index_dir, embedder, log=print,
            )
        else:
            build_index([SEEDS], index_dir, embedder)
        app = create_app(ServerSettings(api_key=KEY), encoder=EncoderSettings(index=index_dir), embedder=embedder)
        adds: dict[str, list[float]] = {"pdf": [], "html": [], "json": []}
        deletes: list[float] = []
        with TestClient(app) as client:
            for number in range(args.rounds):
                for (doc_id, request, sentence), kind in zip(uploads(number), adds, strict=True):
                    started = time.perf_counter()
                    response = client.post("/documents", headers={"X-API-Key": KEY}, **request)
                    assert response.status_code == 200, response.text
                    until(lambda d=doc_id, s=sentence: found(client, s, d))
                    adds[kind].append(time.perf_counter() - started)
                    started = time.perf_counter()
                    assert client.delete(f"/documents/{doc_id}", headers={"X-API-Key": KEY}).status_code == 200
                    until(lambda d=doc_id, s=sentence: not found(client, s, d))
                    deletes.append(time.perf_counter() - started)
        load = os.getloadavg()[0]
        print(f"\nindex: {args.index or 'seed index'}; rounds: {args.rounds}; load average {load:.1f}")
        print("| change | median s | max s | target |")
        print("| --- | --- | --- | --- |")
        for kind, times in adds.items():
            print(f"| add {kind}, until found | {statistics.median(times):.2f} | {max(times):.2f} | ≤ {TARGET_S} s |")
        print(f"| delete, until gone | {statistics.median(deletes):.2f} | {max(deletes):.2f} | |")


if __name__ == "__main__":
    main()
