"""The synthetic collection-scale index (benchmarks/bench_synthetic.py) is a real index the product opens."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.bench_synthetic import ID_STRIDE, generate
from indexer.local_store import LocalStore
from indexer.store import LexicalQuery, PassageFilter
from search_api.engine import SearchEngine


def test_generated_copies_are_searchable_perturbed_passages_with_noisy_vectors(
    fake_index: Path, fake_embedder, tmp_path: Path
) -> None:
    source = LocalStore(fake_index)
    count = source.manifest.passages
    wanted = 3 * count
    generate(fake_index, tmp_path / "synthetic", wanted, seed=0, log=lambda message: None)
    store = LocalStore(tmp_path / "synthetic")
    assert store.manifest.passages == wanted  # whole copies of every source document
    assert store.manifest.extra["synthetic"]["copies"] == 3
    assert set(store.ids.tolist()) == {c * ID_STRIDE + int(i) for c in range(3) for i in source.ids}
    original = source.passages([int(source.ids[0])])[int(source.ids[0])]
    copies = store.passages([c * ID_STRIDE + original.id for c in range(3)])
    assert copies[original.id].text == original.text  # copy 0 is the original
    assert copies[ID_STRIDE + original.id].text != original.text  # later copies are perturbed...
    assert copies[ID_STRIDE + original.id].doc_id == f"{original.doc_id}~1"  # ...in documents of their own
    row = {int(i): r for r, i in enumerate(store.ids)}
    near = float(store.vectors[row[original.id]] @ store.vectors[row[ID_STRIDE + original.id]])
    assert 0.7 < near < 0.9999  # close to the source vector, not equal to it
    assert np.allclose(np.linalg.norm(store.vectors[:10], axis=1), 1.0, atol=1e-5)
    found = store.lexical(LexicalQuery(("cocoa", "arrivals")), 50, PassageFilter())
    assert {pid // ID_STRIDE for pid in found.passages} == {0, 1, 2}  # every copy is in the lexical index
    hits = SearchEngine(store, fake_embedder).search("cocoa arrivals in Bahia", k=3).hits
    assert hits
    store.close()
    source.close()
