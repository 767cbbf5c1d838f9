"""Plain text: legacy encodings found by detection (short files too), bad UTF-8 bytes replaced, headlines."""

from __future__ import annotations

import pytest

from indexer.formats.text import Decoded, decode, news_headline

pytest.importorskip("charset_normalizer")


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        ("Café crème – €5", "cp1252", {"cp1252"}),  # a detector alone reads this as cp775
        ("Zoë", "latin-1", {"latin-1", "cp1252"}),
        ("Garçon, déjà vu.", "latin-1", {"latin-1", "cp1252"}),
        ("“Hello,” she said — it’s fine.", "cp1252", {"cp1252"}),
        ("Le garçon a mangé une crêpe à la fête du marché. " * 20, "latin-1", {"latin-1", "cp1252"}),
        ("Die Straße in München ist grün und schön.", "cp1252", {"latin-1", "cp1252"}),
        ("Привет, как дела? Это тест на кодировку.", "cp1251", {"cp1251"}),
        ("Zażółć gęślą jaźń w Krakowie.", "cp1250", {"cp1250"}),
        ("Hello world, plain ASCII.", "ascii", {"utf-8"}),
    ],
)
def test_legacy_encodings_are_detected_even_in_short_files(text: str, encoding: str, expected: set[str]) -> None:
    decoded = decode(text.encode(encoding))
    assert isinstance(decoded, Decoded), decoded
    assert decoded.text == text
    assert decoded.encoding in expected
    assert decoded.replaced_bytes == 0


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-32"])
def test_unicode_with_or_without_a_byte_order_mark(codec: str) -> None:
    text = "Kraków and Zürich, 5 €."
    decoded = decode(text.encode(codec))
    assert isinstance(decoded, Decoded), decoded
    assert decoded.text == text


def test_utf8_with_one_bad_byte_stays_utf8_with_the_byte_replaced_and_counted() -> None:
    data = "Zürich ... Kraków ... €".encode() + b"\xff" + b" and more."
    decoded = decode(data)
    assert decoded == Decoded("Zürich ... Kraków ... €\ufffd and more.", "utf-8", 1)


def test_binary_is_not_text() -> None:
    assert decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00") == "binary file (contains NUL bytes), not text"
    reason = decode(bytes(range(1, 9)) * 20)
    assert isinstance(reason, str) and reason.startswith("binary file")


@pytest.mark.parametrize(
    ("text", "headline"),
    [
        ("HARBOUR STRIKE ENDS AFTER NINE DAYS\n\nDock workers voted on Monday.", "HARBOUR STRIKE ENDS AFTER NINE DAYS"),
        ("Harbour strike ends, union says\n\nDock workers voted.", "Harbour strike ends, union says"),
        ("\nU.S. rates seen steady...\n\nBody.", "U.S. rates seen steady..."),
        ("Dock workers voted on Monday.\n\nBody.", None),  # a sentence, not a headline
        ("Harbour strike ends\nDock workers voted on Monday.", None),  # no blank line after it
        ("Only one line", None),
        ("x " * 40 + "\n\nBody.", None),  # too long
    ],
)
def test_a_first_line_that_reads_as_a_headline_is_the_title(text: str, headline: str | None) -> None:
    assert news_headline(text) == headline
