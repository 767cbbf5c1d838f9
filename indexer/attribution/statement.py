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

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (the tuple of affiliations becomes a list)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Statement:
        """The inverse of :meth:`to_dict`; a ValueError names what is wrong with ``data``."""
        affiliations = data.get("affiliations", ())
        if isinstance(affiliations, list):
            data = {**data, "affiliations": tuple(affiliations)}
        return cls.model_validate(data)
