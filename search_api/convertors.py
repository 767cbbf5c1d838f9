"""URL path convertors Starlette lacks: ids that may hold any character, newlines included.

Starlette's ``path`` convertor matches ``.*``, which stops at a newline, so a document whose file name holds
one (``new\\nline.txt``, requested as ``/documents/new%0Aline.txt``) would be a 404. Importing this module
registers ``any_path``, which matches every character.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

ANY_PATH = "any_path"


class AnyPathConvertor(Convertor[str]):
    """Like Starlette's ``path`` convertor, but across newlines and other control characters."""

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor(ANY_PATH, AnyPathConvertor())
