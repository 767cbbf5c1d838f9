"""The record attribution produces: one statement with its speaker, title and the parties it speaks for."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict


class Statement(BaseModel):
    """One attributed statement: a sentence (or sentences) of reported speech or quotation.

    Stored as a JSON object in the passages table's ``statements`` column (offsets into the document text).
    """

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    speaker: str
    title: str | None
    affiliations: tuple[str, ...]
    start: int
    end: int
    verb: str
    implied: tuple[str, ...] = ()
    """The country the document is about, for a government speaker the text names no country for (weaker)."""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (the tuple of affiliations becomes a list)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Statement:
        """The inverse of :meth:`to_dict`; a ValueError names what is wrong with ``data``."""
        lists = {k: tuple(v) for k in ("affiliations", "implied") if isinstance(v := data.get(k), list)}
        return cls.model_validate({**data, **lists} if lists else data)
