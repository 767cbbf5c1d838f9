"""Who said what in one document: reporting verbs, their speakers, and quotes attached to a speaker."""

from __future__ import annotations

import bisect
import re
from collections import Counter

from indexer.attribution.phrases import Doc, Speaker, known_person, mentions_in, strip_possessive, walk_forward
from indexer.attribution.speakers import analyse_phrase, scan_people, speaker_before
from indexer.attribution.statement import Statement
from indexer.attribution.text import document_sentences, find_quotes, mask_quotes, paragraph_breaks, unwrap_lines
from indexer.attribution.vocabulary import (
    ACTION_VERBS,
    BASE_OK_BEFORE,
    DETERMINERS_LOWER,
    GOVERNMENT_HEADS,
    MARKET_ROLES,
    MEMBER_TITLES,
    NOT_A_PERSON_HEADS,
    PASSIVE_BEFORE,
    PORTFOLIO_WORDS,
    PREV_WORD,
    PRONOUNS,
    QUOTED_AS_SAYING,
    REFERS_BACK,
    SECRETARY_CABINETS,
    SPEECH_QUOTE_WORDS,
    TITLE_HEADS,
    VERB_RE,
    VERBS_BASE,
)
from indexer.data.institutions import CENTRAL_BANK, INSTITUTIONS, OFFICIAL_OPPOSITION, official_opposition
from indexer.entities import EntityResolver


def verb_allowed(doc: Doc, match: re.Match[str]) -> bool:
    verb = match.group()
    before = PREV_WORD.search(doc.masked, max(0, match.start() - 30), match.start())
    prev = before.group(1) if before else ""
    if prev.lower() in PASSIVE_BEFORE and not re.search(r"(to|of|from)$", verb):
        return False
    head = verb.split()[0]
    if head in VERBS_BASE or head == "call":
        return prev.lower() in BASE_OK_BEFORE or prev.endswith("s")
    return True


def attribute_statements(
    text: str, resolver: EntityResolver | None = None, published: str | None = None
) -> list[Statement]:
    """Statements in a document, in order, each with its speaker, title and affiliations.

    Args:
        text: the whole document text (offsets in the result point into it).
        resolver: entity resolver; the packaged default when None.
        published: the document's ISO date, when known (it dates "shadow" titles, see `with_opposition_party`).

    Returns:
        One statement per sentence and speaker; quotes without a speaker of their own take the speaker of the
        statement just before them (or just after, when none is before).
    """
    doc = read_document(text, resolver or EntityResolver.default())
    by_sentence: dict[int, list[Statement]] = {}
    for index, matches in sorted(_verbs_by_sentence(doc).items()):
        previous = [st for i in (index - 2, index - 1) for st in by_sentence.get(i, [])]
        found = _sentence_statements(doc, index, matches, previous)
        if found:
            by_sentence[index] = found
    home = home_country(doc)
    statements = with_home_government(doc, with_governed_bank(doc, attach_quotes(doc, by_sentence)), home)
    return with_opposition_party(doc, statements, home, published)


def read_document(text: str, resolver: EntityResolver) -> Doc:
    """The document's paragraphs, quotes, sentences, entity mentions and the people it introduces."""
    text = unwrap_lines(text)
    paragraphs = paragraph_breaks(text)
    quotes = find_quotes(text, paragraphs)
    sentences = document_sentences(text, paragraphs, quotes)
    mentions = resolver.find(text)
    doc = Doc(
        text,
        mask_quotes(text, quotes),
        resolver,
        mentions,
        [m.start for m in mentions],
        sentences,
        [s[0] for s in sentences],
        quotes,
    )
    scan_people(doc)
    doc.person_positions.sort()
    return doc


def _verbs_by_sentence(doc: Doc) -> dict[int, list[re.Match[str]]]:
    """Reporting verbs outside quotes, grouped by the sentence they stand in."""
    verbs: dict[int, list[re.Match[str]]] = {}
    for match in VERB_RE.finditer(doc.masked):
        index = bisect.bisect_right(doc.sentence_starts, match.start()) - 1
        if index >= 0 and match.end() <= doc.sentences[index][1]:
            verbs.setdefault(index, []).append(match)
    return verbs


def _sentence_statements(
    doc: Doc, index: int, matches: list[re.Match[str]], previous: list[Statement]
) -> list[Statement]:
    """One statement per speaker of a sentence's reporting verbs."""
    s_start, s_end, _para = doc.sentences[index]
    in_sentence: list[Statement] = []
    for match in matches:
        if not verb_allowed(doc, match):
            continue
        speaker = find_speaker(doc, match, s_start, s_end, previous, in_sentence)
        if speaker is None or any(x.speaker == speaker.name for x in in_sentence):
            continue
        if match.group() in ACTION_VERBS and not acts_for_a_party(speaker):
            continue
        if speaker.kind == "person" and speaker.title and speaker.affiliations and speaker.name not in doc.people:
            doc.officials.append((match.start(), speaker))  # "a Kremlin spokesman": "the spokesman" later
        verb = " ".join(match.group().split())
        span_start = quote_start(doc, s_start)
        in_sentence.append(make_statement(speaker.name, speaker.title, speaker.affiliations, span_start, s_end, verb))
    return in_sentence


def acts_for_a_party(speaker: Speaker) -> bool:
    """Whether an action by this speaker is a party's act: a government, body or official with a party."""
    return speaker.kind != "news" and bool(speaker.affiliations)


GOVERNOR = "governor"
# Each country's central bank (the first the table lists for it): "Japan's central bank" is the Bank of Japan.
CENTRAL_BANKS = {
    country: bank.id
    for bank in reversed(INSTITUTIONS)
    if bank.kind == CENTRAL_BANK
    for country in bank.parents
    if country.startswith("country:")
}

# How far back (characters) an unqualified government speaker looks for the party that was just speaking.
CONTEXT_PARTY_WINDOW = 400


def with_home_government(doc: Doc, statements: list[Statement], home: str | None) -> list[Statement]:
    """Give unqualified national-government speakers the country the document is about, marked as implied.

    "the Foreign Ministry said", "Treasurer Paul Keating said" name no country: in news they are the government
    of the country the story is about (its dateline), read here as the country the document names most often
    (at least twice, and more often than any other). Kept apart from the affiliations the text attaches. A
    "Secretary" ("Commerce Secretary Malcolm Baldrige") sits only in a cabinet whose ministers have that title
    (`vocabulary.SECRETARY_CABINETS`): in a story about Japan's trade he is no Japanese minister. `home` is
    `home_country(doc)`.
    """
    out: list[Statement] = []
    for st in statements:
        if not st.affiliations and is_government_title(st.title or st.speaker):
            party = _party_just_before(doc, out, st) or home
            if party not in SECRETARY_CABINETS and _titled_secretary(st.title or st.speaker):
                party = None
            if party is not None:
                st = st.model_copy(update={"implied": (party,)})
        out.append(st)
    return out


def _title_words(title: str) -> list[str]:
    """A title's words, lower-cased, possessives and hyphens taken off ("Vice-Premier" is "vice", "premier")."""
    return [strip_possessive(w).lower().strip(",") for w in re.split(r"[\s-]+", title) if w]


def _titled_secretary(title: str) -> bool:
    words = set(_title_words(title))
    return bool(words & {"secretary", "undersecretary"}) and not words & {"minister", "ministry", "premier"}


def with_governed_bank(doc: Doc, statements: list[Statement]) -> list[Statement]:
    """Give a "Governor" with no body named the central bank the story named last before it, marked as implied.

    "The Bank of England left rates unchanged. ... Governor Mervyn King said": the governor is the bank's.
    """
    out: list[Statement] = []
    for st in statements:
        title = [strip_possessive(w).lower() for w in (st.title or "").split()]
        if not st.affiliations and GOVERNOR in title and all(w == GOVERNOR or w in PORTFOLIO_WORDS for w in title):
            banks = [m.entity.id for m in mentions_in(doc, 0, st.start) if m.entity.kind == CENTRAL_BANK]
            if banks:
                st = st.model_copy(update={"implied": (banks[-1], *doc.resolver.parents(banks[-1]))})
        out.append(st)
    return out


def with_opposition_party(
    doc: Doc, statements: list[Statement], home: str | None, published: str | None
) -> list[Statement]:
    """Give "shadow" ministers without a stated party the party of their country's Official Opposition.

    "Shadow chancellor Oliver Letwin said" names no party; a shadow title is held by the Official Opposition's
    frontbench. Its party is the one the document states for another shadow minister ("Tory shadow home
    secretary"), else the one that held the opposition on the document's date (the build reads an undated
    document as current news); with no date and no such statement, none. The country is the speaker's, else
    the document's, else the one whose parties it names (else the table's only country).
    """
    shadow = [st for st in statements if _is_shadow_title(st.title)]
    if not shadow:
        return statements
    country = _opposition_country(doc, shadow, home)
    if country is None:
        return statements
    stated = Counter(a for st in shadow for a in st.affiliations if a.startswith(_party_prefix(country)))
    party = stated.most_common(1)[0][0] if stated else official_opposition(country, published or "")
    if party is None:
        return statements
    return [
        st.model_copy(update={"implied": (*st.implied, party)})
        if st in shadow and not any(a.startswith("party:") for a in (*st.affiliations, *st.implied))
        else st
        for st in statements
    ]


def _is_shadow_title(title: str | None) -> bool:
    return bool(title) and "shadow" in re.findall(r"[a-z]+", (title or "").lower())


def _opposition_country(doc: Doc, shadow: list[Statement], home: str | None) -> str | None:
    """The country whose Official Opposition the document's shadow ministers sit in, among the table's."""
    stated = {a for st in shadow for a in st.affiliations if a in OFFICIAL_OPPOSITION}
    if len(stated) == 1:
        return stated.pop()
    if home in OFFICIAL_OPPOSITION:
        return home
    named = {c for c in OFFICIAL_OPPOSITION if any(m.entity.id.startswith(_party_prefix(c)) for m in doc.mentions)}
    if len(named) == 1:
        return named.pop()
    return next(iter(OFFICIAL_OPPOSITION)) if len(OFFICIAL_OPPOSITION) == 1 and not named else None


def _party_prefix(country: str) -> str:
    return f"party:{country.removeprefix('country:')}-"


def _party_just_before(doc: Doc, earlier: list[Statement], current: Statement) -> str | None:
    """The country (else government body) of the statement just before in the same paragraph, when the text
    named its party and it is near.

    "Kuwait today rejected charges ... "...," the Foreign Ministry said": the ministry is the one of the party
    that was just speaking, not that of the country the story names most (Iran, whose charges are reported). A
    political party is no government. A paragraph that opens with a quote answers the one before; one that
    opens on a new speaker ("French President Jacques Chirac said ...", then "Foreign Secretary Jack Straw told
    MPs") no longer hears the party that was just speaking.
    """
    paragraph = _paragraph_at(doc, current.start)
    opens_with_quote = doc.text[current.start : current.start + 1] in "\"“'‘"
    for st in reversed(earlier):
        if current.start - st.end > CONTEXT_PARTY_WINDOW:
            return None
        if not opens_with_quote and _paragraph_at(doc, max(st.start, st.end - 1)) != paragraph:
            return None
        same_speaker = st.speaker.lower() == current.speaker.lower()
        stated = st.affiliations or (st.implied if same_speaker else ())
        parties = [a for a in stated if not a.startswith(("news:", "party:"))]
        if not parties or any(a.startswith("news:") for a in st.affiliations):
            continue
        countries = [a for a in parties if a.startswith("country:")]
        if len(countries) > 1:
            continue  # a joint statement names no one government
        return countries[0] if countries else parties[0]
    return None


def _paragraph_at(doc: Doc, pos: int) -> int:
    return doc.sentences[max(0, bisect.bisect_right(doc.sentence_starts, pos) - 1)][2]


def home_country(doc: Doc) -> str | None:
    """The country a document names most often (a ministry or central bank naming it too), when it names it at
    least twice; between two named equally often, the one named first (a story's lead names its subject)."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for m in doc.mentions:
        ids = [m.entity.id] if m.entity.kind == "country" else doc.resolver.parents(m.entity.id)
        for country in ids:
            if country.startswith("country:"):
                counts[country] += 1
                first.setdefault(country, m.start)
    if not counts:
        return None
    home = min(counts, key=lambda c: (-counts[c], first[c]))
    return home if counts[home] >= 2 else None


def is_government_title(title: str) -> bool:
    """A title of a national government office with no name of anything else ("Foreign Ministry official")."""
    words = _title_words(title)
    return any(w in GOVERNMENT_HEADS for w in words) and all(
        w in GOVERNMENT_HEADS or w in PORTFOLIO_WORDS or w in DETERMINERS_LOWER or w in TITLE_HEADS for w in words
    )


def find_speaker(
    doc: Doc,
    match: re.Match[str],
    s_start: int,
    s_end: int,
    previous: list[Statement],
    in_sentence: list[Statement],
) -> Speaker | None:
    """The speaker of one reporting verb: before it, after it ("said X", "according to X"), or resolved back."""
    if (
        match.group()[0] in "Aa"
        and match.group().lower().startswith("according")
        or re.search(r"\s(of|from)$", match.group())
    ):
        span = walk_forward(doc, match.end(), min(s_end, match.end() + 150))
        return analyse_phrase(doc, span[0], span[1], span[0]) if span else None
    if re.fullmatch(r"as\s+saying", match.group()):  # "... quoted <speaker> as saying"
        quoted = QUOTED_AS_SAYING.search(doc.masked, s_start, match.end())
        if quoted is None:
            return None
        span = walk_forward(doc, quoted.start(1), quoted.end(1))
        return analyse_phrase(doc, span[0], span[1], span[0]) if span else None
    speaker, pronoun, left = speaker_before(doc, s_start, match.start())
    if pronoun:
        return resolve_pronoun(doc, pronoun, match.start(), previous, in_sentence)
    if speaker is not None:
        return speaker
    if re.search(r"[”\"\x1f],?$", left) or left.endswith(","):  # "“...,” said X" and "..., said X"
        span = walk_forward(doc, match.end(), min(s_end, match.end() + 150))
        return analyse_phrase(doc, span[0], span[1], span[0]) if span else None
    if in_sentence:
        last = in_sentence[-1]
        return Speaker(last.speaker, last.title, last.affiliations, "person")
    if re.search(r"\b(and|but)$", left):
        span = walk_forward(doc, s_start, match.start())
        if span:
            return analyse_phrase(doc, span[0], span[1], span[0])
    return None


def resolve_pronoun(
    doc: Doc, pronoun: str, pos: int, previous: list[Statement], in_sentence: list[Statement]
) -> Speaker | None:
    recent = [*previous, *in_sentence]
    if PRONOUNS[pronoun] == "person":  # "he" is no ministry, party, agency or group that spoke just before
        recent = [st for st in recent if could_be_one_person(doc, st)]
    subject = _subject_since(doc, recent[-1].end if recent else -1, pos) if PRONOUNS[pronoun] == "person" else None
    if subject is not None:  # "The Ukrainian leader, who ..., was scathing. “...,” he said."
        return subject
    if recent:
        last = recent[-1]
        return Speaker(last.speaker, last.title, last.affiliations, "person")
    if PRONOUNS[pronoun] == "group":
        return None
    i = bisect.bisect_left(doc.person_positions, (pos, "")) - 1
    while i >= 0 and names_no_person(doc.person_positions[i][1]):  # "she" is no "National Westminster Bank Plc"
        i -= 1
    if i >= 0 and pos - doc.person_positions[i][0] < 600:
        person = doc.people.get(doc.person_positions[i][1]) or known_person(doc, doc.person_positions[i][1])
        if person:
            return Speaker(person.name, person.title, tuple(person.affiliations), "person")
        return Speaker(doc.person_positions[i][1], None, (), "person")
    return None


def _subject_since(doc: Doc, after: int, pos: int) -> Speaker | None:
    """The person who opens the latest sentence between ``after`` and ``pos`` as its subject, if any."""
    sentence = bisect.bisect_right(doc.sentence_starts, pos) - 1
    if sentence < 0 or doc.sentence_starts[sentence] <= after:
        return None
    lo = max(after, doc.sentence_starts[max(0, sentence - 2)])
    i = bisect.bisect_left(doc.person_positions, (pos, "")) - 1
    while i >= 0 and doc.person_positions[i][0] > lo:
        at, name = doc.person_positions[i]
        s = bisect.bisect_right(doc.sentence_starts, at) - 1
        opening = doc.masked[doc.sentence_starts[s] : at].strip(" \n\"“\x1f")
        if s < sentence and not opening and (person := doc.people.get(name)) is not None:
            return Speaker(person.name, person.title, tuple(person.affiliations), "person")
        i -= 1
    return None


def could_be_one_person(doc: Doc, st: Statement) -> bool:
    """Whether "he" or "she" can refer to this statement's speaker: a person named in the document, or one
    titled official ("a Kremlin spokesman"); not "the UN", "the Tories" or "energy analysts"."""
    words = st.speaker.split()
    if not words or names_no_person(st.speaker):
        return False
    if st.speaker in doc.people or known_person(doc, strip_possessive(words[-1])) is not None:
        return True
    last = strip_possessive(words[-1]).lower()
    return st.title is not None and not (last.endswith("s") and not last.endswith("ss"))


def names_no_person(speaker: str) -> bool:
    """Whether a speaker phrase is a document or an institution ("the official communique", "the Ministry")."""
    words = speaker.split()
    return bool(words) and strip_possessive(words[-1]).lower() in NOT_A_PERSON_HEADS


def has_speech_quote(doc: Doc, start: int, end: int) -> bool:
    """A quote of several words in this sentence (not a scare-quoted name like “coalition of the willing”)."""
    i = bisect.bisect_left(doc.quotes, (start, -1))
    while i < len(doc.quotes) and doc.quotes[i][0] < end:
        q_start, q_end = doc.quotes[i]
        if len(doc.text[q_start:q_end].split()) >= SPEECH_QUOTE_WORDS:
            return True
        i += 1
    return False


def quote_start(doc: Doc, s_start: int) -> int:
    """Start of a quote that opened in an earlier sentence and runs into this one, else the sentence start."""
    i = bisect.bisect_left(doc.quotes, (s_start, -1)) - 1
    if i >= 0 and doc.quotes[i][0] < s_start <= doc.quotes[i][1]:
        return doc.quotes[i][0]
    return s_start


def attach_quotes(doc: Doc, by_sentence: dict[int, list[Statement]]) -> list[Statement]:
    """Quote sentences with no speaker of their own take the speaker of a neighbouring sentence.

    The sentence before wins (a quote continuing what was just said), unless the next sentence refers back
    to the quote ("That was the view of ...").
    """
    out: list[Statement] = []
    for index, (s_start, s_end, _para) in enumerate(doc.sentences):
        if index not in by_sentence and has_speech_quote(doc, s_start, s_end):
            nxt = by_sentence.get(index + 1)
            before = by_sentence.get(index - 1)
            refers_back = index + 1 < len(doc.sentences) and REFERS_BACK.match(doc.text, doc.sentences[index + 1][0])
            source = nxt if nxt and (refers_back or not before) else before
            if source:
                first = source[0]
                by_sentence[index] = [first.model_copy(update={"start": s_start, "end": s_end})]
        out.extend(by_sentence.get(index, []))
    return out


def make_statement(
    speaker: str, title: str | None, affiliations: tuple[str, ...], start: int, end: int, verb: str
) -> Statement:
    if comments_without_a_country(title or speaker):
        affiliations = tuple(a for a in affiliations if not a.startswith("country:"))
    return Statement(
        speaker=" ".join(speaker.split()),
        title=" ".join(title.split()) if title else None,
        affiliations=with_member_bodies(title, with_central_bank(title or speaker, affiliations)),
        start=start,
        end=end,
        verb=verb,
    )


def comments_without_a_country(title: str) -> bool:
    """An economist, analyst or trader: the country of their firm or city is not theirs to speak for.

    The role is the head of the title, before where they work ("chief economist at Macquarie Securities in
    Tokyo"); a central banker or a government economist is not a market role.
    """
    role = re.split(r"\s(?:at|of|with|in|from|for)\s|,", title.lower(), maxsplit=1)[0].split()
    if not role or strip_possessive(role[-1]) not in MARKET_ROLES:
        return False
    return not ({"central", "government", "official", "ministry"} & set(role[:-1]))


def with_central_bank(title: str, affiliations: tuple[str, ...]) -> tuple[str, ...]:
    """Add a country's central bank where the title names it without its name ("Japan's central bank governor")."""
    if "central bank" not in " ".join(title.lower().split()) or any(a.startswith("bank:") for a in affiliations):
        return affiliations
    countries = [a for a in affiliations if a.startswith("country:")]
    bank = CENTRAL_BANKS.get(countries[0]) if len(countries) == 1 else None
    return (*affiliations, bank) if bank else affiliations


def with_member_bodies(title: str | None, affiliations: tuple[str, ...]) -> tuple[str, ...]:
    """Add the body a title makes its holder a member of: an EU (EC) "Commissioner" sits on the Commission."""
    words = set(re.findall(r"[a-z]+", (title or "").lower()))
    extra = [body for word, parent, body in MEMBER_TITLES if word in words and parent in affiliations]
    return (*affiliations, *(b for b in dict.fromkeys(extra) if b not in affiliations))
