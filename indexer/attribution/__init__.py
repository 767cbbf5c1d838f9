"""Who said what: reported speech and quotes attached to speakers, titles and the parties they speak for.

News rarely puts "Poland" next to what Poland said: it writes "Polish Prime Minister Donald Tusk said ...",
"“...,” he said.", "Mr Mandon's office said" or "leaders of France, Germany and Poland said". The package
reads a document in steps, one module each:

- :mod:`~indexer.attribution.vocabulary`: the words (titles, agent nouns, reporting verbs);
- :mod:`~indexer.attribution.text`: paragraphs, quotes and sentences;
- :mod:`~indexer.attribution.phrases`: speaker noun phrases and the people a document introduces;
- :mod:`~indexer.attribution.speakers`: the grammar that reads who a phrase names and whom they speak for;
- :mod:`~indexer.attribution.statements`: reporting verbs, their speakers, quotes -> :class:`Statement`.

Matching a question against statements is query-time work and lives in ``search_api.question``.
"""

from indexer.attribution.statement import Statement
from indexer.attribution.statements import attribute_statements

__all__ = ["Statement", "attribute_statements"]
