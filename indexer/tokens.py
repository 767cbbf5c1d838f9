"""Words and stems: the one tokeniser of the lexical index, its queries and the highlights.

Text is lower-cased, accents are removed, words are runs of letters and digits (so an apostrophe splits
"Tusk's" into "tusk" and "s"), stop words are dropped and the rest stemmed with the Snowball English stemmer.
Questions go through exactly the same steps as indexed text, so whatever a passage was indexed under, the same
word in a question finds it.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import Stemmer  # type: ignore[import-not-found]  # PyStemmer ships no type information

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
    off on once only or other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours yourself yourselves s t d ll m re ve don
    shall may might must""".split()
)
_STEMMER = Stemmer.Stemmer("english")
#: Distinct content words of a question that are searched; the rest of a longer question is ignored, never
#: refused. 64 is more than any real question has, and bounds the lexical work to 64 posting lists per field.
MAX_QUERY_TERMS = 64


def words(text: str) -> list[str]:
    """The content words of `text` in order: lower-cased, without accents, stop words left out."""
    return [w for w in _WORD.findall(_fold(text)) if w not in STOPWORDS]


def _fold(text: str) -> str:
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=262_144)
def stem(word: str) -> str:
    """The Snowball English stem of one lower-cased word."""
    return str(_STEMMER.stemWord(word))


def analyse(text: str) -> list[str]:
    """The stems `text` is indexed (or searched) under, in order, repeats kept."""
    return [stem(w) for w in words(text)]
