"""Answers: each ranked passage shown with the neighbouring passages of its run, one answer per run.

News paragraphs are often a single sentence: the lead names the speaker and the topic, the quote that answers
comes a paragraph or two later. Passages stay paragraph-sized for ranking (a precise match ranks first); what a
hit shows is the run of consecutive passages that holds the best one, up to `SearchOptions.answer_chars`
characters (`SearchStore.answer_windows`), and a run already shown is not shown again further down.

A who-said-what hit is different: the speaker's words are spread over the story (the lead says what they want, a
quote paragraphs later says it in their words), so its answer is the ranked passage with the other passages of
its story where the asked party speaks, nearest first, then its own run's neighbours as room allows, within the
same budget (:func:`speaker_run`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Set

from indexer.store import SearchStore, StoredPassage

#: Between the passages of one answer's text.
SEPARATOR = "\n\n"


def answer_runs(
    store: SearchStore, ranked: Sequence[int], k: int, max_chars: int
) -> list[tuple[int, tuple[StoredPassage, ...]]]:
    """The first `k` ranked passages whose runs are not taken yet, each with its run's passages in order.

    `max_chars` 0 gives each passage alone, as ranked.
    """
    if max_chars <= 0:
        found = store.passages(ranked[:k])
        return [(pid, (found[pid],)) for pid in ranked[:k] if pid in found]
    chosen: list[tuple[int, tuple[int, ...]]] = []
    taken: set[tuple[int, ...]] = set()
    start = 0
    while len(chosen) < k and start < len(ranked):
        batch = ranked[start : start + 2 * (k - len(chosen))]  # runs of a few more than still needed
        start += len(batch)
        runs = store.answer_windows(batch, max_chars)
        for pid in batch:
            run = runs.get(pid, (pid,))
            if run not in taken:
                taken.add(run)
                chosen.append((pid, run))
            if len(chosen) == k:
                break
    found = store.passages([member for _, run in chosen for member in run])
    return [(pid, tuple(found[m] for m in run if m in found)) for pid, run in chosen]


def run_text(run: Sequence[StoredPassage]) -> str:
    """What an answer shows: its passages' texts, one paragraph each."""
    return SEPARATOR.join(passage.text for passage in run)


def run_offsets(run: Sequence[StoredPassage]) -> list[int]:
    """Where each passage of `run` starts within `run_text(run)`."""
    offsets, at = [], 0
    for passage in run:
        offsets.append(at)
        at += len(passage.text) + len(SEPARATOR)
    return offsets


def statement_answers(
    store: SearchStore,
    ranked: Sequence[int],
    k: int,
    max_chars: int,
    statement_hits: Set[int],
    speaks: Callable[[StoredPassage], bool],
    asks_a_party: bool = False,
) -> list[tuple[int, tuple[StoredPassage, ...]]]:
    """`answer_runs`, where each statement hit shows its :func:`speaker_run` instead of its run; when the
    question asks what a party said (`asks_a_party`), so does any other hit whose run holds none of the party's
    words: a story's paragraph on the topic ranks, and the party's words on it sit further down the story.

    No passage is shown twice: a hit whose passage a higher answer shows is left out, and a run loses the
    passages shown above it. Plain runs cut a document into disjoint pieces, so without statement hits this is
    `answer_runs` itself.
    """
    if not statement_hits and not asks_a_party:
        return answer_runs(store, ranked, k, max_chars)
    wanted = 2 * k  # runs read; more when higher answers already showed too many of them
    while True:
        answers: list[tuple[int, tuple[StoredPassage, ...]]] = []
        shown: set[int] = set()
        runs = answer_runs(store, ranked, wanted, max_chars)
        for pid, run in runs:
            if pid in shown:
                continue
            if pid in statement_hits or (asks_a_party and not any(speaks(p) for p in run)):
                run = speaker_run(store, pid, run, speaks, max_chars)
            run = tuple(p for p in run if p.id not in shown)
            answers.append((pid, run))
            shown.update(p.id for p in run)
            if len(answers) == k:
                return answers
        if len(runs) < wanted:  # every ranked passage was read
            return answers
        wanted *= 2


#: How many passages on each side of a statement hit are searched for more of its speaker's words.
SPEAKER_CONTEXT = 12


def speaker_run(
    store: SearchStore,
    passage_id: int,
    run: tuple[StoredPassage, ...],
    speaks: Callable[[StoredPassage], bool],
    max_chars: int,
) -> tuple[StoredPassage, ...]:
    """The ranked passage with its story's other passages where the asked party speaks (``speaks``), nearest
    first, then the rest of its own run as room allows, in story order, at most ``max_chars`` together; ``run``
    when no other passage of the story has the party's words. Like a run, it stays within one section and page."""
    around = store.context(passage_id, SPEAKER_CONTEXT)
    ranked = next((p for p in around if p.id == passage_id), None)
    if ranked is None or max_chars <= 0:
        return run
    theirs = [
        p
        for p in around
        if p.id != passage_id and (p.section, p.page) == (ranked.section, ranked.page) and speaks(p)
    ]
    if not theirs:
        return run
    chosen, used = {ranked.id: ranked}, len(ranked.text)
    nearest_first = sorted(theirs, key=lambda p: (abs(p.position - ranked.position), p.position))
    neighbours = sorted(run, key=lambda p: (abs(p.position - ranked.position), p.position))
    for passage in (*nearest_first, *neighbours):
        if passage.id not in chosen and used + len(SEPARATOR) + len(passage.text) <= max_chars:
            chosen[passage.id] = passage
            used += len(SEPARATOR) + len(passage.text)
    return tuple(sorted(chosen.values(), key=lambda p: p.position))
