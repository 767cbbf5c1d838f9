"""Parties that are not countries: political parties, government bodies, central banks and news organisations.

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

Government bodies and central banks speak for their country (``parents``); a party does not (an opposition
spokesman is not "Britain speaking"); a news organisation reports and speaks for no one.
"""

from __future__ import annotations

from typing import NamedTuple


class Institution(NamedTuple):
    """One entity: id, canonical name, kind, surface forms (case-sensitive) and the ids it speaks for."""

    id: str
    name: str
    kind: str
    forms: tuple[str, ...]
    parents: tuple[str, ...] = ()


def _party(country: str, key: str, name: str, *forms: str) -> Institution:
    return Institution(f"party:{country}-{key}", name, "party", (name, *forms))


def _body(country: str, key: str, name: str, *forms: str) -> Institution:
    return Institution(f"gov:{country}-{key}", name, "government body", (name, *forms), (f"country:{country}",))


def _bank(country: str, key: str, name: str, *forms: str) -> Institution:
    return Institution(f"bank:{country}-{key}", name, "central bank", (name, *forms), (f"country:{country}",))


def _news(key: str, name: str, *forms: str) -> Institution:
    return Institution(f"news:{key}", name, "news organisation", (name, *forms))


PARTIES: tuple[Institution, ...] = (
    _party("GB", "CON", "Conservative Party", "Conservatives", "Tories", "Tory", "Conservative Party of Britain"),
    _party("GB", "LAB", "Labour Party", "Labour"),
    _party("GB", "LD", "Liberal Democrats", "Lib Dems", "Lib Dem", "Liberal Democrat", "LibDems"),
    _party("GB", "SNP", "Scottish National Party", "SNP"),
    _party("GB", "REF", "Reform UK"),
    _party("GB", "SDP", "SDP"),
    _party("US", "DEM", "Democratic Party", "Democrats", "Democrat", "Democratic"),
    _party("US", "REP", "Republican Party", "Republicans", "Republican", "GOP"),
    _party("DE", "CDU", "Christian Democratic Union", "CDU", "CDU/CSU"),
    _party("DE", "CSU", "Christian Social Union", "CSU"),
    _party("DE", "SPD", "Social Democratic Party of Germany", "SPD"),
    _party("DE", "FDP", "Free Democratic Party", "Free Democrats", "FDP"),
    _party("DE", "AFD", "Alternative for Germany", "AfD"),
    _party("DE", "LINKE", "Die Linke"),
    _party("FR", "RN", "National Rally", "Rassemblement National", "National Front", "Front National"),
    _party("FR", "LR", "Les Republicains", "Les Républicains", "Gaullists", "Gaullist", "RPR", "UDF"),
    _party("FR", "LFI", "La France Insoumise", "France Unbowed"),
    _party("IT", "FI", "Forza Italia"),
    _party("IT", "FDI", "Brothers of Italy", "Fratelli d'Italia"),
    _party("IT", "LEGA", "Northern League", "Lega Nord", "Lega"),
    _party("IT", "M5S", "Five Star Movement", "M5S"),
    _party("IT", "PCI", "Italian Communist Party", "PCI"),
    _party("ES", "PSOE", "Spanish Socialist Workers' Party", "PSOE"),
    _party("ES", "PP", "Partido Popular"),
    _party("ES", "VOX", "Vox"),
    _party("ES", "POD", "Podemos"),
    _party("JP", "LDP", "Liberal Democratic Party", "LDP"),
    _party("JP", "KOMEITO", "Komeito"),
    _party("JP", "JSP", "Japan Socialist Party"),
    _party("CA", "PC", "Progressive Conservative Party", "Progressive Conservatives"),
    _party("CA", "NDP", "New Democratic Party", "NDP"),
    _party("CA", "BQ", "Bloc Quebecois", "Bloc Québécois"),
    _party("AU", "ALP", "Australian Labor Party", "Labor Party"),
    _party("IN", "BJP", "Bharatiya Janata Party", "BJP"),
    _party("IN", "INC", "Indian National Congress", "Congress Party"),
    _party("CN", "CCP", "Chinese Communist Party", "Communist Party of China", "CCP", "CPC"),
    _party("RU", "UR", "United Russia"),
    _party("RU", "CPSU", "Communist Party of the Soviet Union", "CPSU"),
    _party("ZA", "ANC", "African National Congress", "ANC"),
    _party("ZA", "DA", "Democratic Alliance"),
    _party("ZA", "IFP", "Inkatha Freedom Party", "Inkatha"),
    _party("BR", "PMDB", "Brazilian Democratic Movement", "PMDB", "MDB"),
    _party("BR", "PSDB", "Brazilian Social Democracy Party", "PSDB"),
    _party("MX", "PRI", "Institutional Revolutionary Party", "PRI"),
    _party("MX", "PAN", "National Action Party"),
    _party("MX", "MORENA", "Morena"),
    _party("AR", "PJ", "Justicialist Party", "Peronists", "Peronist"),
    _party("AR", "UCR", "Radical Civic Union", "UCR"),
    _party("TR", "AKP", "Justice and Development Party", "AKP", "AK Party"),
    _party("TR", "CHP", "Republican People's Party", "CHP"),
    _party("KR", "PPP", "People Power Party"),
    _party("ID", "GOLKAR", "Golkar"),
    _party("PL", "PIS", "Law and Justice", "PiS"),
    _party("PL", "PO", "Civic Platform", "Civic Coalition"),
    _party("PL", "SOL", "Solidarity"),
    _party("NL", "VVD", "VVD"),
    _party("NL", "PVDA", "PvdA"),
    _party("NL", "CDA", "CDA"),
    _party("NL", "PVV", "Party for Freedom", "PVV"),
    _party("GR", "PASOK", "PASOK", "Pasok"),
    _party("GR", "ND", "New Democracy"),
    _party("GR", "SYRIZA", "Syriza", "SYRIZA"),
    _party("AT", "FPO", "Freedom Party", "FPOe", "FPÖ"),
    _party("AT", "OVP", "People's Party of Austria", "OeVP", "ÖVP"),
    _party("IE", "FF", "Fianna Fail", "Fianna Fáil"),
    _party("IE", "FG", "Fine Gael"),
    _party("IE", "SF", "Sinn Fein", "Sinn Féin"),
    _party("HU", "FIDESZ", "Fidesz"),
    _party("SE", "SD", "Sweden Democrats"),
    _party("IL", "LIKUD", "Likud"),
)

GOVERNMENT_BODIES: tuple[Institution, ...] = (
    _body("US", "TREAS", "U.S. Treasury", "US Treasury", "Treasury Department", "U.S. Treasury Department"),
    _body("US", "USTR", "U.S. Trade Representative", "USTR"),
    _body("US", "CONGRESS", "U.S. Congress", "Congress", "US Congress"),
    _body("US", "COMMERCE", "Commerce Department", "U.S. Commerce Department"),
    _body("US", "USDA", "Agriculture Department", "U.S. Agriculture Department", "USDA"),
    _body("GB", "TREAS", "HM Treasury"),
    _body("GB", "HOME", "Home Office"),
    _body("GB", "COMMONS", "House of Commons"),
    _body("JP", "MITI", "Ministry of International Trade and Industry", "MITI"),
    _body("FR", "MATIGNON", "Matignon"),
    _body("RU", "DUMA", "State Duma", "Duma"),
)

CENTRAL_BANKS: tuple[Institution, ...] = (
    _bank("US", "FED", "Federal Reserve", "Fed", "Federal Reserve Board", "Federal Reserve System", "New York Fed"),
    _bank("DE", "BUBA", "Bundesbank", "Deutsche Bundesbank"),
    _bank("JP", "BOJ", "Bank of Japan", "BOJ"),
    _bank("GB", "BOE", "Bank of England"),
    _bank("FR", "BDF", "Bank of France", "Banque de France"),
    _bank("CH", "SNB", "Swiss National Bank", "SNB"),
    _bank("IT", "BDI", "Bank of Italy", "Banca d'Italia"),
    _bank("CA", "BOC", "Bank of Canada"),
    _bank("AU", "RBA", "Reserve Bank of Australia"),
    _bank("NZ", "RBNZ", "Reserve Bank of New Zealand"),
    _bank("NL", "DNB", "Netherlands Central Bank", "De Nederlandsche Bank", "Dutch Central Bank"),
    _bank("ES", "BDE", "Bank of Spain", "Banco de Espana", "Banco de España"),
    _bank("BE", "NBB", "National Bank of Belgium", "Belgian National Bank"),
    _bank("SE", "RIKS", "Riksbank", "Sveriges Riksbank"),
    _bank("NO", "NB", "Norges Bank"),
    _bank("DK", "DN", "Danmarks Nationalbank", "Danish central bank"),
    _bank("AT", "OENB", "Austrian National Bank", "Oesterreichische Nationalbank"),
    _bank("FI", "BOF", "Bank of Finland"),
    _bank("PT", "BDP", "Bank of Portugal"),
    _bank("GR", "BOG", "Bank of Greece"),
    _bank("IE", "CBI", "Central Bank of Ireland"),
    _bank("CN", "PBOC", "People's Bank of China", "PBOC"),
    _bank("RU", "CBR", "Bank of Russia", "Central Bank of Russia", "Gosbank"),
    _bank("IN", "RBI", "Reserve Bank of India", "RBI"),
    _bank("KR", "BOK", "Bank of Korea"),
    _bank("MX", "BANXICO", "Bank of Mexico", "Banco de Mexico", "Banxico"),
    _bank("BR", "BCB", "Central Bank of Brazil", "Banco Central do Brasil"),
    _bank("AR", "BCRA", "Central Bank of Argentina"),
    _bank("ZA", "SARB", "South African Reserve Bank"),
    _bank("TR", "CBRT", "Central Bank of the Republic of Turkey"),
    _bank("ID", "BI", "Bank Indonesia"),
    _bank("SA", "SAMA", "Saudi Arabian Monetary Agency", "Saudi Central Bank", "SAMA"),
    _bank("IL", "BOI", "Bank of Israel"),
    _bank("TH", "BOT", "Bank of Thailand"),
    _bank("SG", "MAS", "Monetary Authority of Singapore"),
    _bank("HK", "HKMA", "Hong Kong Monetary Authority"),
    _bank("MY", "BNM", "Bank Negara Malaysia", "Bank Negara"),
    _bank("PH", "BSP", "Bangko Sentral ng Pilipinas"),
)

NEWS_ORGANISATIONS: tuple[Institution, ...] = (
    _news("REUTERS", "Reuters"),
    _news("AP", "Associated Press"),
    _news("AFP", "Agence France-Presse", "Agence France Presse", "AFP"),
    _news("DPA", "Deutsche Presse-Agentur", "DPA", "dpa"),
    _news("ANSA", "ANSA"),
    _news("EFE", "EFE"),
    _news("XINHUA", "Xinhua", "New China News Agency", "Xinhua News Agency"),
    _news("TASS", "Tass", "TASS", "Itar-Tass", "ITAR-TASS"),
    _news("RIA", "RIA Novosti", "Novosti"),
    _news("INTERFAX", "Interfax"),
    _news("KYODO", "Kyodo", "Kyodo News"),
    _news("JIJI", "Jiji", "Jiji Press"),
    _news("YONHAP", "Yonhap"),
    _news("KCNA", "Korean Central News Agency", "KCNA"),
    _news("IRNA", "Islamic Republic News Agency", "IRNA"),
    _news("KUNA", "Kuwait News Agency", "KUNA"),
    _news("INA", "Iraqi News Agency"),
    _news("SPA", "Saudi Press Agency"),
    _news("MENA", "Middle East News Agency", "MENA"),
    _news("WAM", "WAM news agency"),
    _news("ANADOLU", "Anadolu Agency", "Anadolu"),
    _news("PTI", "Press Trust of India", "PTI"),
    _news("ANTARA", "Antara"),
    _news("BERNAMA", "Bernama"),
    _news("PAP", "Polish Press Agency"),
    _news("TANJUG", "Tanjug"),
    _news("BBC", "BBC", "British Broadcasting Corporation"),
    _news("CNN", "CNN"),
    _news("ALJAZEERA", "Al Jazeera", "Al-Jazeera"),
    _news("NYT", "New York Times"),
    _news("WAPO", "Washington Post"),
    _news("WSJ", "Wall Street Journal"),
    _news("FT", "Financial Times"),
    _news("TIMES", "The Times"),
    _news("GUARDIAN", "The Guardian"),
    _news("TELEGRAPH", "Daily Telegraph"),
    _news("LEMONDE", "Le Monde"),
    _news("LEFIGARO", "Le Figaro"),
    _news("SPIEGEL", "Der Spiegel"),
    _news("FAZ", "Frankfurter Allgemeine Zeitung", "Frankfurter Allgemeine"),
    _news("HANDELSBLATT", "Handelsblatt"),
    _news("ASAHI", "Asahi Shimbun", "Asahi"),
    _news("YOMIURI", "Yomiuri Shimbun", "Yomiuri"),
    _news("NIKKEI", "Nihon Keizai Shimbun", "Nikkei"),
    _news("MAINICHI", "Mainichi Shimbun", "Mainichi"),
    _news("PEOPLESDAILY", "People's Daily"),
    _news("CHINADAILY", "China Daily"),
    _news("BEIJINGNEWS", "Beijing News", "The Beijing News"),
    _news("GLOBALTIMES", "Global Times"),
    _news("PRAVDA", "Pravda"),
    _news("IZVESTIA", "Izvestia"),
    _news("AHRAM", "Al-Ahram", "Al Ahram"),
    _news("HAARETZ", "Haaretz"),
    _news("TOI", "Times of India"),
    _news("SMH", "Sydney Morning Herald"),
    _news("GLOBEMAIL", "Globe and Mail"),
)

# Seats of government and older capital names that newswire uses for a government ("Bonn said", "Peking said").
SEATS: dict[str, tuple[str, ...]] = {
    "country:DE": ("Bonn",),
    "country:CN": ("Peking",),
    "country:MM": ("Rangoon",),
    "country:US": ("Foggy Bottom",),
    "country:FR": ("Elysee Palace",),
}

INSTITUTIONS: tuple[Institution, ...] = (*CENTRAL_BANKS, *GOVERNMENT_BODIES, *PARTIES, *NEWS_ORGANISATIONS)
