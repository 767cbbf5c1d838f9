"""Countries and international organisations named in text: "Polish", "Warsaw", "the UK", "Nato", "Brussels".

The names come from ``data/entities.json``, generated from maintained packages by
``python -m indexer.data.make_entities``. Matching is one compiled trie-shaped regex, case-sensitive for
normal text (so "US" is not "us" and "China" is not "china"); text typed all in lower case (a query such as
"what did poland say?") is matched case-insensitively, leaving out forms that are common English words.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.data.institutions import INSTITUTIONS, SEATS

DATA_FILE = Path(__file__).with_name("data") / "entities.json"

# A form right after one of these words names another place ("New Mexico", "Northern Ireland", "North Pole").
_PLACE_PREFIXES = frozenset(
    "New North South East West Northern Southern Eastern Western Upper Lower Central Greater Little Latin Pan".split()
)
# Capitalised nouns that make a place name the first word of another name: a club, market, accord or company.
_PLACE_NAMED_THINGS = frozenset(
    "Club Airlines Airways Exchange Stock Futures Metal Accord Accords Agreement Round Summit Treaty Convention "
    "Daily Times Post Herald Radio Television Motor Motors Steel Electric Shipping Lines".split()
)
# Country names that are also given names: "Chad Smith", "Jordan Peterson" are people, not states.
_GIVEN_NAME_FORMS = frozenset({"Chad", "Jordan", "Georgia", "Dominique"})
# Lower-case words that must never be read as an abbreviation in lower-case text ("tell us", "who").
_ENGLISH_WORDS = frozenset(
    "a am an as at be by do ec go he if in is it me my no of oh on or so to un up us we who was".split()
)
_FUNCTION_WORDS = frozenset(
    "A An The In On At From To And Or But With Of For By As After Before Visiting Neighbouring Neighboring "
    "Both Including Like Unlike Against Between Across Inside Outside Within Without".split()
)
_WORD_BEFORE = re.compile(r"([A-Za-z]+)[ \t]+$")
_WORD_AFTER = re.compile(r"^[ \t]+([A-Z][a-z]+)")
_OF_A_NAME_AFTER = re.compile(r"[ \t\n]+of[ \t\n]+(?:the[ \t\n]+)?[A-Z]")
# A capitalised word that does not start a sentence: the text uses capitals for names.
_MID_CAPITAL = re.compile(r"[^\s.!?\"“(:]\s*(?<![\w'’])[A-Z]")
# One-word names of a party or body that other countries' parties and bodies also carry inside longer names.
_ONE_WORD_NAMES_OF_MANY = frozenset({"party", "government body"})
_BODY_NOUNS = frozenset(
    "Ministry Minister Ministers Department Day Office Secretary Court Code Force Guard Guards Army Unions Union "
    "Market Costs Leader".split()
)
_OWNER_BEFORE = re.compile(r"([A-Z][A-Za-z]+)['’]s[ \t]+$")
# Questions up to this length also match lower-case names ("What did poland say about the EU?").
_SHORT_QUESTION = 300


@dataclass(frozen=True, slots=True)
class Entity:
    """A country or an international organisation."""

    id: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class EntityMention:
    """One place in a text where an entity is named."""

    entity: Entity
    start: int
    end: int
    surface: str


def _norm(surface: str) -> str:
    return " ".join(surface.split())


def trie_regex(forms: Iterable[str]) -> str:
    """A regex alternation shaped as a character trie: fast in Python's backtracking engine."""
    trie: dict[str, Any] = {}
    for form in forms:
        node = trie
        for ch in form:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = []
        for ch in sorted(k for k in node if k):
            atom = r"\s+" if ch == " " else re.escape(ch)
            branches.append(atom + emit(node[ch]))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return "(?:" + body + ")?"
        return body

    return emit(trie)


class EntityResolver:
    """Finds entity mentions in text and lists the surface forms of each entity."""

    def __init__(
        self,
        entities: Sequence[Entity],
        forms: Mapping[str, Sequence[str]],
        parents: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Build the matcher.

        Args:
            entities: every entity that can be found.
            forms: entity id -> its surface forms (canonical name first is best); each form names one entity.
            parents: entity id -> ids of the bodies it belongs to (e.g. European Commission -> EU).
        """
        self._entities = {e.id: e for e in entities}
        self._forms: dict[str, list[str]] = {}
        self._parents = {k: tuple(v) for k, v in (parents or {}).items()}
        self._by_form: dict[str, str] = {}
        self._by_lower: dict[str, str] = {}
        for entity_id, entity_forms in forms.items():
            if entity_id not in self._entities:
                raise ValueError(f"forms given for unknown entity id {entity_id!r}; add it to entities first")
            kept = list(dict.fromkeys(_norm(f) for f in entity_forms if f.strip()))
            self._forms[entity_id] = kept
            for form in kept:
                self._by_form.setdefault(form, entity_id)
                low = form.lower()
                if low not in _ENGLISH_WORDS and len(low) >= 2:
                    self._by_lower.setdefault(low, entity_id)
        if not self._by_form:
            raise ValueError("no surface forms given: an EntityResolver needs at least one form")
        # Longest forms first inside the trie is implicit: optional tails are greedy.
        self._cased = re.compile(r"(?<![\w.])(?:" + trie_regex(self._by_form) + r")(?![\w])")
        self._caseless = re.compile(r"(?<![\w.])(?:" + trie_regex(self._by_lower) + r")(?![\w])", re.IGNORECASE)

    @classmethod
    @functools.cache
    def default(cls) -> EntityResolver:
        """The resolver over the packaged data (built once): institutions first, so "Bundesbank" is the bank.

        Countries and international organisations come from ``data/entities.json``; parties, government bodies,
        central banks, news organisations and older seats of government from ``data/institutions.json``.
        """
        try:
            raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise FileNotFoundError(
                f"{DATA_FILE} is missing; regenerate it with `python -m indexer.data.make_entities`"
            ) from err
        entities = [Entity(i.id, i.name, i.kind) for i in INSTITUTIONS]
        forms: dict[str, list[str]] = {i.id: list(i.forms) for i in INSTITUTIONS}
        parents: dict[str, Sequence[str]] = {i.id: i.parents for i in INSTITUTIONS}
        claimed = {form for i in INSTITUTIONS for form in i.forms}
        for row in raw["entities"]:
            entities.append(Entity(row["id"], row["name"], row["kind"]))
            forms[row["id"]] = [f for f in [*row["forms"], *SEATS.get(row["id"], ())] if f not in claimed]
            parents[row["id"]] = row.get("parents", [])
        return cls(entities, forms, parents)

    def get(self, entity_id: str) -> Entity:
        """The entity with this id; KeyError names the id when it is unknown."""
        try:
            return self._entities[entity_id]
        except KeyError:
            raise KeyError(f"unknown entity id {entity_id!r}; ids look like 'country:PL' or 'org:EU'") from None

    def surface_forms(self, entity_id: str) -> list[str]:
        """Names, short names, demonyms and capital or seat of an entity, for query expansion."""
        self.get(entity_id)
        return list(self._forms.get(entity_id, []))

    def parents(self, entity_id: str) -> tuple[str, ...]:
        """Ids of the bodies an organisation belongs to (European Commission -> EU); empty for most."""
        return self._parents.get(entity_id, ())

    def lookup(self, surface: str) -> Entity | None:
        """The entity a single surface form names exactly ("Poles" -> Poland), or None."""
        key = _norm(surface)
        entity_id = self._by_form.get(key)
        if entity_id is None and key.lower() == key:
            entity_id = self._by_lower.get(key)
        return self._entities[entity_id] if entity_id else None

    def find(self, text: str) -> list[EntityMention]:
        """Every entity mention in ``text``, left to right, with character offsets into ``text``.

        Text that uses capitals for names is matched case-sensitively; text without them (or a short question)
        also matches lower-case names, except forms that are common English words ("us", "who").
        """
        if _looks_caseless(text):
            return self._scan(text, caseless=True)
        mentions = self._scan(text, caseless=False)
        if len(text) <= _SHORT_QUESTION and text.rstrip().endswith("?"):
            taken = [(m.start, m.end) for m in mentions]
            extra = [
                m
                for m in self._scan(text, caseless=True)
                if m.surface.islower() and not any(s < m.end and m.start < e for s, e in taken)
            ]
            mentions = sorted(mentions + extra, key=lambda m: m.start)
        return mentions

    def _scan(self, text: str, caseless: bool) -> list[EntityMention]:
        pattern, table = (self._caseless, self._by_lower) if caseless else (self._cased, self._by_form)
        mentions: list[EntityMention] = []
        for match in pattern.finditer(text):
            surface = match.group()
            key = _norm(surface)
            entity_id = table.get(key.lower() if caseless else key)
            if entity_id is None or (
                not caseless and _blocked(text, match.start(), match.end(), key, self._entities[entity_id].kind)
            ):
                continue
            mentions.append(EntityMention(self._entities[entity_id], match.start(), match.end(), surface))
        return mentions


def _names_something_else(text: str, start: int, end: int, before: re.Match[str] | None) -> bool:
    """A one-word party or body name inside a longer one: "Labour Ministry", "Social Democrats", "Brazil's Congress"."""
    after = _WORD_AFTER.match(text[end : end + 30])
    if after and after.group(1) in _BODY_NOUNS:
        return True
    if _OF_A_NAME_AFTER.match(text, end):  # "Congress of South African Trade Unions" is no U.S. Congress
        return True
    owner = _OWNER_BEFORE.search(text, max(0, start - 40), start)
    word = owner.group(1) if owner else (before.group(1) if before else "")
    return bool(word) and word[0].isupper() and word not in _FUNCTION_WORDS


def _looks_caseless(text: str) -> bool:
    """True for text typed without capitals (or all in capitals): capitals carry no signal there."""
    return not any(ch.islower() for ch in text) or not _MID_CAPITAL.search(text)


def _blocked(text: str, start: int, end: int, key: str, kind: str = "country") -> bool:
    before = _WORD_BEFORE.search(text, max(0, start - 20), start)
    if before and before.group(1) in _PLACE_PREFIXES:
        return True
    if kind in _ONE_WORD_NAMES_OF_MANY and " " not in key and _names_something_else(text, start, end, before):
        return True
    after_word = _WORD_AFTER.match(text[end : end + 30])
    if kind == "country" and after_word and after_word.group(1) in _PLACE_NAMED_THINGS:
        return True  # "Paris Club", "Tokyo Stock Exchange", "Japan Airlines": named after the place, not it
    if key in _GIVEN_NAME_FORMS:
        after = _WORD_AFTER.match(text[end : end + 30])
        if after and after.group(1) not in _FUNCTION_WORDS:
            return True
        if before and before.group(1)[0].isupper() and before.group(1) not in _FUNCTION_WORDS:
            return True
    return False
