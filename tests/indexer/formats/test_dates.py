"""Published dates as ISO 8601 from metadata values, record fields, PDF dates and news datelines."""

from __future__ import annotations

import datetime as dt

import pytest

from indexer.formats.dates import from_dateline, from_fields, from_pdf_date, published, to_iso


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2026-11-03", "2026-11-03"),
        ("2026-11-03T07:45:00+01:00", "2026-11-03T07:45:00+01:00"),
        ("26-FEB-1987 15:01:01.79", "1987-02-26T15:01:01"),
        ("26-FEB-1987 15:01:01.79RM", "1987-02-26T15:01:01"),  # junk zone letters as in the Reuters set
        ("March 3, 2026", "2026-03-03"),
        ("3 Nov 2026", "2026-11-03"),
        (dt.datetime(2026, 5, 2, 8, 0, tzinfo=dt.UTC), "2026-05-02T08:00:00+00:00"),
        (dt.date(2026, 5, 2), "2026-05-02"),
        ("1987", None),  # a year alone is no date
        ("not a date", None),
        ("yesterday", None),
        (42, None),
        (None, None),
    ],
)
def test_to_iso(value: object, iso: str | None) -> None:
    assert to_iso(value) == iso


def test_pdf_dates() -> None:
    assert from_pdf_date("D:20260314093000+01'00'") == "2026-03-14T09:30:00+01:00"
    assert from_pdf_date("D:20260314093000Z") == "2026-03-14T09:30:00+00:00"
    assert from_pdf_date("D:20260314") == "2026-03-14"
    assert from_pdf_date("D:2026") is None
    assert from_pdf_date("D:20261399") is None


def test_record_fields_in_order_of_preference() -> None:
    assert from_fields({"date": "26-FEB-1987 15:01:01.79", "published": "2026-01-02"}) == "2026-01-02"
    assert from_fields({"date": "26-FEB-1987"}) == "1987-02-26"
    assert from_fields({"date": "soon"}) is None


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Harbour strike ends\n\nLONDON, March 3, 2026 (Reuters) - Dock workers voted.", "2026-03-03"),
        ("PARIS, 4 November 2026 - The minister said.", "2026-11-04"),
        ("Title\n\n2026-11-03 Dock workers voted.", "2026-11-03"),
        ("NEW YORK, Feb 26 - a dateline without a year.", None),
        ("Line one\nLine two\nLine three\nLine four\nLine five, March 3, 2026.", None),  # too far down
    ],
)
def test_dateline_in_the_first_lines(text: str, iso: str | None) -> None:
    assert from_dateline(text) == iso


def test_published_prefers_fields_then_the_dateline() -> None:
    assert published({"date": "2026-01-02"}, "PARIS, 4 November 2026 - x") == {"published": "2026-01-02"}
    assert published({}, "PARIS, 4 November 2026 - x") == {"published": "2026-11-04"}
    assert published({}, "No date here.") == {}
