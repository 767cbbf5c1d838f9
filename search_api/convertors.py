"""Starlette's ``path`` convertor, made to match every character, newlines included.

Starlette's own ``path`` convertor matches ``.*``, which stops at a newline, so a document whose file name holds
one (``new\\nline.txt``, requested as ``/documents/new%0Aline.txt``) was a 404. Importing this module replaces
the ``path`` convertor for every route of the process: a path parameter takes the rest of the path, whatever
characters it decodes to.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class AnyPathConvertor(Convertor[str]):
    """Like Starlette's ``path`` convertor, but across newlines and other control characters."""

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("path", AnyPathConvertor())
