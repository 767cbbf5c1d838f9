"""Publication dates as ISO 8601 strings: from metadata values, record fields and news datelines."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Mapping
from typing import Any

_YEAR_RE = re.compile(r"(?<!\d)(1[89]\d\d|2[01]\d\d)(?!\d)")
_TIME_RE = re.compile(r"\d{1,2}:\d{2}")
_PDF_DATE_RE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz]|[+-]\d{2}'?\d{2}'?)?")
_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
    r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATELINE_RE = re.compile(
    rf"(?<![\w-])(?:\d{{4}}-\d{{2}}-\d{{2}}(?:[T ]\d{{2}}:\d{{2}}(?::\d{{2}})?)?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s+\d{{4}}"
    rf"|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}-{_MONTHS}-\d{{4}})(?![\w-])",
    re.IGNORECASE,
)
DATE_FIELDS = ("published", "date", "published_at", "publication_date", "datePublished", "created")
DATELINE_LINES = 4  # a news text's dateline sits in its first few lines


def to_iso(value: Any) -> str | None:
    """``value`` (a string with a year, a datetime or a date) as an ISO 8601 date or date-time, else None.

    A date-time keeps its time (and zone, when it has one); a value without a time of day is a date.
    """
    if isinstance(value, dt.datetime):
        return value.isoformat() if (value.hour, value.minute, value.second) != (0, 0, 0) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str) or not _YEAR_RE.search(value) or len(value) > 64:
        return None
    value = value.strip()
    if _YEAR_RE.fullmatch(value):  # a year alone is no date to filter or sort by
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)  # keeps a zone offset when there is one
    except ValueError:
        parsed_or_none = _parse_loosely(value)
        if parsed_or_none is None:
            return None
        parsed = parsed_or_none
    if not 1800 <= parsed.year <= 2199:
        return None
    return parsed.replace(microsecond=0).isoformat() if _TIME_RE.search(value) else parsed.date().isoformat()


def _parse_loosely(value: str) -> dt.datetime | None:
    """``26-FEB-1987 15:01:01.79``, ``March 3, 2026``: zone names, often junk in old feeds, are ignored."""
    from dateutil import parser  # type: ignore[import-untyped]  # no stubs shipped

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed: dt.datetime = parser.parse(value, default=dt.datetime(2000, 1, 1), ignoretz=True)
            return parsed
        except (ValueError, OverflowError):
            return None


def from_pdf_date(value: Any) -> str | None:
    """A PDF date string (``D:20260314093000+01'00'``) as ISO 8601, else None."""
    match = _PDF_DATE_RE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return to_iso(value)
    year, month, day, hour, minute, second, zone = match.groups()
    if month is None:
        return None
    try:
        date = dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None
    if hour is None:
        return date.isoformat()
    offset = "+00:00" if zone in ("Z", "z") else f"{zone[:3]}:{zone[3:].strip(chr(39))[:2]}" if zone else ""
    return f"{date.isoformat()}T{hour}:{minute or '00'}:{second or '00'}{offset}"


def from_fields(record: Mapping[str, Any]) -> str | None:
    """The first of the record's date fields (``published``, ``date``, ...) that reads as a date."""
    for key in DATE_FIELDS:
        iso = to_iso(record.get(key))
        if iso:
            return iso
    return None


def from_dateline(text: str) -> str | None:
    """A date with a year in the first lines of a news text ("LONDON, March 3, 2026 (Reuters) -"), else None."""
    lines = [line for line in text[:2000].split("\n") if line.strip()][:DATELINE_LINES]
    for line in lines:
        match = _DATELINE_RE.search(line)
        if match:
            iso = to_iso(match.group())
            if iso:
                return iso
    return None


def published(record: Mapping[str, Any], text: str) -> dict[str, str]:
    """``{"published": ISO date}`` from a record's date fields, else from a dateline in its text; else empty."""
    iso = from_fields(record) or from_dateline(text)
    return {"published": iso} if iso else {}


def sort_key(iso: str | None) -> str | None:
    """An ISO 8601 date or date-time as ``YYYY-MM-DDTHH:MM:SS`` in UTC, which sorts and compares as text.

    A date is its midnight; a date-time without a zone is taken as UTC. None when `iso` is not ISO 8601.
    """
    moment = _moment(iso)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") if moment is not None else None


def filter_bounds(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """The `sort_key` range [low, high) that `since` and `until` (ISO dates or date-times) allow.

    `until` as a date includes that whole day; as a date-time it includes that second.
    """
    low = sort_key(since)
    high_moment = _moment(until)
    high = None
    if high_moment is not None and until is not None:
        step = dt.timedelta(days=1) if _is_date(until) else dt.timedelta(seconds=1)
        high = (high_moment + step).strftime("%Y-%m-%dT%H:%M:%S")
    return low, high


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value.strip())
    except ValueError:
        return False
    return True


def _moment(iso: str | None) -> dt.datetime | None:
    if not iso:
        return None
    try:
        moment = dt.datetime.fromisoformat(iso.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)
