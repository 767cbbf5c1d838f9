"""The speaker grammar: who a speaker phrase names, with what title, speaking for which parties."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from indexer.attribution.phrases import (
    Doc,
    Speaker,
    affiliations_in,
    clean_title,
    is_name_word,
    known_person,
    mentions_in,
    name_start_stopped,
    register,
    strip_possessive,
    title_end,
    walk_back,
    word_before,
)
from indexer.attribution.vocabulary import (
    AGENT_NOUNS,
    APPOSITION_AFTER,
    AUX_TAIL,
    CLAUSE_PREPOSITIONS,
    CORPORATE,
    DEFINITE_SHORT_NAME,
    DETERMINERS,
    EARLIER_MENTION_WINDOW,
    HOLDER_SYNONYMS,
    HONORIFICS,
    LAST_WORD,
    LATER_NAME_WITH_CLAUSE,
    LONE_CAPITAL,
    MODIFIERS,
    NAME_RUN,
    NEWS_AGENCY,
    NEWS_HEADS,
    NEWS_KIND,
    NON_SPEAKER_HEADS,
    OWN_VOICES,
    PRONOUNS,
    SPEAKER_WINDOW,
    TIME_WORDS,
    TITLE_HEADS,
    TITLE_PHRASES,
    VERB_RE,
)


def analyse_phrase(doc: Doc, start: int, end: int, pos: int) -> Speaker | None:
    """Read a speaker phrase: name, title and affiliations, resolving "Mr X" and possessives.

    Three grammars, tried in order: "<owner>'s <head>", "<head> <preposition> <complement>", and a plain
    "<title> <name>" / "<name>" / "<entity>" / "<title>". News organisations report for no one, and places or
    economies never speak.
    """
    phrase = doc.text[start:end]
    if not phrase.split() or phrase in PRONOUNS or not_a_speaker(phrase):
        return None
    news = _news_speaker(doc, start, end)
    if news is not None:
        return news
    poss = re.search(r"['’]s\b", phrase)
    if poss and phrase[: poss.start()].split()[-1].lower() in TIME_WORDS:
        return analyse_phrase(doc, start + poss.end() + 1, end, pos)
    if poss:
        owner = analyse_phrase(doc, start, start + poss.start(), pos)
        if owner is not None:
            return _possessive_phrase(doc, start, end, pos, poss, owner)
    prep = _head_preposition(doc, start, phrase)
    if prep is not None:
        return _prepositional_phrase(doc, start, end, pos, prep)
    short = DEFINITE_SHORT_NAME.fullmatch(phrase.strip())
    named = _earlier_body(doc, short.group(1), pos) if short is not None else None
    if named is not None:  # "the Bank" after "the Bank of England"
        return Speaker(phrase.strip(), None, named, "entity")
    if CORPORATE.search(phrase) and not _ends_in_entity(doc, start, end):
        return Speaker(phrase.strip(), None, (), "other")  # "General Automation Inc", not "the European Central Bank"
    return _plain_phrase(doc, start, end, pos)


def _ends_in_entity(doc: Doc, start: int, end: int) -> bool:
    """Whether a known entity ends the phrase ("The International Monetary Fund"): a body, not a company."""
    return any(m.end == end for m in mentions_in(doc, start, end))


def not_a_speaker(phrase: str) -> bool:
    """Places, economies and markets are talked about, they do not talk: "the Cuban economy", "Guantanamo Bay"."""
    last = strip_possessive(phrase.split()[-1]).lower()
    return last in NON_SPEAKER_HEADS


def _news_speaker(doc: Doc, start: int, end: int) -> Speaker | None:
    """A newspaper, agency or broadcaster: it reports, so it speaks for no country ("The Beijing News")."""
    news = [m for m in mentions_in(doc, start, end) if m.end <= end and m.entity.kind == NEWS_KIND]
    words = [strip_possessive(w).lower() for w in doc.text[start:end].split()]
    if not news and not (words and words[-1] in NEWS_HEADS) and not NEWS_AGENCY.search(doc.text[start:end]):
        return None
    phrase = doc.text[start:end].strip()
    return Speaker(phrase, None, tuple(dict.fromkeys(m.entity.id for m in news)), "news")


def _possessive_phrase(doc: Doc, start: int, end: int, pos: int, poss: re.Match[str], owner: Speaker) -> Speaker:
    """ "Mr Mandon's office", "Nato's senior commander", "Poland's foreign ministry", "Spain's Pedro Sanchez"."""
    phrase = doc.text[start:end]
    head = phrase[poss.end() :].strip()
    voice = head.lower().split()
    while len(voice) > 1 and voice[0] in MODIFIERS:
        voice = voice[1:]  # "Mr Blair's official spokesman"
    if owner.kind == "named" and " ".join(voice) in OWN_VOICES:
        return owner
    named = titled_name(doc, start + poss.end(), end, pos, phrase[: poss.end()], owner.affiliations)
    if named is not None:
        return named
    kind = "other" if owner.kind == "other" else ("person" if title_end(head) else owner.kind)
    return Speaker(phrase.strip(), phrase.strip(), owner.affiliations, kind)


def _head_preposition(doc: Doc, start: int, phrase: str) -> re.Match[str] | None:
    """The first preposition outside a title or a name ("leaders of France", not "the Bank of Japan")."""
    low = phrase.lower()
    names = [(m.start - start, m.end - start) for m in mentions_in(doc, start, start + len(phrase))]
    for m in re.finditer(r"\s(of|for|from|to|in|at|by)\s", phrase):
        in_title = any(t in low and low.index(t) < m.start() < low.index(t) + len(t) for t in TITLE_PHRASES)
        if not in_title and not any(s < m.start() < e for s, e in names):
            return m
    return None


def _prepositional_phrase(doc: Doc, start: int, end: int, pos: int, prep: re.Match[str]) -> Speaker:
    """ "leaders of France, Germany ...", "an adviser to Mr Macron", "Kevin Boakes of Greenwell Montagu"."""
    phrase = doc.text[start:end]
    head = phrase[: prep.start()].strip()
    comp_start = start + prep.end()
    related = analyse_phrase(doc, comp_start, end, pos) if prep.group(1) in ("to", "for", "of") else None
    affiliations = affiliations_in(doc, start, start + prep.start())
    if (
        prep.group(1) in ("of", "for", "from", "by")
        or (prep.group(1) == "to" and re.search(r"advis|aide|spokes|assistant|secretary", head.lower()))
        or (prep.group(1) == "in" and re.search(r"(officials|sources|authorities|government|police)$", head, re.I))
    ):
        for a in affiliations_in(doc, comp_start, end) + list(related.affiliations if related else ()):
            if a not in affiliations:
                affiliations.append(a)
    head_words = head.split()
    if (
        len(head_words) >= 2
        and not name_start_stopped(head_words, word_before(doc, start))
        and not CORPORATE.search(head)
        and not title_end(head)
        and all(is_name_word(w) for w in head_words)
        and not mentions_in(doc, start, start + prep.start())
    ):  # a named person and where they work
        person = register(doc, head, clean_title(phrase[prep.start() :]), affiliations, pos)
        return Speaker(person.name, person.title, tuple(person.affiliations), "named")
    countries = [a for a in affiliations if a.startswith("country:")]
    kind = "group" if len(countries) > 1 or head.endswith("s") else "person"
    return Speaker(phrase.strip(), clean_title(head) or None, tuple(affiliations), kind)


def _plain_phrase(doc: Doc, start: int, end: int, pos: int) -> Speaker | None:
    """ "<title> <name>", "<name>" (a later mention), "<entity>" or "<title>"."""
    phrase = doc.text[start:end]
    t_end = title_end(phrase)
    title_part, name_part = phrase[:t_end].strip(), phrase[t_end:].strip()
    name_words = [w for w in name_part.split() if w not in HONORIFICS]
    mention_in_name = [m for m in mentions_in(doc, start + t_end, end) if m.end <= end]
    if name_words and not mention_in_name and all(is_name_word(w) for w in name_words):
        return _named_person(doc, start, end, pos, t_end, name_words)
    affiliations = affiliations_in(doc, start, end)
    only_entities = re.sub(r"\b(the|The)\b", "", phrase).strip()
    if mention_in_name and not title_part and any(m.surface == only_entities for m in mention_in_name):
        return Speaker(only_entities, None, tuple(affiliations), "entity")
    last = phrase.split()[-1]
    if title_part and not name_part:
        earlier = _earlier_holder(doc, phrase, pos, affiliations)
        if earlier is not None:  # "the minister said", "the Libyan leader insisted": the one named earlier
            return earlier
        kind = "group" if last.endswith("s") and last.lower() != "chancellor" else "person"
        return Speaker(phrase.strip(), clean_title(phrase), tuple(affiliations), kind)
    if any(strip_possessive(w).lower() in AGENT_NOUNS for w in phrase.split()) or affiliations:
        kind = "group" if len([a for a in affiliations if a.startswith("country:")]) > 1 else "other"
        return Speaker(phrase.strip(), None, tuple(affiliations), kind)
    if name_words and all(w[:1].isupper() for w in name_words):
        return Speaker(phrase.strip(), None, tuple(affiliations), "other")
    return None


def _earlier_body(doc: Doc, word: str, pos: int) -> tuple[str, ...] | None:
    """The ids of the nearest body named earlier whose name holds `word` ("Bank" -> Bank of England)."""
    for m in reversed(mentions_in(doc, max(0, pos - EARLIER_MENTION_WINDOW), pos)):
        if m.entity.kind not in ("country", NEWS_KIND) and word in m.entity.name.split() + m.surface.split():
            return (m.entity.id, *doc.resolver.parents(m.entity.id))
    return None


def _earlier_holder(doc: Doc, phrase: str, pos: int, affiliations: Sequence[str] = ()) -> Speaker | None:
    """Who a definite later mention means: the nearest earlier person or unnamed official holding the title.

    "the minister" is the minister named earlier, "the Libyan leader" the earlier Libyan whose title is a
    leader's ("Libyan leader Col Muammar Gaddafi"), "the spokesman" the earlier "Kremlin spokesman". A country
    in the mention must be one the earlier holder speaks for.
    """
    words = phrase.split()
    if words[0] not in ("the", "The") or len(words) > 4 or words[-1].lower().endswith("s"):
        return None
    heads = HOLDER_SYNONYMS.get(words[-1].lower(), (words[-1].lower(),))
    countries = {a for a in affiliations if a.startswith("country:")}

    def holds(title: str | None, held: Sequence[str]) -> bool:
        text = f" {(title or '').lower()} "
        return any(f" {h} " in text or f" {h}," in text for h in heads) and countries <= set(held)

    best: tuple[int, Speaker] | None = None
    i = bisect.bisect_left(doc.person_positions, (pos, "")) - 1
    while i >= 0 and pos - doc.person_positions[i][0] < EARLIER_MENTION_WINDOW:
        person = doc.people.get(doc.person_positions[i][1])
        if person is not None and holds(person.title, person.affiliations):
            best = (doc.person_positions[i][0], Speaker(person.name, person.title, tuple(person.affiliations), "named"))
            break
        i -= 1
    for at, official in reversed(doc.officials):
        if at < pos and pos - at < EARLIER_MENTION_WINDOW and holds(official.title, official.affiliations):
            if best is None or at > best[0]:
                best = (at, official)
            break
    return best[1] if best else None


def _named_person(doc: Doc, start: int, end: int, pos: int, t_end: int, name_words: list[str]) -> Speaker:
    """A person by name, with the title before it; a lone surname is the person introduced earlier."""
    phrase = doc.text[start:end]
    title_part = phrase[:t_end].strip()
    name = strip_possessive(" ".join(name_words))
    if len(name_words) == 1 and not title_part:
        known = known_person(doc, name)
        if known:
            bisect.insort(doc.person_positions, (pos, known.name))
            return Speaker(known.name, known.title, tuple(known.affiliations), "named")
        if phrase[t_end:].split()[0] in HONORIFICS:
            return Speaker(name, None, (), "named")
        return Speaker(name, None, tuple(affiliations_in(doc, start, end)), "other")
    affiliations = affiliations_in(doc, start, start + t_end) if title_part else []
    person = register(doc, name, clean_title(title_part) or None, affiliations, pos)
    return Speaker(person.name, person.title, tuple(person.affiliations), "named")


def titled_name(
    doc: Doc, start: int, end: int, pos: int, owner_text: str, owner_affiliations: Sequence[str]
) -> Speaker | None:
    """A "<title> <Name>" or "<Name>" phrase naming a person, registered with the owner's affiliations."""
    phrase = doc.text[start:end]
    t_end = title_end(phrase)
    name_words = [w for w in phrase[t_end:].split() if w not in HONORIFICS]
    if not name_words or not all(is_name_word(w) for w in name_words):
        return None
    before = phrase[:t_end].split()[-1] if t_end else ""
    if name_start_stopped(name_words, before) or any(m.end <= end for m in mentions_in(doc, start + t_end, end)):
        return None
    if len(name_words) < 2 and not t_end and not owner_text:
        return None
    title = clean_title(f"{owner_text} {phrase[:t_end]}") if t_end else None
    affiliations = list(owner_affiliations)
    affiliations += [a for a in affiliations_in(doc, start, start + t_end) if a not in affiliations]
    name = strip_possessive(" ".join(name_words))
    known = known_person(doc, name) if len(name_words) == 1 else None
    person = register(doc, known.name if known else name, title, affiliations, pos)
    return Speaker(person.name, person.title, tuple(person.affiliations), "named")


def scan_people(doc: Doc) -> None:
    """Register everyone introduced with a name and a title before, after or around it.

    "French Chief of Defence Staff Fabien Mandon", "Steve Smith, the Australian trade minister,", "The chairman of
    the Federal Reserve Board, Paul Volcker,", "Gurria, who is Mexico's chief debt negotiator".
    """
    for m in NAME_RUN.finditer(doc.masked):
        introduced = _introduced_name(doc, m)
        if introduced is None:
            continue
        s, e, name, title = introduced
        affiliations = affiliations_in(doc, s, s + len(title)) if title else []
        clause = None if title else _title_clause_before(doc, s)
        for span in (_apposition_after(doc, e), _apposition_before(doc, s), clause):
            if span is None:
                continue
            extra = clean_title(doc.text[span[0] : span[1]])
            title = f"{title}, {extra}" if title else extra
            affiliations += [a for a in affiliations_in(doc, *span) if a not in affiliations]
        register(doc, name, title or None, affiliations, s)
    for m in LATER_NAME_WITH_CLAUSE.finditer(doc.masked):  # "said Gurria, who is Mexico's chief debt negotiator"
        known = known_person(doc, strip_possessive(m.group(1)))
        span = _apposition_after(doc, m.end(1)) if known else None
        if known and span:
            register(doc, known.name, clean_title(doc.text[span[0] : span[1]]), affiliations_in(doc, *span), m.start())
    _later_surnames(doc)
    _described_subjects(doc)


# "The Ukrainian leader, who ..., was scathing": a sentence opening on a definite description of someone.
DESCRIBED_SUBJECT = re.compile(r"[Tt]he\s+(?:[A-Z][\w'’-]*\s+){0,2}([a-z]+)\b")


def _described_subjects(doc: Doc) -> None:
    """Record sentences whose subject is a person described by their title ("The Ukrainian leader ..."), so a
    "he said" that follows goes to that person rather than to someone who spoke before."""
    for s_start, s_end, _para in doc.sentences:
        at = s_start + len(doc.masked[s_start:s_end]) - len(doc.masked[s_start:s_end].lstrip())
        m = DESCRIBED_SUBJECT.match(doc.masked, at, s_end)
        if m is None or (m.group(1) not in TITLE_HEADS and m.group(1) not in HOLDER_SYNONYMS):
            continue
        holder = _earlier_holder(doc, doc.text[at : m.end()], at, affiliations_in(doc, at, m.end()))
        if holder is not None and holder.kind == "named":
            bisect.insort(doc.person_positions, (at, holder.name))


def _later_surnames(doc: Doc) -> None:
    """Record where a person introduced earlier is named again by one word ("Tian took the opposite view").

    A later "he said" then goes to the person named last, not to one named before them.
    """
    earliest: dict[str, int] = {}
    for pos, name in doc.person_positions:
        earliest[name] = min(pos, earliest.get(name, pos))
    for m in LONE_CAPITAL.finditer(doc.masked):
        known = known_person(doc, strip_possessive(m.group()))
        if known is not None and earliest.get(known.name, m.start()) < m.start():
            bisect.insort(doc.person_positions, (m.start(), known.name))


def _introduced_name(doc: Doc, m: re.Match[str]) -> tuple[int, int, str, str] | None:
    """(start, end, name, title as written) of a titled or full name at a run of capitalised words."""
    span = walk_back(doc, max(0, m.start() - 80), m.end())
    if span is None:
        return None
    sentence_start = doc.sentences[max(0, bisect.bisect_right(doc.sentence_starts, m.start()) - 1)][0]
    s, e = max(span[0], sentence_start), span[1]
    phrase = doc.text[s:e]
    t_end = title_end(phrase)
    name_words = [w for w in phrase[t_end:].split() if w not in HONORIFICS]
    if not name_words or not all(is_name_word(w) for w in name_words):
        return None
    if name_start_stopped(name_words, phrase[:t_end].split()[-1] if t_end else word_before(doc, s)):
        return None
    if any(mm.start >= s + t_end and mm.end <= e for mm in mentions_in(doc, s, e)):
        return None
    if len(name_words) < 2 and not t_end:
        if phrase.split()[0] in HONORIFICS:  # "Mr Mandon": a later mention, not an introduction
            name = strip_possessive(name_words[0])
            known = known_person(doc, name)
            bisect.insort(doc.person_positions, (s, known.name if known else name))
        return None
    title = phrase[:t_end].strip()
    second = _second_of_two_people(phrase[:t_end])
    if second is not None:  # "Federal Reserve Chairman Paul Volcker and Japanese Finance Minister Kiichi Miyazawa"
        return s + second, e, strip_possessive(" ".join(name_words)), phrase[second:t_end].strip()
    return (
        s + (len(phrase[:t_end]) - len(phrase[:t_end].lstrip()) if title else 0),
        e,
        strip_possessive(" ".join(name_words)),
        title,
    )


def _second_of_two_people(title: str) -> int | None:
    """Where the second title starts in "<title> <Name> and <title>" (the first person's title is not ours)."""
    for m in reversed(list(re.finditer(r"\s(?:and|&)\s", title))):
        before = title[: m.start()]
        t_end = title_end(before)
        names = before[t_end:].split()
        if t_end and names and all(is_name_word(w) and w[:1].isupper() for w in names) and title_end(title[m.end() :]):
            return m.end()
    return None


def _apposition_after(doc: Doc, end: int) -> tuple[int, int] | None:
    """The span of a title set off after a name: ", the Australian trade minister," / ", who is Mexico's ..."."""
    app = APPOSITION_AFTER.match(doc.masked, end, min(len(doc.masked), end + 110))
    if app is None or not title_end(app.group(1)) or app.group(1).split()[0].endswith("ing"):
        return None  # no title, or a clause ("speaking at a meeting of farm ministers")
    if app.group(1).split()[0].lower() in CLAUSE_PREPOSITIONS:
        return None  # "al-Chalabi, who is in Caracas for a meeting of the OPEC Fund Board of Governors": a place
    if VERB_RE.search(app.group(1)):
        return None  # "... Yasuhiro Nakasone, a Treasury spokesman said.": the spokesman speaks, not his title
    return app.start(1), app.end(1)


def _apposition_before(doc: Doc, start: int) -> tuple[int, int] | None:
    """The span of a title phrase set off before a name: "The chairman of the Federal Reserve Board, <name>,"."""
    if not (start >= 2 and doc.masked[start - 2 : start] == ", "):
        return None
    span = walk_back(doc, max(0, start - 120), start - 2)
    if span is None:
        return None
    phrase = doc.text[span[0] : span[1]]
    t_end = title_end(phrase)
    if not t_end or any(w[:1].isupper() and w.lower() not in TITLE_HEADS for w in phrase[t_end:].split()[:1]):
        return None
    return span


def _title_clause_before(doc: Doc, start: int) -> tuple[int, int] | None:
    """A lower-case title clause run into the name: "director general of the Dutch Economics Ministry's foreign
    affairs division Frans Engering said" (from the clause's start, a title word, to the name)."""
    lo = max(0, start - 120)
    boundary = max(doc.masked.rfind(ch, lo, start) for ch in ',;:.(\x1f"“”\n')
    if boundary < 0 and lo > 0:
        return None
    clause_start = max(boundary + 1, lo)
    clause = doc.masked[clause_start:start]
    words = clause.split()
    while words and words[0] in DETERMINERS:
        words = words[1:]
    if not words or words[0] not in TITLE_HEADS or len(words) > 14 or not doc.masked[start - 1 : start].isspace():
        return None  # starts with a lower-case title word ("director", "head"), else no title
    if VERB_RE.search(clause):  # "A spokesman said Niagara Mohawk had ...": a clause, not a title
        return None
    offset = clause_start + len(clause) - len(clause.lstrip())
    return offset, start - 1


def speaker_before(doc: Doc, sent_start: int, verb_start: int) -> tuple[Speaker | None, str, str]:
    """The speaker phrase before a verb: (speaker, pronoun if the subject is one, the text left of it)."""
    lo = max(sent_start, verb_start - SPEAKER_WINDOW)
    left = doc.masked[lo:verb_start].rstrip()
    tail = AUX_TAIL.search(left, max(0, len(left) - 60))
    stripped = left[: tail.start()].rstrip() if tail else left
    if tail and tail.group().lstrip().startswith(","):  # "Kuwait, a target of ..., today rejected": keep the comma
        stripped += ","
    hi = lo + len(stripped)
    last_word = LAST_WORD.search(stripped, max(0, len(stripped) - 20))
    if last_word and last_word.group(1) in PRONOUNS:
        return None, last_word.group(1), stripped
    if stripped.endswith(","):
        app = re.search(r",([^,\x1f“”\"]{2,100}),$", stripped)
        if app is None:
            return None, "", stripped
        before = walk_back(doc, lo, lo + app.start())
        a_lo = lo + app.start(1) + len(app.group(1)) - len(app.group(1).lstrip())
        inner = titled_name(doc, a_lo, lo + app.end(1), a_lo, "", ())
        if inner is not None:  # "the government's top spokesman, Chief Cabinet Secretary X Y, told"
            extra = affiliations_in(doc, before[0], before[1]) if before else []
            person = register(doc, inner.name, None, extra, a_lo)
            return Speaker(person.name, person.title, tuple(person.affiliations), "named"), "", stripped
        speaker = analyse_phrase(doc, before[0], before[1], before[0]) if before else None
        if speaker is None or before is None:
            return None, "", stripped
        if speaker.kind != "named":  # "Kuwait, a target of Iranian anger, today rejected": the subject speaks
            speaks = speaker.kind in ("entity", "news") or bool(speaker.affiliations)
            return (speaker if speaks else None), "", stripped
        title_text = app.group(1).strip()
        first = title_text.split()[0]
        if title_end(title_text) and not first.endswith("ing") and first.lower() not in CLAUSE_PREPOSITIONS:
            extra = affiliations_in(doc, a_lo, lo + app.end(1))
            person = register(doc, speaker.name, clean_title(title_text), extra, before[0])
            speaker = Speaker(person.name, person.title, tuple(person.affiliations), "named")
        return speaker, "", stripped
    span = walk_back(doc, lo, hi)
    if span is None:
        return None, "", stripped
    return analyse_phrase(doc, span[0], span[1], span[0]), "", stripped
