"""Speaker phrases: the noun phrase next to a reporting verb, and the people a document has introduced."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from indexer.attribution.vocabulary import (
    ABBREVIATIONS,
    AGENT_NOUNS,
    CAP_STOP,
    DATE_WORDS_BEFORE,
    DETERMINERS,
    GIVEN_NAME_MONTHS,
    HONORIFICS,
    MODIFIERS,
    NUMBER,
    PARTICLES,
    POSSESSIVE_END,
    PREFIXED_NAME,
    PREPOSITIONS,
    PREV_WORD,
    TITLE_HEADS,
    TITLE_WORD_RE,
    TOKEN,
)
from indexer.entities import EntityMention, EntityResolver


@dataclass
class Person:
    name: str
    title: str | None
    affiliations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Speaker:
    name: str
    title: str | None
    affiliations: tuple[str, ...]
    kind: str  # "named" (a person with a name) | "person" (a titled official) | "group" | "entity" | "other"


@dataclass
class Doc:
    text: str
    masked: str
    resolver: EntityResolver
    mentions: list[EntityMention]
    mention_starts: list[int]
    sentences: list[tuple[int, int, int]]  # start, end, paragraph index
    sentence_starts: list[int]
    quotes: list[tuple[int, int]]
    people: dict[str, Person] = field(default_factory=dict)  # full name -> person
    surnames: dict[str, Person] = field(default_factory=dict)
    firsts: dict[str, Person] = field(default_factory=dict)  # first word of a name ("Xi" of "Xi Jinping")
    person_positions: list[tuple[int, str]] = field(default_factory=list)  # (offset, full name)
    officials: list[tuple[int, Speaker]] = field(default_factory=list)  # (offset, "a Kremlin spokesman"), unnamed


def tokens_of(text: str, offset: int) -> list[tuple[str, int, int]]:
    return [(m.group(), offset + m.start(), offset + m.end()) for m in TOKEN.finditer(text)]


def strip_possessive(tok: str) -> str:
    return POSSESSIVE_END.sub("", tok)


def is_cap(tok: str) -> bool:
    return tok[:1].isupper() and strip_possessive(tok.rstrip(".")) not in CAP_STOP


def month_as_given_name(word: str, before: str, after: str) -> bool:
    """Whether a month's name is a given name here: a capitalised name follows and no date word precedes it
    ("minister Jan Kowalski", "May Ng, an analyst", but "in May Britain", "on Jan 5")."""
    return (
        strip_possessive(word) in GIVEN_NAME_MONTHS
        and is_cap(after)
        and not NUMBER.match(after)
        and before.lower() not in DATE_WORDS_BEFORE
    )


def name_start_stopped(name_words: list[str], before: str) -> bool:
    """Whether a run of name words begins with a word that starts sentences or dates, not names."""
    first = strip_possessive(name_words[0])
    after = name_words[1] if len(name_words) > 1 else ""
    return first in CAP_STOP and not month_as_given_name(first, before, after)


def word_before(doc: Doc, pos: int) -> str:
    """The word just before offset ``pos`` ("" at the start of the text)."""
    found = PREV_WORD.search(doc.text, max(0, pos - 40), pos)
    return found.group(1).strip(",;:\"“”'‘’") if found else ""


def np_word(tok: str) -> bool:
    base = strip_possessive(tok)
    low = base.lower()
    return (
        is_cap(tok)
        or low in AGENT_NOUNS
        or low in MODIFIERS
        or base in PARTICLES
        or bool(PREFIXED_NAME.match(base))
        or base in HONORIFICS
        or bool(NUMBER.fullmatch(base))
    )


def entity_at(doc: Doc, start: int, end: int) -> EntityMention | None:
    i = bisect.bisect_right(doc.mention_starts, start) - 1
    if i >= 0 and doc.mentions[i].start <= start and end <= doc.mentions[i].end:
        return doc.mentions[i]
    return None


def end_of(token: tuple[str, int, int]) -> int:
    """End of a phrase's last token, leaving out a sentence full stop ("Trudeau." but "U.S." and "Gen.")."""
    tok, _, end = token
    if tok.endswith(".") and "." not in tok[:-1] and tok[:-1] not in ABBREVIATIONS and len(tok) > 2:
        return end - 1
    return end


def walk_back(doc: Doc, lo: int, hi: int) -> tuple[int, int] | None:
    """The span of the noun phrase that ends at ``hi`` (a speaker phrase before its verb), or None."""
    toks = tokens_of(doc.masked[lo:hi], lo)
    i = len(toks) - 1
    first = None
    while i >= 0:
        tok, s, _ = toks[i]
        prev = toks[i - 1][0] if i > 0 else ""
        if tok in ("'s", "’s", "'", "’") and first is not None:
            first = i
        elif np_word(tok) or entity_at(doc, s, toks[i][2]) is not None:
            first = i
        elif first == i + 1 and month_as_given_name(tok, prev, toks[i + 1][0]):
            first = i
        elif tok in DETERMINERS and first is not None:
            first = i
            if not (prev in PREPOSITIONS or prev in (",", "and")):
                break
        elif tok in PREPOSITIONS and first is not None and prev and (np_word(prev) or prev in AGENT_NOUNS):
            first = i
        elif tok in (",", "and") and first is not None and i > 0:
            j = first
            while j + 1 < len(toks) and toks[j][0] in DETERMINERS:
                j += 1
            after = toks[j]
            if not (entity_at(doc, after[1], after[2]) or (tok == "and" and is_cap(after[0]))):
                break
            if not (entity_at(doc, toks[i - 1][1], toks[i - 1][2]) or is_cap(prev)):
                break
            if tok == "," and not any(t[0] == "and" for t in toks[i:]):
                break  # a list ends in "and" ("France, Germany and Poland"); "According to X, Beijing" is no list
            first = i
        else:
            break
        i -= 1
    if first is None:
        return None
    while first < len(toks) and (toks[first][0] in PREPOSITIONS or toks[first][0] in (",", "and", "'s", "’s")):
        first += 1
    if first >= len(toks):
        return None
    return toks[first][1], end_of(toks[-1])


def walk_forward(doc: Doc, lo: int, hi: int) -> tuple[int, int] | None:
    """The span of the noun phrase that starts at ``lo`` (a speaker phrase after "said" or "according to")."""
    toks = tokens_of(doc.masked[lo:hi], lo)
    last = None
    for i, (tok, s, e) in enumerate(toks):
        nxt = toks[i + 1][0] if i + 1 < len(toks) else ""
        if tok in DETERMINERS and last is None:
            continue
        if np_word(tok) or entity_at(doc, s, e) is not None or (tok in ("'s", "’s") and last is not None):
            last = i
        elif tok in ("of", "for", "to") and last is not None and nxt and (np_word(nxt) or nxt in DETERMINERS):
            continue
        elif tok in DETERMINERS and last is not None and toks[i - 1][0] in ("of", "for", "to"):
            continue
        else:
            break
    if last is None:
        return None
    return toks[0][1], end_of(toks[last])


def register(doc: Doc, name: str, title: str | None, affiliations: list[str], pos: int) -> Person:
    """The person a name refers to, recorded at ``pos``: an earlier one with this surname or a new one.

    A shorter name that ends the full name introduced earlier is that person ("De Clercq" after "Willy De
    Clercq"); another full name with the same surname is someone else ("Anna Tusk" after "Donald Tusk").
    """
    person = doc.people.get(name) or doc.surnames.get(name.split()[-1].casefold())
    if person is None or (
        len(name.split()) > 1
        and person.name != name
        and len(person.name.split()) > 1
        and not person.name.endswith(f" {name}")
    ):
        person = Person(name, title, list(affiliations))
        doc.people[name] = person
        for key in surname_keys(name):
            doc.surnames.setdefault(key, person)
        if len(name.split()) > 1:
            doc.firsts.setdefault(name.split()[0], person)
    else:
        if len(name.split()) > len(person.name.split()):
            doc.people.pop(person.name, None)
            person.name = name
            doc.people[name] = person
        if title and not person.title:
            person.title = title
        elif title and person.title and title.lower() not in person.title.lower():
            person.title = f"{person.title}, {title}"
        person.affiliations.extend(a for a in affiliations if a not in person.affiliations)
    bisect.insort(doc.person_positions, (pos, person.name))
    return person


def surname_keys(name: str) -> list[str]:
    """Keys a later one-word mention may use: the last word, and without an Arabic article ("al-Shaheen")."""
    last = name.split()[-1]
    keys = [last.casefold()]
    if PREFIXED_NAME.match(last) and "-" in last:
        keys.append(last.split("-", 1)[1].casefold())
    return keys


def affiliations_in(doc: Doc, start: int, end: int) -> list[str]:
    ids: list[str] = []
    i = bisect.bisect_left(doc.mention_starts, start)
    while i < len(doc.mentions) and doc.mentions[i].start < end:
        if doc.mentions[i].end <= end:
            for eid in (doc.mentions[i].entity.id, *doc.resolver.parents(doc.mentions[i].entity.id)):
                if eid not in ids:
                    ids.append(eid)
        i += 1
    return ids


def is_name_word(word: str) -> bool:
    """A word of a person's name: capitalised, a particle ("von", "de") or particle-prefixed ("al-Chalabi")."""
    return word[:1].isupper() or word in PARTICLES or bool(PREFIXED_NAME.match(word))


def title_end(phrase: str) -> int:
    """Offset just after the last title word of a phrase ("French Chief of Defence Staff| Fabien Mandon").

    A name that has begun after a title ends the title: the "King" of "Governor Mervyn King" is a surname. An
    owner's name does not ("Prime Minister Margaret Thatcher's spokesman| Bernard Ingham").
    """
    end = 0
    in_name = False
    new_title = True  # words before a title qualify it ("Japanese Finance Minister")
    previous = ""
    for m in TITLE_WORD_RE.finditer(phrase):
        word = strip_possessive(m.group()).lower()
        after_honorific, previous = previous in HONORIFICS, m.group()
        if after_honorific:
            in_name = True  # "Mr King", "Dr Bishop": a name
        elif m.group(1) is not None or word in TITLE_HEADS or word.rsplit("-", 1)[-1] in TITLE_HEADS:
            if in_name:
                break
            end, new_title = m.end(), False
        elif POSSESSIVE_END.search(m.group()) or word == "and":
            in_name, new_title = False, True  # an owner, or a second person ("... Volcker and Japanese Minister")
        elif not new_title and m.group()[:1].isupper() and word not in MODIFIERS and word not in AGENT_NOUNS:
            in_name = True  # "Chief Cabinet Secretary" is one title
    return end


def known_person(doc: Doc, name: str) -> Person | None:
    """The person a one-word reference means: a surname ("Tusk", any case: "al-Chalabi"), else a family name ("Xi")."""
    return doc.surnames.get(name.casefold()) or doc.people.get(name) or doc.firsts.get(name)


def clean_title(title: str) -> str:
    words = [w for w in title.split() if w not in DETERMINERS]
    return " ".join(words).strip(" ,")


def mentions_in(doc: Doc, start: int, end: int) -> list[EntityMention]:
    i = bisect.bisect_left(doc.mention_starts, start)
    out = []
    while i < len(doc.mentions) and doc.mentions[i].start < end:
        out.append(doc.mentions[i])
        i += 1
    return out
