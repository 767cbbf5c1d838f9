"""Parties that are not countries: political parties, government bodies, central banks and news organisations.

The tables are ``institutions.json`` beside this module, one row per institution.

Hand-written for the project; no maintained package lists these names with the other names news uses for them.
Sources: the parties are those holding seats in the national parliaments of the G20 and EU countries (and a few
others prominent in English news), with the names and short forms their Wikipedia articles give; the central
banks are the BIS member central banks (bis.org/about/member_cb.htm) under their English and local names; the
government bodies and seats are the usual metonyms of English political journalism ("the Kremlin said", "Bonn
said", "the Fed said"), including the pre-1990 names that older newswire uses (Bonn, Peking, Rangoon); the news
organisations are the national news agencies (members of the European Alliance of News Agencies and the major
Asian and Middle-Eastern agencies) and the best-known newspapers and broadcasters of the G20 countries.

Only forms that name one thing in English news are kept: "Socialists", "Christian Democrats", "Greens" or
"Liberals" name parties in many countries and are left out; "Labour" is the British party (the resolver does not
read it before "Ministry", "Minister", "Day" and the like, see ``indexer.entities``).

A "shadow" minister belongs to the Official Opposition, whose party changes with elections: the
``official opposition`` table gives, per country, the date from which each party held it (UK: the list of
Leaders of the Opposition on parliament.uk and Wikipedia, from 1964).

Government bodies and central banks speak for their country (``parents``); a party does not (an opposition
spokesman is not "Britain speaking"); a news organisation reports and speaks for no one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

DATA_FILE = Path(__file__).with_name("institutions.json")


class Institution(NamedTuple):
    """One entity: id, canonical name, kind, surface forms (case-sensitive) and the ids it speaks for."""

    id: str
    name: str
    kind: str
    forms: tuple[str, ...]
    parents: tuple[str, ...] = ()


CENTRAL_BANK = "central bank"
# Table of the data file -> (id prefix, kind, whether the institution speaks for its country).
_TABLES = {
    "central banks": ("bank", CENTRAL_BANK, True),
    "government bodies": ("gov", "government body", True),
    "parties": ("party", "party", False),
}


def _load(
    path: Path,
) -> tuple[tuple[Institution, ...], dict[str, tuple[str, ...]], dict[str, tuple[tuple[str, str], ...]]]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    institutions: list[Institution] = []
    for table, (prefix, kind, speaks_for_country) in _TABLES.items():
        for country, key, name, *forms in raw[table]:
            parents = (f"country:{country}",) if speaks_for_country else ()
            institutions.append(Institution(f"{prefix}:{country}-{key}", name, kind, (name, *forms), parents))
    for key, name, *forms in raw["news organisations"]:
        institutions.append(Institution(f"news:{key}", name, "news organisation", (name, *forms)))
    seats = {country: tuple(names) for country, names in raw["seats"].items()}
    opposition = {
        f"country:{country}": tuple((since, f"party:{country}-{key}") for since, key in periods)
        for country, periods in raw["official opposition"].items()
    }
    return tuple(institutions), seats, opposition


INSTITUTIONS, SEATS, OFFICIAL_OPPOSITION = _load(DATA_FILE)
"""Every institution (central banks first, so "Bundesbank" is the bank), older seats of government ("Bonn said",
"Peking said") by the country they stand for, and by country the (date from, party id) of its Official
Opposition in date order."""


def official_opposition(country: str, on: str) -> str | None:
    """The party id of `country`'s Official Opposition on the ISO date `on`, when the table covers it."""
    party = None
    for since, holder in OFFICIAL_OPPOSITION.get(country, ()):
        if since <= on[:10]:
            party = holder
    return party
