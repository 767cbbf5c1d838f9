"""Who a question asks about, and how well one passage's statements answer "what did <party> say?".

Query-time half of attribution: :func:`parse_question` reads which parties, people and roles a question names
and whether it asks for their words; :func:`statement_match` scores a passage's attributed statements
(:class:`indexer.attribution.Statement`, made at build time) against that intent.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import jellyfish
from rapidfuzz import fuzz

from indexer.attribution import Statement
from indexer.attribution.phrases import strip_possessive
from indexer.attribution.vocabulary import CAP_STOP, HONORIFICS, MODIFIERS, PARTICLES, TITLE_HEADS
from indexer.entities import Entity, EntityResolver
from indexer.tokens import stem

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
# "the home secretary", "the culture minister", "the Welsh first minister": a portfolio's minister, whatever the
# country calls the office. Portfolios as news names them.
PORTFOLIO_ROLE = "minister"
PORTFOLIO_ROLE_RE = re.compile(
    r"\b(home|foreign|culture|media|sport|education|health|trade|industry|business|defence|defense|work|pensions|"
    r"environment|transport|interior|justice|finance|economy|economics|energy|agriculture|farm|farming|fisheries|"
    r"treasury|labour|labor|employment|housing|welfare|communications|information|technology|science|tourism|"
    r"immigration|northern\s+ireland|scottish|welsh|first|europe|european|development|oil|petroleum|mines|"
    r"commerce|planning|budget|security|social\s+affairs|foreign\s+affairs|home\s+affairs)\s+(?:secretary|minister)\b",
    re.IGNORECASE,
)
# "shadow chancellor": the opposition's spokesperson for the office, never its holder.
SHADOW = "shadow"
SHADOW_BEFORE = re.compile(rf"\b{SHADOW}\s+$", re.IGNORECASE)
# Question wording that names a role -> the role's key above.
ROLE_ALIASES: dict[str, str] = {
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


@dataclass(frozen=True)
class QuestionIntent:
    """Whose words a question asks for."""

    entities: tuple[Entity, ...]
    names: tuple[str, ...]
    role_terms: tuple[str, ...]
    asks_statement: bool
    topic: tuple[str, ...] = ()
    """Content words after the reporting verb ("deflation" in "What did Japan say about deflation?")."""
    verb: str | None = None
    """The stem of a stance the question asks for ("warn" in "What did the Bank warn about?"); None for "say"."""

    @property
    def names_a_party(self) -> bool:
        """Whether the question asks for someone's words and names whose (a party, a person or a role)."""
        return self.asks_statement and bool(self.entities or self.names or self.role_terms)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "entities": [asdict(e) for e in self.entities],
            "names": list(self.names),
            "role_terms": list(self.role_terms),
            "asks_statement": self.asks_statement,
            "topic": list(self.topic),
            "verb": self.verb,
        }


# Words that carry no topic in a question's tail ("about", "the", "would").
FUNCTION_WORDS = frozenset(
    """about above after again against all and any are because been before being below between both but can
    could did does doing down during each for from further had has have having her here hers him his how into
    its itself just more most not now off once only other our out over own same she should some such than that
    the their them then there these they this those through too under until very was were what when where
    which while who whom why will with would you your say said tell told""".split()
)
ASKS_STATEMENT = re.compile(
    r"\b(say|says|said|saying|statement|statements|tell|told|think|thinks|thought|want|wants|wanted|demand|"
    r"demands|demanded|react|reacts|reacted|reaction|respond|responds|responded|response|position|stance|view|"
    r"views|comment|comments|commented|warn|warns|warned|warning|urge|urges|urged|"
    r"call for|calls for|called for|"
    r"announce|announced|claim|claims|claimed|argue|argued|believe|believes|propose|proposed|criticise|"
    r"criticize|criticised|criticized|accuse|accused|declare|declared|pledge|pledged|promise|promised|insist|"
    r"insisted|welcome|welcomed|reject|rejected|condemn|condemned|message|stand|feel|feels|opinion|ask|asks|"
    r"asked|deny|denied|vow|vowed|write|wrote|add|added|mean|meant|expect|expects|expected|hope|hopes|hoped|"
    r"offer|offers|offered|predict|predicts|predicted|suggest|suggests|suggested|recommend|recommended|"
    r"attack|attacked|blame|blamed|defend|defended|dismiss|dismissed|reply|replied|plan|plans|planned)\b",
    re.IGNORECASE,
)
NEXT_WORD = re.compile(r"\s+([a-z][\w-]*)")
NAME_GAP = re.compile(r"[ \t]+(?:(?:" + "|".join(sorted(PARTICLES)) + r")[ \t]+)*")
SPEAKER_PREP = re.compile(r"\s(?:of|to|for|from|in|at|by)\s")
QUESTION_WORDS = frozenset(
    "What Who Whom Whose How Why When Where Which Did Does Do Is Are Was Were Has Have Had Will Would Could "
    "Should Can Tell Give List Show Say According".split()
)
ROLE_RE = re.compile(
    r"\b(" + "|".join(sorted({*ROLE_SYNONYMS, *ROLE_ALIASES}, key=len, reverse=True)).replace(" ", r"\s+") + r")\b",
    re.IGNORECASE,
)


def parse_question(question: str, resolver: EntityResolver | None = None) -> QuestionIntent:
    """Read which parties, people and roles a question asks about, and whether it asks for their words.

    In "What did Tokyo say about its trade friction with the United States?" the party is the one named before
    the reporting verb (Japan); parties, people and roles named after it are the topic.
    """
    resolver = resolver or EntityResolver.default()
    mentions = resolver.find(question)
    asks = ASKS_STATEMENT.search(question)
    head = question[: asks.start()] if asks and asks.start() > 0 else question  # who speaks, not the topic
    names = _question_names(head, [(m.start, m.end) for m in mentions])
    roles = _question_roles(head)
    speaking = [m for m in mentions if asks and m.end <= asks.start()]
    if not speaking and not names and not roles:
        speaking = mentions  # "Reaction of Poland to ...": the party comes after the verb
    entities = list(dict.fromkeys(m.entity for m in speaking))
    topic = _topic_words(question[asks.end() :]) if asks else ()
    verb = verb_stem(asks.group()) if asks else None
    return QuestionIntent(
        tuple(entities), tuple(names), tuple(roles), asks is not None, topic, verb if verb in STANCE_STEMS else None
    )


@functools.lru_cache(maxsize=4096)
def verb_stem(verb: str) -> str:
    """The stem a reporting verb shares with its other forms ("warned", "warns" -> "warn"; "criticized")."""
    return stem(verb.split()[0].lower().replace("iz", "is"))


def _topic_words(text: str) -> tuple[str, ...]:
    """The content words of what a question asks about (after its reporting verb)."""
    words = (w.lower() for w in re.findall(r"\w+(?:['’]\w+)*", text))
    return tuple(dict.fromkeys(w for w in words if len(w) > 2 and w not in FUNCTION_WORDS))


def _question_names(question: str, covered: Sequence[tuple[int, int]]) -> list[str]:
    """Capitalised words that are neither parties, titles nor question words: "Donald Tusk", "Miyazawa"."""
    names: list[str] = []
    last_end = -1
    for match in re.finditer(r"[A-Z][\w\u00C0-\u024F'’-]+", question):
        word = strip_possessive(match.group())
        low = word.lower()
        if any(s <= match.start() < e for s, e in covered) or word in QUESTION_WORDS or word in CAP_STOP:
            continue
        if ASKS_STATEMENT.fullmatch(word):
            continue  # "Reaction of Poland to ...", "Comments by ..."
        if low in TITLE_HEADS or low in MODIFIERS or word in HONORIFICS or low in ROLE_SYNONYMS or low in ROLE_ALIASES:
            continue
        following = NEXT_WORD.match(question, match.end())
        if following and (following.group(1) in TITLE_HEADS or following.group(1) in MODIFIERS):
            continue  # an adjective before a title: "the Welsh first minister"
        if names and last_end >= 0 and NAME_GAP.fullmatch(question, last_end, match.start()):
            names[-1] = f"{names[-1]}{question[last_end : match.start()]}{word}"  # "Donald Tusk" is one name
        else:
            names.append(word)
        last_end = match.start() + len(word)
    return names


def _question_roles(question: str) -> list[str]:
    """The roles a question names ("France's military chief" -> "military chief", "the home secretary")."""
    found: list[tuple[int, str]] = []
    for match in PORTFOLIO_ROLE_RE.finditer(question):
        key = " ".join(match.group().lower().split())
        if key not in ROLE_SYNONYMS and key not in ROLE_ALIASES:  # "foreign secretary" has its own entry
            found.append((match.start(), f"{match.group(1).lower()} {PORTFOLIO_ROLE}"))
    for match in ROLE_RE.finditer(question):
        if not any(start <= match.start() < start + len(role) for start, role in found):  # "first minister"
            key = " ".join(match.group().lower().split())
            found.append((match.start(), ROLE_ALIASES.get(key, key)))
    roles: list[str] = []
    for start, role in sorted(found):
        if SHADOW_BEFORE.search(question, 0, start):
            role = f"{SHADOW} {role}"  # the opposition's counterpart, not the office holder
        if role not in roles:
            roles.append(role)
    return roles


def role_hit(roles: Sequence[str], st: Statement) -> bool:
    text = f" {(st.title or '')} {st.speaker} ".lower()
    return any(role_pattern(r).search(text) for r in roles)


@functools.cache
def role_pattern(role: str) -> re.Pattern[str]:
    """A title holding `role`: "shadow chancellor" only a shadow one, "chancellor" never a shadow one."""
    shadow = role.startswith(f"{SHADOW} ")
    office = role.removeprefix(f"{SHADOW} ")
    synonyms = ROLE_SYNONYMS.get(office) or portfolio_titles(office) or (office,)
    held = r"\b(?:" + "|".join(re.escape(s) for s in synonyms) + r")\b"
    return re.compile(rf"\b{SHADOW}\s+(?:[a-z]+\s+)?{held}" if shadow else rf"(?<!{SHADOW} ){held}")


def portfolio_titles(role: str) -> tuple[str, ...]:
    """The titles of a portfolio's minister ("home minister": "home secretary", "minister for home affairs"...)."""
    if not role.endswith(f" {PORTFOLIO_ROLE}"):
        return ()
    portfolio = role.removesuffix(f" {PORTFOLIO_ROLE}")
    return (
        f"{portfolio} minister",
        f"{portfolio} secretary",
        f"{portfolio} affairs minister",
        f"minister of {portfolio}",
        f"minister for {portfolio}",
        f"secretary of state for {portfolio}",
    )


def split_head(speaker: str) -> tuple[str, str]:
    """Split "an adviser to mr macron" into ("an adviser", "mr macron"): the head is who speaks."""
    m = SPEAKER_PREP.search(speaker)
    return (speaker[: m.start()], speaker[m.end() :]) if m else (speaker, "")


# Stances a question may ask for by name ("What did X warn about?", "What did X deny?"); a statement made with
# that verb answers it more surely (ASKED_STANCE) than the party's other words, which still answer it: a
# question's "warn" often paraphrases what was "said". "Say", "tell", "think", "react" ask for anything said.
STANCE_STEMS = frozenset(
    verb_stem(v)
    for v in """warn urge demand announce claim argue propose criticise accuse declare pledge promise insist welcome
    reject condemn deny vow predict suggest recommend attack blame defend dismiss offer""".split()
)
ASKED_STANCE = 1.2
# A government speaker whose country the text leaves implied (see ``indexer.attribution.statements``) answers
# for that country, a little less surely than one the text names.
IMPLIED_PARTY = 0.8
# Indel similarity (0-100) from which two spellings of a surname are the same name ("Zelensky"/"Zelenskyy").
NEAR_SPELLING = 85
CLOSE_SPELLING = 75
TRANSLITERATED_SPELLING = 70


def statement_match(intent: QuestionIntent, statements: Sequence[Statement]) -> float:
    """How well one passage's statements answer "what did <party> say"; see :func:`best_statement`."""
    return best_statement(intent, statements)[0]


def best_statement(intent: QuestionIntent, statements: Sequence[Statement]) -> tuple[float, Statement | None]:
    """The statement that best answers "what did <party> say", with its score.

    1.0 for a statement by the party itself (an affiliation equal to a question entity, or the named person),
    with the asked role when one is asked; 0.5 when the role differs; 0.6 for a joint statement the party
    signed with others; 0 (and no statement) when nothing matches or the question asks for no one's words.
    A statement made with the stance the question asks for ("warn") scores `ASKED_STANCE` times as much.
    """
    if not intent.asks_statement or not statements:
        return 0.0, None
    if not (intent.entities or intent.names or intent.role_terms):
        return 0.0, None
    best, chosen = 0.0, None
    for st in statements:
        score = score_statement(intent, st)
        if intent.verb is not None and verb_stem(st.verb) == intent.verb:
            score *= ASKED_STANCE  # "What did the Bank warn about?": its warning before its other words
        if score > best:
            best, chosen = score, st
            if best >= ASKED_STANCE or (best >= 1.0 and intent.verb is None):
                break
    return best, chosen


def score_statement(intent: QuestionIntent, st: Statement) -> float:
    """How well one statement answers the question: by the named person, the party, or the asked role."""
    wanted = {e.id for e in intent.entities}
    names = [n.lower().split()[-1] for n in intent.names if n.strip()]
    score = _name_score(names, st.speaker) if names else 0.0
    explicit = bool(wanted & set(st.affiliations))
    if explicit or wanted & set(st.implied):
        countries = [a for a in st.affiliations if a.startswith("country:")]
        role_ok = not intent.role_terms or role_hit(intent.role_terms, st)
        value = (0.6 if role_ok else 0.3) if len(countries) > 1 else (1.0 if role_ok else 0.5)
        if not explicit:
            value *= IMPLIED_PARTY
        if names and score == 0.0:
            value *= 0.5
        return max(score, value)
    if not wanted and not names and intent.role_terms and role_hit(intent.role_terms, st):
        return max(score, 0.8)
    return score


def _name_score(surnames: Sequence[str], speaker: str) -> float:
    """1.0 when the speaker's head is the asked person, 0.6 when the person is only named in the phrase."""
    head, rest = split_head(speaker.lower())
    head_words = [strip_possessive(w) for w in head.split()]
    rest_words = [strip_possessive(w) for w in rest.split()]
    if head_words and any(same_name(n, head_words[-1]) for n in surnames):
        return 1.0
    if any(same_name(n, w) for n in surnames for w in (*head_words, *rest_words)):
        return 0.6
    return 0.0


@functools.lru_cache(maxsize=65_536)
def same_name(asked: str, written: str) -> bool:
    """Whether two spellings name the same person: equal, a near spelling, or a close one that sounds the same.

    "Zelensky"/"Zelenskyy" and "Gorbachev"/"Gorbachov" are near spellings (Indel similarity >= 85); "Tchaikovsky"
    /"Chaikovsky" sound alike (same Metaphone key) and are close; "Qadhafi"/"Gaddafi" are transliterations (Match
    Rating Approach, names of six letters or more); short names must match exactly ("Li", "Lu").
    """
    if asked == written:
        return True
    if min(len(asked), len(written)) < 5:
        return False
    similarity = fuzz.ratio(asked, written)
    if similarity >= NEAR_SPELLING:
        return True
    if similarity >= CLOSE_SPELLING and jellyfish.metaphone(asked) == jellyfish.metaphone(written):
        return True
    # Transliterations of one name ("Qadhafi"/"Gaddafi"): the Match Rating Approach, made for names, on longer ones.
    return (
        similarity >= TRANSLITERATED_SPELLING
        and min(len(asked), len(written)) >= 6
        and bool(jellyfish.match_rating_comparison(asked, written))
    )
