"""Who said what: reported speech and quotes attached to speakers, titles and the parties they speak for.

News rarely puts "Poland" next to what Poland said: it writes "Polish Prime Minister Donald Tusk said ...",
"“...,” he said.", "Mr Mandon's office said" or "leaders of France, Germany and Poland said". This module
finds reporting verbs and quotes in a document, reads the speaker phrase next to them with small English
rules (titles, names, appositives, possessives, pronouns, lists of countries), resolves short references
("Mr Mandon", "he") against people named earlier in the same document, and turns titles into entity ids
("Polish" -> country:PL) with :class:`~indexer.entities.EntityResolver`.

At query time :func:`parse_question` reads which party a question asks about and :func:`statement_match`
scores how well the statements of one passage answer it.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from indexer.entities import Entity, EntityMention, EntityResolver, trie_regex

# --- vocabulary ---------------------------------------------------------------------------------------------

# Asked role -> words that show it in a speaker's title. A small general table of news titles.
ROLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "president": ("president", "head of state"),
    "prime minister": ("prime minister", "premier"),
    "chancellor": ("chancellor",),
    "leader": (
        "leader",
        "president",
        "prime minister",
        "premier",
        "chancellor",
        "head of state",
        "head of government",
        "king",
        "queen",
        "emir",
        "sultan",
        "supreme leader",
    ),
    "foreign minister": (
        "foreign minister",
        "foreign secretary",
        "secretary of state",
        "foreign affairs",
        "minister of foreign affairs",
        "top diplomat",
    ),
    "defence minister": (
        "defence minister",
        "defense minister",
        "defence secretary",
        "defense secretary",
        "minister of defence",
        "minister of defense",
        "secretary of defense",
        "war secretary",
    ),
    "finance minister": (
        "finance minister",
        "treasury secretary",
        "minister of finance",
        "finance secretary",
        "chancellor of the exchequer",
        "treasury",
    ),
    "trade minister": (
        "trade minister",
        "trade representative",
        "trade secretary",
        "commerce secretary",
        "minister of trade",
    ),
    "military chief": (
        "chief of defence staff",
        "chief of the defence staff",
        "chief of staff",
        "chief of the general staff",
        "military chief",
        "army chief",
        "defence chief",
        "defense chief",
        "armed forces",
        "commander",
        "general",
        "admiral",
        "military",
    ),
    "commander": ("commander", "general", "admiral", "chief of staff", "military chief"),
    "envoy": ("envoy", "special representative", "emissary", "ambassador", "representative"),
    "ambassador": ("ambassador", "envoy"),
    "spokesperson": ("spokesperson", "spokesman", "spokeswoman", "spokesmen", "press secretary", "office"),
    "adviser": ("adviser", "advisor", "aide"),
    "minister": ("minister", "secretary"),
    "governor": ("governor",),
    "central bank": ("central bank", "governor", "bank of"),
    "ministry": ("ministry", "department"),
    "government": ("government", "cabinet", "administration", "ministry", "office"),
    "official": ("official", "officials"),
    "negotiator": ("negotiator", "negotiators"),
    "diplomat": ("diplomat", "diplomats", "ambassador"),
    "king": ("king", "monarch"),
    "queen": ("queen", "monarch"),
    "pope": ("pope",),
}
# Question wording that names a role -> the role's key above.
_ROLE_ALIASES: dict[str, str] = {
    "top diplomat": "foreign minister",
    "foreign secretary": "foreign minister",
    "secretary of state": "foreign minister",
    "defense minister": "defence minister",
    "defence secretary": "defence minister",
    "defense secretary": "defence minister",
    "treasury secretary": "finance minister",
    "army chief": "military chief",
    "defence chief": "military chief",
    "defense chief": "military chief",
    "chief of defence staff": "military chief",
    "chief of staff": "military chief",
    "top general": "military chief",
    "top commander": "commander",
    "general": "commander",
    "admiral": "commander",
    "head of state": "president",
    "premier": "prime minister",
    "spokesman": "spokesperson",
    "spokeswoman": "spokesperson",
    "advisor": "adviser",
    "aide": "adviser",
    "special envoy": "envoy",
    "emissary": "envoy",
    "representative": "envoy",
    "officials": "official",
    "head of government": "leader",
    "leaders": "leader",
    "negotiators": "negotiator",
    "diplomats": "diplomat",
    "central banker": "central bank",
    "pm": "prime minister",
    "military": "military chief",
    "army": "military chief",
    "armed forces": "military chief",
}
# Single words that head a person's title; a capitalised run is "<title> <name>" split after the last one.
_TITLE_HEADS = frozenset(
    """
president minister premier chancellor secretary envoy ambassador general admiral commander chief staff
spokesman spokeswoman spokesperson spokesmen adviser advisor aide governor senator congressman congresswoman
representative chairman chairwoman chair director head leader king queen prince princess emir sultan sheikh
pope mayor official officials negotiator diplomat commissioner colonel lieutenant captain sergeant marshal
economist analyst executive officer manager deputy vice president-elect secretary-general attorney judge
prosecutor ayatollah cardinal archbishop bishop founder owner partner dealer trader banker strategist ceo
coach dictator monarch speaker gen. lt. col. sen. rep. gov. adm. capt. sgt. prof. rev. ministers leaders
""".split()
)
_TITLE_PHRASES = (
    "chief of defence staff",
    "chief of the defence staff",
    "chief of defense staff",
    "chief of staff",
    "chief of the general staff",
    "secretary of state",
    "secretary of defense",
    "minister of foreign affairs",
    "minister of finance",
    "minister of defence",
    "minister of defense",
    "chancellor of the exchequer",
    "head of state",
    "head of government",
    "heads of state",
    "heads of government",
    "prime minister",
    "attorney general",
    "secretary general",
    "director general",
    "commander in chief",
    "high representative",
)
_TITLE_WORD_RE = re.compile(
    r"\b("
    + "|".join(re.escape(t) for t in sorted(_TITLE_PHRASES, key=len, reverse=True)).replace(r"\ ", r"\s+")
    + r")\b|[A-Za-z][\w.'’-]*",
    re.IGNORECASE,
)
_HONORIFICS = frozenset("Mr Mrs Ms Dr Mr. Mrs. Ms. Dr. Sir Dame Lord Lady Madam Mme M.".split())
# Lower-case words that may stand in a speaker phrase ("a Finance Ministry spokesman", "heads of state").
_AGENT_NOUNS = (
    frozenset(
        """
officials leaders heads ministers ministry ministries government governments office spokesmen sources source
diplomats analysts economists experts traders dealers bankers statement declaration communique report letter
document agency company firm bank board group union council commission committee parliament court
administration cabinet embassy military army police coalition alliance countries nations states state allies
members delegates negotiators lawmakers legislators politicians authorities residents people protesters
activists officers team management department corporation unit subsidiary industry party delegation
counterpart counterparts lawyers lawyer witnesses witness observers campaigners organisers organizers airline
exchange regulators
regulator producers producer exporters importers operators operator newspaper agency's government's
spokesperson's ministry's
""".split()
    )
    | _TITLE_HEADS
)
_MODIFIERS = frozenset(
    """
senior special top former deputy acting foreign finance defence defense military economy economic trade
interior justice energy oil agriculture health national security federal central joint new outgoing
incoming interim vice assistant executive managing chief general prime civilian local regional western
state-run state-owned official independent industry market bank government ruling opposition
""".split()
)
_DETERMINERS = frozenset("the a an The A An its his her their Its His Her Their this This".split())
_PREPOSITIONS = frozenset("of to for from by at in".split())
# Capitalised words that start sentences or clauses, not names.
_CAP_STOP = frozenset(
    """
But And In On At From To Or For With Of By As After Before When While Since Although Though If However
Meanwhile Also Last This That These Those It Its There Here Then Now Yet So Thus Still Even Only Both Each
Asked Speaking Earlier Later Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March
April May June July August September October November December Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov
Dec What Who How Why Where Which Did Does Do Is Are Was Were Has Have Had Will Would Could Should Can The A An
He She They We I You His Her Their Our My Your Under Over Among Between Against During Despite Without Within
Including According Following Reuters REUTER Reuter
""".split()
)
_PARTICLES = frozenset("von van der den de da du di la le al bin ben el dos das del zu ter".split())
_PRONOUNS = {
    "he": "person",
    "she": "person",
    "He": "person",
    "She": "person",
    "they": "group",
    "They": "group",
}

# Reporting verbs. Base forms ("say", "demand") only count after an auxiliary, "to" or a plural subject.
_VERBS_INFLECTED = """
said says told tells wrote writes added adds welcomed welcomes warned warns urged urges insisted insists
stated announced announces argued argues described describes reaffirmed reaffirms declared declares noted
stressed stresses emphasised emphasized emphasises emphasizes acknowledged acknowledges admitted admits denied
denies claimed confirmed confirms predicted predicts explained explains replied replies responded responds
asked asks demanded demands rejected rejects criticised criticized criticises criticizes condemned condemns
praised praises vowed vows pledged promised suggested suggests proposed proposes believes thinks wants
reacted reacts commented comments cautioned cautions estimated accused accuses threatened threatens
recalled recalls signalled signaled signals objected objects countered conceded concedes
""".split()
_VERBS_BASE = "say tell want demand believe think warn urge insist call welcome reject deny argue".split()
_VERB_RE = re.compile(
    r"\b(?:(?:called|calls|call|calling)\s+(?:for|on)|[Aa]ccording\s+to|"
    r"(?:view|views|words|message|remarks|comments|verdict|assessment|position)\s+(?:of|from)|"
    r"called\s+(?:it|this|that|them|him|her)\b|" + trie_regex(_VERBS_INFLECTED + _VERBS_BASE) + r")\b"
)
_BASE_OK_BEFORE = frozenset(
    "to would will could may might should must did do does not also never n't they we continue continues "
    "continued".split()
)
_PASSIVE_BEFORE = frozenset("was were is are be been being the".split())
# Words between a subject and its verb: "Kyiv has long said", "X also told", "Russia ... continues to".
_AUX_TAIL = re.compile(
    r"(?:[\s,]+(?:also|has|have|had|would|will|could|may|might|should|must|did|does|do|not|never|then|later|"
    r"earlier|previously|recently|repeatedly|publicly|privately|already|again|still|long|once|further|"
    r"separately|too|first|today|yesterday|tonight|now|however|continues\s+to|continued\s+to|continue\s+to|"
    r"went\s+on\s+to|go\s+on\s+to|is|was|were|are|been|had\s+long|in\s+a\s+statement|"
    r"on\s+(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|"
    r"(?:last|this|next)\s+(?:week|month|year)))+$"
)
_TOKEN = re.compile(r"[A-Za-z0-9\u00C0-\u024F][\w\u00C0-\u024F.'’-]*|[^\s\w]")
_NAME_RUN = re.compile(
    r"(?<![\w.])[A-Z][\w\u00C0-\u024F'’-]*\.?"
    r"(?:[ \t]+(?:(?:von|van|der|den|de|da|du|la|le|al|bin|ben)[ \t]+)*"
    r"[A-Z][\w\u00C0-\u024F'’-]*)+"
)
_ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Dr St Gen Lt Col Sgt Capt Gov Sen Rep Jr Sr Prof No Co Corp Inc Ltd vs etc Jan Feb Mar "
    "Apr Aug "
    "Sep Sept Oct Nov Dec Adm Maj Rev Mt Ft approx U.S U.K U.N E.U Messrs Mme".split()
)
_BOUNDARY = re.compile(r"([.!?…]+)[\"”’)\]]*\s+(?=[“\"‘(\[]?[A-Z0-9])")
_REFERS_BACK = re.compile(r"(?:That|This|These|Those|Such|So)\b")
# A company name ends in one of these; it is not "<title> <person>".
_CORPORATE = re.compile(
    r"\b(?:Inc|Corp|Corporation|Co|Cos|Ltd|Plc|PLC|LLC|LP|AG|SA|SpA|NV|BV|AB|ASA|Group|Holdings|Bank|Trust|"
    r"Association|Exchange|Fund|Partners|Industries|Airlines|Airways|Motors|Petroleum)\.?$"
)
_SPEAKER_WINDOW = 160  # characters left of a verb searched for its speaker
_SPEECH_QUOTE_WORDS = 6  # shorter quotes are usually names or scare quotes, not speech
_FILL = "\x1f"
_POSSESSIVE_END = re.compile(r"['’]s?$")
_NUMBER = re.compile(r"\d[\d,.]*")
_LAST_WORD = re.compile(r"([\w.]+)$")
_PREV_WORD = re.compile(
    r"(\S+)\s+$"
)  # stands in for quoted words while looking for speakers, so "we want" in a quote is no verb


# --- public types -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One attributed statement: a sentence (or sentences) of reported speech or quotation."""

    speaker: str
    title: str | None
    affiliations: tuple[str, ...]
    start: int
    end: int
    verb: str

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (tuples become lists)."""
        data = asdict(self)
        data["affiliations"] = list(self.affiliations)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Statement:
        """The inverse of :meth:`to_dict`."""
        affiliations = data.get("affiliations") or ()
        if not isinstance(affiliations, list | tuple):
            raise ValueError(f"Statement affiliations must be a list of entity ids, got {affiliations!r}")
        return cls(
            speaker=str(data["speaker"]),
            title=None if data.get("title") is None else str(data["title"]),
            affiliations=tuple(str(a) for a in affiliations),
            start=int(data["start"]),  # type: ignore[call-overload]
            end=int(data["end"]),  # type: ignore[call-overload]
            verb=str(data["verb"]),
        )


@dataclass(frozen=True)
class QuestionIntent:
    """Whose words a question asks for."""

    entities: tuple[Entity, ...]
    names: tuple[str, ...]
    role_terms: tuple[str, ...]
    asks_statement: bool

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "entities": [asdict(e) for e in self.entities],
            "names": list(self.names),
            "role_terms": list(self.role_terms),
            "asks_statement": self.asks_statement,
        }


# --- internal types -----------------------------------------------------------------------------------------


@dataclass
class _Person:
    name: str
    title: str | None
    affiliations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Speaker:
    name: str
    title: str | None
    affiliations: tuple[str, ...]
    kind: str  # "named" (a person with a name) | "person" (a titled official) | "group" | "entity" | "other"


@dataclass
class _Doc:
    text: str
    masked: str
    resolver: EntityResolver
    mentions: list[EntityMention]
    mention_starts: list[int]
    sentences: list[tuple[int, int, int]]  # start, end, paragraph index
    sentence_starts: list[int]
    quotes: list[tuple[int, int]]
    people: dict[str, _Person] = field(default_factory=dict)  # full name -> person
    surnames: dict[str, _Person] = field(default_factory=dict)
    firsts: dict[str, _Person] = field(default_factory=dict)  # first word of a name ("Xi" of "Xi Jinping")
    person_positions: list[tuple[int, str]] = field(default_factory=list)  # (offset, full name)


# --- text structure -----------------------------------------------------------------------------------------


def _paragraph_breaks(text: str) -> list[int]:
    """Offsets where paragraphs start. Indented texts (wire copy) break on indents, others on each newline."""
    indented = re.search(r"\n[ \t]+\S", text) is not None
    pattern = r"\n\s*\n|\n(?=[ \t]+\S)" if indented else r"\n+"
    return [m.end() for m in re.finditer(pattern, text)]


def _find_quotes(text: str, paragraph_starts: list[int]) -> list[tuple[int, int]]:
    """Quote spans (opening mark, closing mark inclusive), each kept inside its paragraph."""
    spans: list[tuple[int, int]] = []
    bounds = [0, *paragraph_starts, len(text)]
    for p_start, p_end in zip(bounds, bounds[1:], strict=False):
        para = text[p_start:p_end]
        open_at: int | None = None
        straight_open: int | None = None
        for m in re.finditer(r"[“”\"]", para):
            ch, pos = m.group(), p_start + m.start()
            if ch == "“":
                if open_at is None:
                    open_at = pos
            elif ch == "”":
                if open_at is not None:
                    spans.append((open_at, pos))
                    open_at = None
            elif straight_open is None:
                straight_open = pos
            else:
                spans.append((straight_open, pos))
                straight_open = None
        for left in (open_at, straight_open):
            if left is not None:  # left open to the end of the paragraph, as multi-paragraph quotes are
                spans.append((left, p_start + len(para.rstrip()) - 1))
    spans.sort()
    return spans


def _mask(text: str, quotes: list[tuple[int, int]]) -> str:
    parts: list[str] = []
    last = 0
    for start, end in quotes:
        if start < last:
            continue
        parts.append(text[last : start + 1])
        parts.append(re.sub(r"\S", _FILL, text[start + 1 : end]))
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _inside(spans: list[tuple[int, int]], pos: int) -> bool:
    i = bisect.bisect_right(spans, (pos, len(spans) + 10**12)) - 1
    return i >= 0 and spans[i][0] < pos <= spans[i][1]


def _split_sentences(
    text: str, paragraph_starts: list[int], quotes: list[tuple[int, int]]
) -> list[tuple[int, int, int]]:
    cuts = set(paragraph_starts)
    for m in _BOUNDARY.finditer(text):
        split = m.end()
        word = _LAST_WORD.search(text, max(0, m.start() - 12), m.start())
        if word and (word.group(1) in _ABBREVIATIONS or (len(word.group(1)) == 1 and word.group(1).isupper())):
            continue
        if _inside(quotes, m.start(1)) and _inside(quotes, split):
            continue
        cuts.add(split)
    sentences: list[tuple[int, int, int]] = []
    ordered = sorted(c for c in cuts if 0 < c < len(text))
    bounds = [0, *ordered, len(text)]
    para_set = sorted(paragraph_starts)
    for start, end in zip(bounds, bounds[1:], strict=False):
        chunk = text[start:end]
        if not chunk.strip():
            continue
        lead = len(chunk) - len(chunk.lstrip())
        s, e = start + lead, start + len(chunk.rstrip())
        sentences.append((s, e, bisect.bisect_right(para_set, s)))
    return sentences


# --- speaker phrases ----------------------------------------------------------------------------------------


def _tokens(text: str, offset: int) -> list[tuple[str, int, int]]:
    return [(m.group(), offset + m.start(), offset + m.end()) for m in _TOKEN.finditer(text)]


def _strip_possessive(tok: str) -> str:
    return _POSSESSIVE_END.sub("", tok)


def _is_cap(tok: str) -> bool:
    return tok[:1].isupper() and _strip_possessive(tok.rstrip(".")) not in _CAP_STOP


def _np_word(tok: str) -> bool:
    base = _strip_possessive(tok)
    low = base.lower()
    return (
        _is_cap(tok)
        or low in _AGENT_NOUNS
        or low in _MODIFIERS
        or base in _PARTICLES
        or base in _HONORIFICS
        or bool(_NUMBER.fullmatch(base))
    )


def _entity_at(doc: _Doc, start: int, end: int) -> EntityMention | None:
    i = bisect.bisect_right(doc.mention_starts, start) - 1
    if i >= 0 and doc.mentions[i].start <= start and end <= doc.mentions[i].end:
        return doc.mentions[i]
    return None


def _end_of(token: tuple[str, int, int]) -> int:
    """End of a phrase's last token, leaving out a sentence full stop ("Trudeau." but "U.S." and "Gen.")."""
    tok, _, end = token
    if tok.endswith(".") and "." not in tok[:-1] and tok[:-1] not in _ABBREVIATIONS and len(tok) > 2:
        return end - 1
    return end


def _walk_back(doc: _Doc, lo: int, hi: int) -> tuple[int, int] | None:
    """The span of the noun phrase that ends at ``hi`` (a speaker phrase before its verb), or None."""
    toks = _tokens(doc.masked[lo:hi], lo)
    i = len(toks) - 1
    first = None
    while i >= 0:
        tok, s, _ = toks[i]
        prev = toks[i - 1][0] if i > 0 else ""
        if tok in ("'s", "’s", "'", "’") and first is not None:
            first = i
        elif _np_word(tok) or _entity_at(doc, s, toks[i][2]) is not None:
            first = i
        elif tok in _DETERMINERS and first is not None:
            first = i
            if not (prev in _PREPOSITIONS or prev in (",", "and")):
                break
        elif tok in _PREPOSITIONS and first is not None and prev and (_np_word(prev) or prev in _AGENT_NOUNS):
            first = i
        elif tok in (",", "and") and first is not None and i > 0:
            j = first
            while j + 1 < len(toks) and toks[j][0] in _DETERMINERS:
                j += 1
            after = toks[j]
            if not (_entity_at(doc, after[1], after[2]) or (tok == "and" and _is_cap(after[0]))):
                break
            if not (_entity_at(doc, toks[i - 1][1], toks[i - 1][2]) or _is_cap(prev)):
                break
            first = i
        else:
            break
        i -= 1
    if first is None:
        return None
    while first < len(toks) and (toks[first][0] in _PREPOSITIONS or toks[first][0] in (",", "and", "'s", "’s")):
        first += 1
    if first >= len(toks):
        return None
    return toks[first][1], _end_of(toks[-1])


def _walk_forward(doc: _Doc, lo: int, hi: int) -> tuple[int, int] | None:
    """The span of the noun phrase that starts at ``lo`` (a speaker phrase after "said" or "according to")."""
    toks = _tokens(doc.masked[lo:hi], lo)
    last = None
    for i, (tok, s, e) in enumerate(toks):
        nxt = toks[i + 1][0] if i + 1 < len(toks) else ""
        if tok in _DETERMINERS and last is None:
            continue
        if _np_word(tok) or _entity_at(doc, s, e) is not None or (tok in ("'s", "’s") and last is not None):
            last = i
        elif tok in ("of", "for", "to") and last is not None and nxt and (_np_word(nxt) or nxt in _DETERMINERS):
            continue
        elif tok in _DETERMINERS and last is not None and toks[i - 1][0] in ("of", "for", "to"):
            continue
        else:
            break
    if last is None:
        return None
    return toks[0][1], _end_of(toks[last])


def _register(doc: _Doc, name: str, title: str | None, affiliations: list[str], pos: int) -> _Person:
    person = doc.people.get(name) or doc.surnames.get(name.split()[-1])
    if person is None or (len(name.split()) > 1 and person.name != name and len(person.name.split()) > 1):
        person = _Person(name, title, list(affiliations))
        doc.people[name] = person
        doc.surnames.setdefault(name.split()[-1], person)
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
    doc.person_positions.append((pos, person.name))
    return person


def _affiliations(doc: _Doc, start: int, end: int) -> list[str]:
    ids: list[str] = []
    i = bisect.bisect_left(doc.mention_starts, start)
    while i < len(doc.mentions) and doc.mentions[i].start < end:
        if doc.mentions[i].end <= end:
            for eid in (doc.mentions[i].entity.id, *doc.resolver.parents(doc.mentions[i].entity.id)):
                if eid not in ids:
                    ids.append(eid)
        i += 1
    return ids


def _title_end(phrase: str) -> int:
    """Offset just after the last title word of a phrase ("French Chief of Defence Staff| Fabien Mandon")."""
    end = 0
    for m in _TITLE_WORD_RE.finditer(phrase):
        if m.group(1) is not None or _strip_possessive(m.group()).lower() in _TITLE_HEADS:
            end = m.end()
    return end


def _analyse(doc: _Doc, start: int, end: int, pos: int) -> _Speaker | None:
    """Read a speaker phrase: name, title and affiliations, resolving "Mr X" and possessives."""
    phrase = doc.text[start:end]
    words = phrase.split()
    if not words:
        return None
    if phrase in _PRONOUNS:
        return None
    # "Mr Mandon's office", "Nato's senior commander", "Poland's foreign ministry".
    poss = re.search(r"['’]s\b", phrase)
    if poss:
        owner = _analyse(doc, start, start + poss.start(), pos)
        head = phrase[poss.end() :].strip()
        if owner is not None:
            if owner.kind == "named" and head.lower() in (
                "office",
                "spokesman",
                "spokeswoman",
                "spokesperson",
                "aides",
                "camp",
                "team",
                "press office",
            ):
                return owner
            named = _titled_name(doc, start + poss.end(), end, pos, phrase[: poss.end()], owner.affiliations)
            if named is not None:  # "South Korea's President Lee Jae-myung", "Spain's Pedro Sanchez"
                return named
            title = phrase.strip()
            return _Speaker(
                phrase.strip(),
                title,
                owner.affiliations,
                "other" if owner.kind == "other" else ("person" if _title_end(head) else owner.kind),
            )
    # "leaders of France, Germany ...", "an adviser to Mr Macron", "the Bank of Japan".
    low = phrase.lower()
    prep = None
    for m in re.finditer(r"\s(of|for|from|to|in|at|by)\s", phrase):
        inside_title = any(t in low and low.index(t) < m.start() < low.index(t) + len(t) for t in _TITLE_PHRASES)
        if not inside_title:
            prep = m
            break
    if prep is not None:
        head = phrase[: prep.start()].strip()
        comp_start = start + prep.end()
        related = _analyse(doc, comp_start, end, pos) if prep.group(1) in ("to", "for", "of") else None
        affiliations = _affiliations(doc, start, start + prep.start())
        if (
            prep.group(1) in ("of", "for", "from", "by")
            or (prep.group(1) == "to" and re.search(r"advis|aide|spokes|assistant|secretary", head.lower()))
            or (prep.group(1) == "in" and re.search(r"(officials|sources|authorities|government|police)$", head, re.I))
        ):
            for a in _affiliations(doc, comp_start, end) + list(related.affiliations if related else ()):
                if a not in affiliations:
                    affiliations.append(a)
        countries = [a for a in affiliations if a.startswith("country:")]
        head_words = head.split()
        if (
            len(head_words) >= 2
            and head_words[0] not in _CAP_STOP
            and not _CORPORATE.search(head)
            and not _title_end(head)
            and all(w[:1].isupper() or w in _PARTICLES for w in head_words)
            and not _mentions_in(doc, start, start + prep.start())
        ):  # "Kevin Boakes of Greenwell Montagu": a named person and where they work
            person = _register(doc, head, _clean_title(phrase[prep.start() :]), affiliations, pos)
            return _Speaker(person.name, person.title, tuple(person.affiliations), "named")
        kind = "group" if len(countries) > 1 or head.endswith("s") else "person"
        return _Speaker(phrase.strip(), _clean_title(head) or None, tuple(affiliations), kind)
    if _CORPORATE.search(phrase):  # "General Automation Inc", "Manufacturers Hanover Asia Ltd"
        return _Speaker(phrase.strip(), None, (), "other")
    # "<title> <name>", "<name>", "<entity>", "<title>".
    t_end = _title_end(phrase)
    title_part, name_part = phrase[:t_end].strip(), phrase[t_end:].strip()
    name_words = [w for w in name_part.split() if w not in _HONORIFICS]
    mention_in_name = [m for m in _mentions_in(doc, start + t_end, end) if m.end <= end]
    if name_words and not mention_in_name and all(w[:1].isupper() or w in _PARTICLES for w in name_words):
        name = _strip_possessive(" ".join(name_words))
        if len(name_words) == 1 and not title_part:
            known = _known(doc, name)
            if known:
                doc.person_positions.append((pos, known.name))
                return _Speaker(known.name, known.title, tuple(known.affiliations), "named")
            if name_part.split()[0] in _HONORIFICS:
                return _Speaker(name, None, (), "named")
            return _Speaker(name, None, tuple(_affiliations(doc, start, end)), "other")
        affiliations = _affiliations(doc, start, start + t_end) if title_part else []
        person = _register(doc, name, _clean_title(title_part) or None, affiliations, pos)
        return _Speaker(person.name, person.title, tuple(person.affiliations), "named")
    affiliations = _affiliations(doc, start, end)
    only_entities = re.sub(r"\b(the|The)\b", "", phrase).strip()
    if mention_in_name and not title_part and any(m.surface == only_entities for m in mention_in_name):
        return _Speaker(only_entities, None, tuple(affiliations), "entity")
    if title_part and not name_part:
        kind = "group" if re.search(r"s$", words[-1]) and words[-1].lower() not in ("chancellor",) else "person"
        return _Speaker(phrase.strip(), _clean_title(phrase), tuple(affiliations), kind)
    if any(_strip_possessive(w).lower() in _AGENT_NOUNS for w in words) or affiliations:
        kind = "group" if len([a for a in affiliations if a.startswith("country:")]) > 1 else "other"
        return _Speaker(phrase.strip(), None, tuple(affiliations), kind)
    if len(name_words) >= 1 and all(w[:1].isupper() for w in name_words):
        return _Speaker(phrase.strip(), None, tuple(affiliations), "other")
    return None


def _titled_name(
    doc: _Doc, start: int, end: int, pos: int, owner_text: str, owner_affiliations: Sequence[str]
) -> _Speaker | None:
    """A "<title> <Name>" or "<Name>" phrase naming a person, registered with the owner's affiliations."""
    phrase = doc.text[start:end]
    t_end = _title_end(phrase)
    name_words = [w for w in phrase[t_end:].split() if w not in _HONORIFICS]
    if not name_words or not all(w[:1].isupper() or w in _PARTICLES for w in name_words):
        return None
    if _strip_possessive(name_words[0]) in _CAP_STOP or any(
        m.end <= end for m in _mentions_in(doc, start + t_end, end)
    ):
        return None
    if len(name_words) < 2 and not t_end and not owner_text:
        return None
    title = _clean_title(f"{owner_text} {phrase[:t_end]}") if t_end else None
    affiliations = list(owner_affiliations)
    affiliations += [a for a in _affiliations(doc, start, start + t_end) if a not in affiliations]
    name = _strip_possessive(" ".join(name_words))
    known = _known(doc, name) if len(name_words) == 1 else None
    person = _register(doc, known.name if known else name, title, affiliations, pos)
    return _Speaker(person.name, person.title, tuple(person.affiliations), "named")


def _known(doc: _Doc, name: str) -> _Person | None:
    """The person a one-word reference means: a surname ("Tusk"), else a leading family name ("Xi")."""
    return doc.surnames.get(name) or doc.people.get(name) or doc.firsts.get(name)


def _clean_title(title: str) -> str:
    words = [w for w in title.split() if w not in _DETERMINERS]
    return " ".join(words).strip(" ,")


def _scan_people(doc: _Doc) -> None:
    """Register everyone introduced with a name ("French Chief of Defence Staff Fabien Mandon")."""
    for m in _NAME_RUN.finditer(doc.masked):
        span = _walk_back(doc, max(0, m.start() - 80), m.end())
        if span is None:
            continue
        s, e = span
        sentence_start = doc.sentences[max(0, bisect.bisect_right(doc.sentence_starts, m.start()) - 1)][0]
        s = max(s, sentence_start)
        phrase = doc.text[s:e]
        t_end = _title_end(phrase)
        name_words = [w for w in phrase[t_end:].split() if w not in _HONORIFICS]
        if not name_words or any(not (w[:1].isupper() or w in _PARTICLES) for w in name_words):
            continue
        if _strip_possessive(name_words[0]) in _CAP_STOP:
            continue
        if any(mm.start >= s + t_end and mm.end <= e for mm in _mentions_in(doc, s, e)):
            continue
        if len(name_words) < 2 and not t_end:
            if phrase.split()[0] in _HONORIFICS:
                name = _strip_possessive(name_words[0])
                known = _known(doc, name)
                doc.person_positions.append((s, known.name if known else name))
            continue
        name = _strip_possessive(" ".join(name_words))
        title = _clean_title(phrase[:t_end]) or None
        affiliations = _affiliations(doc, s, s + t_end) if t_end else []
        app = re.match(r"\s*,\s*((?:the\s+|a\s+)?[^,.;“”\"\n\x1f]{3,80}?)\s*,", doc.masked[e : e + 100])
        if app and _title_end(app.group(1)):
            a_start = e + app.start(1)
            title = f"{title}, {_clean_title(app.group(1))}" if title else _clean_title(app.group(1))
            affiliations += [
                a for a in _affiliations(doc, a_start, a_start + len(app.group(1))) if a not in affiliations
            ]
        _register(doc, name, title, affiliations, s)


def _mentions_in(doc: _Doc, start: int, end: int) -> list[EntityMention]:
    i = bisect.bisect_left(doc.mention_starts, start)
    out = []
    while i < len(doc.mentions) and doc.mentions[i].start < end:
        out.append(doc.mentions[i])
        i += 1
    return out


# --- statements ---------------------------------------------------------------------------------------------


def _speaker_before(doc: _Doc, sent_start: int, verb_start: int) -> tuple[_Speaker | None, str, str]:
    """The speaker phrase before a verb: (speaker, pronoun if the subject is one, the text left of it)."""
    lo = max(sent_start, verb_start - _SPEAKER_WINDOW)
    left = doc.masked[lo:verb_start].rstrip()
    tail = _AUX_TAIL.search(left, max(0, len(left) - 60))
    stripped = left[: tail.start()].rstrip() if tail else left
    hi = lo + len(stripped)
    last_word = _LAST_WORD.search(stripped, max(0, len(stripped) - 20))
    if last_word and last_word.group(1) in _PRONOUNS:
        return None, last_word.group(1), stripped
    if stripped.endswith(","):
        app = re.search(r",([^,\x1f“”\"]{2,100}),$", stripped)
        if app is None:
            return None, "", stripped
        before = _walk_back(doc, lo, lo + app.start())
        a_lo = lo + app.start(1) + len(app.group(1)) - len(app.group(1).lstrip())
        inner = _titled_name(doc, a_lo, lo + app.end(1), a_lo, "", ())
        if inner is not None:  # "the government's top spokesman, Chief Cabinet Secretary X Y, told"
            extra = _affiliations(doc, before[0], before[1]) if before else []
            person = _register(doc, inner.name, None, extra, a_lo)
            return _Speaker(person.name, person.title, tuple(person.affiliations), "named"), "", stripped
        speaker = _analyse(doc, before[0], before[1], before[0]) if before else None
        if speaker is None or speaker.kind != "named" or before is None:
            return None, "", stripped
        title_text = app.group(1).strip()
        if _title_end(title_text):  # "Steve Smith, the Australian trade minister, said"
            extra = _affiliations(doc, a_lo, lo + app.end(1))
            person = _register(doc, speaker.name, _clean_title(title_text), extra, before[0])
            speaker = _Speaker(person.name, person.title, tuple(person.affiliations), "named")
        return speaker, "", stripped
    span = _walk_back(doc, lo, hi)
    if span is None:
        return None, "", stripped
    return _analyse(doc, span[0], span[1], span[0]), "", stripped


def _verb_allowed(doc: _Doc, match: re.Match[str]) -> bool:
    verb = match.group()
    before = _PREV_WORD.search(doc.masked, max(0, match.start() - 30), match.start())
    prev = before.group(1) if before else ""
    if prev.lower() in _PASSIVE_BEFORE and not re.search(r"(to|of|from)$", verb):
        return False
    head = verb.split()[0]
    if head in _VERBS_BASE or head == "call":
        return prev.lower() in _BASE_OK_BEFORE or prev.endswith("s")
    return True


def attribute_statements(text: str, resolver: EntityResolver | None = None) -> list[Statement]:
    """Statements in a document, in order, each with its speaker, title and affiliations.

    Args:
        text: the whole document text (offsets in the result point into it).
        resolver: entity resolver; the packaged default when None.

    Returns:
        One statement per sentence and speaker; quotes without a speaker of their own take the speaker of the
        statement just before them (or just after, when none is before).
    """
    resolver = resolver or EntityResolver.default()
    paragraphs = _paragraph_breaks(text)
    quotes = _find_quotes(text, paragraphs)
    sentences = _split_sentences(text, paragraphs, quotes)
    mentions = resolver.find(text)
    doc = _Doc(
        text,
        _mask(text, quotes),
        resolver,
        mentions,
        [m.start for m in mentions],
        sentences,
        [s[0] for s in sentences],
        quotes,
    )
    _scan_people(doc)
    doc.person_positions.sort()

    verbs_by_sentence: dict[int, list[re.Match[str]]] = {}
    for match in _VERB_RE.finditer(doc.masked):
        index = bisect.bisect_right(doc.sentence_starts, match.start()) - 1
        if index >= 0 and match.end() <= sentences[index][1]:
            verbs_by_sentence.setdefault(index, []).append(match)
    by_sentence: dict[int, list[Statement]] = {}
    for index, matches in sorted(verbs_by_sentence.items()):
        s_start, s_end, _para = sentences[index]
        previous = [st for i in (index - 2, index - 1) for st in by_sentence.get(i, [])]
        in_sentence: list[Statement] = []
        for match in matches:
            if not _verb_allowed(doc, match):
                continue
            speaker = _find_speaker(doc, match, s_start, s_end, previous, in_sentence)
            if speaker is None or any(x.speaker == speaker.name for x in in_sentence):
                continue
            verb = " ".join(match.group().split())
            span_start = _quote_start(doc, s_start)
            in_sentence.append(_statement(speaker.name, speaker.title, speaker.affiliations, span_start, s_end, verb))
        if in_sentence:
            by_sentence[index] = in_sentence
    return _attach_quotes(doc, by_sentence)


def _find_speaker(
    doc: _Doc,
    match: re.Match[str],
    s_start: int,
    s_end: int,
    previous: list[Statement],
    in_sentence: list[Statement],
) -> _Speaker | None:
    if (
        match.group()[0] in "Aa"
        and match.group().lower().startswith("according")
        or re.search(r"\s(of|from)$", match.group())
    ):
        span = _walk_forward(doc, match.end(), min(s_end, match.end() + 150))
        return _analyse(doc, span[0], span[1], span[0]) if span else None
    speaker, pronoun, left = _speaker_before(doc, s_start, match.start())
    if pronoun:
        return _resolve_pronoun(doc, pronoun, match.start(), previous, in_sentence)
    if speaker is not None:
        return speaker
    if re.search(r"[”\"\x1f],?$", left):
        span = _walk_forward(doc, match.end(), min(s_end, match.end() + 150))
        return _analyse(doc, span[0], span[1], span[0]) if span else None
    if in_sentence:
        last = in_sentence[-1]
        return _Speaker(last.speaker, last.title, last.affiliations, "person")
    if re.search(r"\b(and|but)$", left):
        span = _walk_forward(doc, s_start, match.start())
        if span:
            return _analyse(doc, span[0], span[1], span[0])
    return None


def _resolve_pronoun(
    doc: _Doc, pronoun: str, pos: int, previous: list[Statement], in_sentence: list[Statement]
) -> _Speaker | None:
    recent = [*previous, *in_sentence]
    if recent:
        last = recent[-1]
        return _Speaker(last.speaker, last.title, last.affiliations, "person")
    if _PRONOUNS[pronoun] == "group":
        return None
    i = bisect.bisect_left(doc.person_positions, (pos, "")) - 1
    if i >= 0 and pos - doc.person_positions[i][0] < 600:
        person = doc.people.get(doc.person_positions[i][1]) or _known(doc, doc.person_positions[i][1])
        if person:
            return _Speaker(person.name, person.title, tuple(person.affiliations), "person")
        return _Speaker(doc.person_positions[i][1], None, (), "person")
    return None


def _has_speech_quote(doc: _Doc, start: int, end: int) -> bool:
    """A quote of several words in this sentence (not a scare-quoted name like “coalition of the willing”)."""
    i = bisect.bisect_left(doc.quotes, (start, -1))
    while i < len(doc.quotes) and doc.quotes[i][0] < end:
        q_start, q_end = doc.quotes[i]
        if len(doc.text[q_start:q_end].split()) >= _SPEECH_QUOTE_WORDS:
            return True
        i += 1
    return False


def _quote_start(doc: _Doc, s_start: int) -> int:
    """Start of a quote that opened in an earlier sentence and runs into this one, else the sentence start."""
    i = bisect.bisect_left(doc.quotes, (s_start, -1)) - 1
    if i >= 0 and doc.quotes[i][0] < s_start <= doc.quotes[i][1]:
        return doc.quotes[i][0]
    return s_start


def _attach_quotes(doc: _Doc, by_sentence: dict[int, list[Statement]]) -> list[Statement]:
    """Quote sentences with no speaker of their own take the speaker of a neighbouring sentence.

    The sentence before wins (a quote continuing what was just said), unless the next sentence refers back
    to the quote ("That was the view of ...").
    """
    out: list[Statement] = []
    for index, (s_start, s_end, _para) in enumerate(doc.sentences):
        if index not in by_sentence and _has_speech_quote(doc, s_start, s_end):
            nxt = by_sentence.get(index + 1)
            before = by_sentence.get(index - 1)
            refers_back = index + 1 < len(doc.sentences) and _REFERS_BACK.match(doc.text, doc.sentences[index + 1][0])
            source = nxt if nxt and (refers_back or not before) else before
            if source:
                first = source[0]
                by_sentence[index] = [
                    Statement(first.speaker, first.title, first.affiliations, s_start, s_end, first.verb)
                ]
        out.extend(by_sentence.get(index, []))
    return out


def _statement(
    speaker: str, title: str | None, affiliations: tuple[str, ...], start: int, end: int, verb: str
) -> Statement:
    return Statement(
        " ".join(speaker.split()), " ".join(title.split()) if title else None, affiliations, start, end, verb
    )


# --- questions ----------------------------------------------------------------------------------------------

_ASKS_STATEMENT = re.compile(
    r"\b(say|says|said|saying|statement|statements|tell|told|think|thinks|thought|want|wants|wanted|demand|"
    r"demands|demanded|react|reacts|reacted|reaction|respond|responds|responded|response|position|stance|view|"
    r"views|comment|comments|commented|warn|warns|warned|warning|urge|urges|urged|"
    r"call for|calls for|called for|"
    r"announce|announced|claim|claims|claimed|argue|argued|believe|believes|propose|proposed|criticise|"
    r"criticize|criticised|criticized|accuse|accused|declare|declared|pledge|pledged|promise|promised|insist|"
    r"insisted|welcome|welcomed|reject|rejected|condemn|condemned|message|stand|feel|feels|opinion|ask|asks|"
    r"asked|deny|denied|vow|vowed|write|wrote|add|added|mean|meant)\b",
    re.IGNORECASE,
)
_NAME_GAP = re.compile(r"[ \t]+(?:(?:" + "|".join(sorted(_PARTICLES)) + r")[ \t]+)*")
_SPEAKER_PREP = re.compile(r"\s(?:of|to|for|from|in|at|by)\s")
_QUESTION_WORDS = frozenset(
    "What Who Whom Whose How Why When Where Which Did Does Do Is Are Was Were Has Have Had Will Would Could "
    "Should Can Tell Give List Show Say According".split()
)
_ROLE_RE = re.compile(
    r"\b(" + "|".join(sorted({*ROLE_SYNONYMS, *_ROLE_ALIASES}, key=len, reverse=True)).replace(" ", r"\s+") + r")\b",
    re.IGNORECASE,
)


def parse_question(question: str, resolver: EntityResolver | None = None) -> QuestionIntent:
    """Read which parties, people and roles a question asks about, and whether it asks for their words."""
    resolver = resolver or EntityResolver.default()
    mentions = resolver.find(question)
    entities: list[Entity] = []
    for m in mentions:
        if m.entity not in entities:
            entities.append(m.entity)
    covered = [(m.start, m.end) for m in mentions]
    names: list[str] = []
    last_end = -1
    for m in re.finditer(r"[A-Z][\w\u00C0-\u024F'’-]+", question):
        word = _strip_possessive(m.group())
        if any(s <= m.start() < e for s, e in covered) or word in _QUESTION_WORDS or word in _CAP_STOP:
            continue
        if word.lower() in _TITLE_HEADS or word.lower() in _MODIFIERS or word in _HONORIFICS:
            continue
        if word.lower() in ROLE_SYNONYMS or word.lower() in _ROLE_ALIASES:
            continue
        if names and last_end >= 0 and _NAME_GAP.fullmatch(question, last_end, m.start()):
            names[-1] = f"{names[-1]}{question[last_end : m.start()]}{word}"  # "Donald Tusk" is one name
        else:
            names.append(word)
        last_end = m.start() + len(word)
    roles: list[str] = []
    for m in _ROLE_RE.finditer(question):
        key = " ".join(m.group().lower().split())
        role = _ROLE_ALIASES.get(key, key)
        if role not in roles:
            roles.append(role)
    return QuestionIntent(tuple(entities), tuple(names), tuple(roles), bool(_ASKS_STATEMENT.search(question)))


def _role_hit(roles: Sequence[str], st: Statement) -> bool:
    text = f" {(st.title or '')} {st.speaker} ".lower()
    return any(_role_pattern(r).search(text) for r in roles)


@functools.cache
def _role_pattern(role: str) -> re.Pattern[str]:
    synonyms = ROLE_SYNONYMS.get(role, (role,))
    return re.compile(r"\b(?:" + "|".join(re.escape(s) for s in synonyms) + r")\b")


def _split_head(speaker: str) -> tuple[str, str]:
    """Split "an adviser to mr macron" into ("an adviser", "mr macron"): the head is who speaks."""
    m = _SPEAKER_PREP.search(speaker)
    return (speaker[: m.start()], speaker[m.end() :]) if m else (speaker, "")


def statement_match(intent: QuestionIntent, statements: Sequence[Statement]) -> float:
    """How well one passage's statements answer "what did <party> say" (0..1).

    1.0 for a statement by the party itself (an affiliation equal to a question entity, or the named person),
    with the asked role when one is asked; 0.5 when the role differs; 0.6 for a joint statement the party
    signed with others; 0 when nothing matches or the question does not ask for anyone's words.
    """
    if not intent.asks_statement or not statements:
        return 0.0
    if not (intent.entities or intent.names or intent.role_terms):
        return 0.0
    wanted = {e.id for e in intent.entities}
    names = [n.lower().split()[-1] for n in intent.names if n.strip()]
    best = 0.0
    for st in statements:
        score = 0.0
        if names:
            head, rest = _split_head(st.speaker.lower())
            head_words = [_strip_possessive(w) for w in head.split()]
            rest_words = [_strip_possessive(w) for w in rest.split()]
            if any(head_words and head_words[-1] == n for n in names):
                score = 1.0
            elif any(n in head_words or n in rest_words for n in names):
                score = 0.6
        hit = wanted & set(st.affiliations)
        if hit:
            countries = [a for a in st.affiliations if a.startswith("country:")]
            group = len(countries) > 1
            role_ok = not intent.role_terms or _role_hit(intent.role_terms, st)
            value = (0.6 if role_ok else 0.3) if group else (1.0 if role_ok else 0.5)
            if names and score == 0.0:
                value *= 0.5
            score = max(score, value)
        elif not wanted and not names and intent.role_terms and _role_hit(intent.role_terms, st):
            score = max(score, 0.8)
        best = max(best, score)
        if best >= 1.0:
            break
    return best
