"""Where the tests find their data: the repository's seeds and the shared datasets beside the repository.

`../shared` is found from the repository root, never from a machine's absolute path. Tests that need a shared
file ask for it through `shared_file`, which skips them with the reason when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SHARED = REPO.parent / "shared"
SEED_QUESTIONS = SHARED / "eval" / "seed_questions.jsonl"
DATASETS = SHARED / "datasets"
REUTERS = DATASETS / "reuters21578" / "reuters.jsonl"
SCIFACT = DATASETS / "scifact"


def shared_file(path: Path) -> Path:
    """`path` when it exists; otherwise skip the test, saying what is missing and where it was looked for."""
    if not path.exists():
        pytest.skip(f"{path.relative_to(SHARED.parent)} is absent: the shared data folder {SHARED} is not mounted")
    return path
