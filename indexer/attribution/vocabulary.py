"""The words attribution reads: titles, honorifics, agent nouns, reporting verbs, and the regexes built on them.

General English news usage, not fitted to any collection. Reporting verbs follow the lists of reporting and
stance verbs in English grammars (e.g. Biber et al., *Longman Grammar of Spoken and Written English*, 2.6).
"""

from __future__ import annotations

import re

from indexer.entities import trie_regex

# Single words that head a person's title; a capitalised run is "<title> <name>" split after the last one.
TITLE_HEADS = frozenset(
    """
president minister premier chancellor secretary envoy ambassador general admiral commander chief staff
spokesman spokeswoman spokesperson spokesmen adviser advisor aide governor senator congressman congresswoman
representative chairman chairwoman chair director head leader king queen prince princess emir sultan sheikh
pope mayor official officials negotiator diplomat commissioner colonel lieutenant captain sergeant marshal
economist analyst executive officer manager deputy vice president-elect secretary-general attorney judge
prosecutor ayatollah cardinal archbishop bishop founder owner partner dealer trader banker strategist ceo
coach dictator monarch speaker gen. lt. col. sen. rep. gov. adm. capt. sgt. prof. rev. ministers leaders
treasurer undersecretary comptroller ombudsman regulator superintendent controller chairmen directors
spokesmen officials economists analysts governors delegate delegates mp mps mep meps lawmaker lawmakers
legislator legislators councillor councilor coordinator co-ordinator organiser organizer whip whips frontbencher
backbencher candidate nominee campaigner
""".split()
)
TITLE_PHRASES = (
    "chief of defence staff",
    "chief of the defence staff",
    "chief of defense staff",
    "chief of staff",
    "chief of the general staff",
    "secretary of state",
    "secretary of defense",
    "minister of foreign affairs",
    "minister of finance",
    "minister of defence",
    "minister of defense",
    "chancellor of the exchequer",
    "head of state",
    "head of government",
    "heads of state",
    "heads of government",
    "prime minister",
    "attorney general",
    "secretary general",
    "director general",
    "commander in chief",
    "high representative",
)
TITLE_WORD_RE = re.compile(
    r"\b("
    + "|".join(re.escape(t) for t in sorted(TITLE_PHRASES, key=len, reverse=True)).replace(r"\ ", r"\s+")
    + r")\b|[A-Za-z][\w.'’-]*",
    re.IGNORECASE,
)
HONORIFICS = frozenset("Mr Mrs Ms Dr Mr. Mrs. Ms. Dr. Sir Dame Lord Lady Madam Mme M.".split())
# Lower-case words that may stand in a speaker phrase ("a Finance Ministry spokesman", "heads of state").
AGENT_NOUNS = (
    frozenset(
        """
officials leaders heads ministers ministry ministries government governments office spokesmen sources source
diplomats analysts economists experts traders dealers bankers statement declaration communique report letter
document agency company firm bank board group union council commission committee parliament court
administration cabinet embassy military army police coalition alliance countries nations states state allies
members delegates negotiators lawmakers legislators politicians authorities residents people protesters
activists officers team management department corporation unit subsidiary industry party delegation
counterpart counterparts lawyers lawyer witnesses witness observers campaigners organisers organizers airline
exchange regulators news press
regulator producers producer exporters importers operators operator newspaper agency's government's
prosecutors judges senators ambassadors envoys investigators inspectors
spokesperson's ministry's
""".split()
    )
    | TITLE_HEADS
)
MODIFIERS = frozenset(
    """
senior special top former deputy acting foreign finance defence defense military economy economic trade
interior justice energy oil agriculture health national security federal central joint new outgoing
incoming interim vice assistant executive managing chief general prime civilian local regional western
state-run state-owned official independent industry market bank government ruling opposition farm
agricultural economics external affairs commerce labour labor transport planning budget monetary fiscal
petroleum mines communications information home environment cabinet shadow first election campaign policy
""".split()
)
DETERMINERS = frozenset("the a an The A An its his her their Its His Her Their this This".split())
PREPOSITIONS = frozenset("of to for from by at in".split())
# Capitalised words that start sentences or clauses, not names.
CAP_STOP = frozenset(
    """
But And In On At From To Or For With Of By As After Before When While Since Although Though If However
Meanwhile Also Last This That These Those It Its There Here Then Now Yet So Thus Still Even Only Both Each
Asked Speaking Earlier Later Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March
April May June July August September October November December Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov
Dec What Who How Why Where Which Did Does Do Is Are Was Were Has Have Had Will Would Could Should Can The A An
He She They We I You His Her Their Our My Your Under Over Among Between Against During Despite Without Within
Including According Following Reuters REUTER Reuter
""".split()
)
# Arabic and other name prefixes written in lower case and joined to the name ("al-Chalabi", "bin-Laden").
# Months that are also given names ("Polish finance minister Jan Kowalski", "May Ng, an analyst"), and the words
# that make one a date instead ("in May", "since Jan 5").
GIVEN_NAME_MONTHS = frozenset("Jan May June April August".split())
DATE_WORDS_BEFORE = frozenset(
    "in on since by until till from to of last next early late mid this that each every through during before "
    "after between".split()
)
PREFIXED_NAME = re.compile(r"(?:al|el|ad|ar|as|ash|at|az|ul|bin|ibn|abu|d)[-'’][A-Z]")
# A title set off after a name: ", the Australian trade minister," or ", who is Mexico's chief debt negotiator".
APPOSITION_AFTER = re.compile(
    r"\s*,\s*(?:(?:who|which)\s+(?:is|was)\s+)?((?:the\s+|a\s+|an\s+)?[^,.;“”\"\n\x1f]{3,80}?)\s*(?:,|\.(?=\s|$))"
)
LATER_NAME_WITH_CLAUSE = re.compile(r"\b([A-Z][\w'’-]+)(?=\s*,\s*(?:who|which)\s+(?:is|was)\s)")
PARTICLES = frozenset("von van der den de da du di la le al bin ben el dos das del zu ter".split())
PRONOUNS = {
    "he": "person",
    "she": "person",
    "He": "person",
    "She": "person",
    "they": "group",
    "They": "group",
}

# Reporting verbs. Base forms ("say", "demand") only count after an auxiliary, "to" or a plural subject.
VERBS_INFLECTED = """
said says told tells wrote writes added adds welcomed welcomes warned warns urged urges insisted insists
stated announced announces argued argues described describes reaffirmed reaffirms declared declares noted
stressed stresses emphasised emphasized emphasises emphasizes acknowledged acknowledges admitted admits denied
denies claimed confirmed confirms predicted predicts explained explains replied replies responded responds
asked asks demanded demands rejected rejects criticised criticized criticises criticizes condemned condemns
praised praises vowed vows pledged promised suggested suggests proposed proposes believes thinks wants
reacted reacts commented comments cautioned cautions estimated accused accuses threatened threatens
recalled recalls signalled signaled signals objected objects countered conceded concedes
attacked attacks blamed blames dismissed dismisses defended defends backed backs opposed opposes reiterated
reiterates indicated indicates disclosed discloses revealed reveals assured assures advised advises disputed
disputes maintained maintains contended contends forecast forecasts projected projects expects hopes hoped
recommended recommends offered offers complained complains protested protests appealed appeals questioned
questions feared fears expressed expresses agreed agrees informed informs affirmed affirms alleged alleges
challenged challenges hailed hails slammed slams blasted blasts endorsed endorses ruled rules retorted
""".split()
# Actions that state a party's position only when a government, a body or a party takes them: "Chinese
# authorities closed 12,575 net cafes". Verbs from the reporting-verb lists of English grammars (Biber et al.,
# Longman Grammar 6.2; Hyland, Academic Discourse, reporting verbs), actions from newswire usage.
ACTION_VERBS = frozenset(
    """closed closes seized seizes banned bans imposed imposes ordered orders approved approves launched launches
    arrested arrests expelled expels suspended suspends lifted lifts detained detains blocked blocks froze
    freezes halted halts vetoed vetoes charged charges fined fines sued sues raided raids sanctioned sanctions
    nationalised nationalized deported deports indicted indicts""".split()
)
VERBS_BASE = "say tell want demand believe think warn urge insist call welcome reject deny argue".split()
VERB_RE = re.compile(
    r"\b(?:(?:called|calls|call|calling)\s+(?:for|on)|[Aa]ccording\s+to|"
    r"(?:view|views|words|message|remarks|comments|verdict|assessment|position)\s+(?:of|from)|"
    r"called\s+(?:it|this|that|them|him|her)\b|as\s+saying|"
    + trie_regex(VERBS_INFLECTED + VERBS_BASE + sorted(ACTION_VERBS))
    + r")\b"
)
# "IRNA quoted the Foreign Ministry as saying": the one quoted speaks, not the one quoting.
QUOTED_AS_SAYING = re.compile(r"\b(?:quoted|quotes|quoting)\s+(.{2,120}?)\s+as\s+saying$")
BASE_OK_BEFORE = frozenset(
    "to would will could may might should must did do does not also never n't they we continue continues "
    "continued".split()
)
PASSIVE_BEFORE = frozenset("was were is are be been being the".split())
# A manner adverb between a subject and its verb: "Funaro flatly rejected", "Eyskens warmly welcomed". Words in
# -ly that are nouns or adjectives ("the family said", "the daily reported") are not adverbs here.
NOT_ADVERBS = (
    "family supply assembly monopoly oligopoly rally ally reply anomaly bully belly jelly lily daily weekly "
    "monthly quarterly yearly early likely friendly elderly only holy italy"
).split()
MANNER_ADVERB = r"(?!(?:" + "|".join(NOT_ADVERBS) + r")\b)[a-z]{2,}ly"
# Words between a subject and its verb: "Kyiv has long said", "X also told", "Russia ... continues to".
AUX_TAIL = re.compile(
    r"(?:[\s,]+(?:also|has|have|had|would|will|could|may|might|should|must|did|does|do|not|never|then|later|"
    r"earlier|previously|recently|repeatedly|publicly|privately|already|again|still|long|once|further|"
    r"separately|too|first|today|yesterday|tonight|now|however|continues\s+to|continued\s+to|continue\s+to|"
    r"went\s+on\s+to|go\s+on\s+to|is|was|were|are|been|had\s+long|in\s+a\s+statement|"
    r"on\s+(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|"
    r"(?:last|this|next)\s+(?:week|month|year)|" + MANNER_ADVERB + r"))+$"
)
TOKEN = re.compile(r"[A-Za-z0-9\u00C0-\u024F][\w\u00C0-\u024F.'’-]*|[^\s\w]")
NAME_RUN = re.compile(
    r"(?<![\w.])[A-Z][\w\u00C0-\u024F'’-]*\.?"
    r"(?:[ \t]+(?:(?:von|van|der|den|de|da|du|la|le|al|bin|ben)[ \t]+)*"
    r"(?:(?:al|el|ad|ar|as|ash|at|az|ul|bin|ibn|abu)[-'’])?[A-Z][\w\u00C0-\u024F'’-]*)+"
)
LONE_CAPITAL = re.compile(r"(?<![\w.'’-])[A-Z][\w'’-]+")
ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Dr St Gen Lt Col Sgt Capt Gov Sen Rep Jr Sr Prof No Co Corp Inc Ltd vs etc Jan Feb Mar "
    "Apr Aug "
    "Sep Sept Oct Nov Dec Adm Maj Rev Mt Ft approx U.S U.K U.N E.U Messrs Mme".split()
)
REFERS_BACK = re.compile(r"(?:That|This|These|Those|Such|So)\b")
# A company name ends in one of these; it is not "<title> <person>".
CORPORATE = re.compile(
    r"\b(?:Inc|Corp|Corporation|Co|Cos|Ltd|Plc|PLC|LLC|LP|AG|SA|SpA|NV|BV|AB|ASA|Group|Holdings|Bank|Trust|"
    r"Association|Exchange|Fund|Partners|Industries|Airlines|Airways|Motors|Petroleum)\.?$"
)
# A definite later mention's head -> the title words an earlier holder may have ("the Libyan leader" is the
# earlier "Libyan leader", "president" or "prime minister").
HOLDER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "leader": ("leader", "president", "prime minister", "premier", "chancellor", "king", "emir", "head of state"),
    "premier": ("premier", "prime minister"),
    "spokeswoman": ("spokeswoman", "spokesperson"),
    "spokesperson": ("spokesperson", "spokesman", "spokeswoman"),
}
# "the Bank", "the Commission", "the Fund": a body named in full earlier, by the head of its name.
DEFINITE_SHORT_NAME = re.compile(r"[Tt]he\s+([A-Z][a-z]+)")
EARLIER_MENTION_WINDOW = 2000  # characters back in which "the minister" looks for the minister named earlier
SPEAKER_WINDOW = 160  # characters left of a verb searched for its speaker
SPEECH_QUOTE_WORDS = 6  # shorter quotes are usually names or scare quotes, not speech
FILL = "\x1f"
POSSESSIVE_END = re.compile(r"['’]s?$")
NUMBER = re.compile(r"\d[\d,.]*")
LAST_WORD = re.compile(r"([\w.]+)$")
PREV_WORD = re.compile(
    r"(\S+)\s+$"
)  # stands in for quoted words while looking for speakers, so "we want" in a quote is no verb

# The last word of a phrase naming a newspaper, agency or broadcaster: it reports, it does not speak for a party.
NEWS_HEADS = frozenset(
    "newspaper newspapers daily weekly magazine agency's radio television tv broadcaster paper tabloid".split()
)
NEWS_KIND = "news organisation"
# Words that open a clause about where or how someone is, never a title: ", who is in Caracas for ...".
CLAUSE_PREPOSITIONS = frozenset("in at on for from to with by of into near visiting".split())
# (title word, body named with it, the body the title makes its holder a member of): "EC Trade Commissioner".
MEMBER_TITLES: tuple[tuple[str, str, str], ...] = (
    ("commissioner", "org:EU", "org:EC"),
    ("commissioners", "org:EU", "org:EC"),
)
# Heads of speaker phrases that are documents or institutions: a later "he said" never refers to them.
NOT_A_PERSON_HEADS = frozenset(
    """statement statements communique communiques report reports letter document study survey agency newspaper
    ministry department government bank company commission committee council board office firm exchange
    federation union treasury cabinet administration corp corporation inc co ltd plc group""".split()
)
NEWS_AGENCY = re.compile(r"\b(?:news|press)\s+agency\b", re.IGNORECASE)
# A possessive that dates a thing rather than owning it: "Today's statement from the Italian Treasury".
TIME_WORDS = frozenset(
    """today yesterday tonight monday tuesday wednesday thursday friday saturday sunday week month year""".split()
)
# People who comment on a country's markets or politics without speaking for its government: an economist "at
# Macquarie Securities in Tokyo" is not Japan speaking, one "at Bank of America" not the United States.
MARKET_ROLES = frozenset(
    """economist economists analyst analysts strategist strategists trader traders dealer dealers broker brokers
    banker bankers consultant consultants professor academic academics researcher researchers expert experts
    lecturer observer observers commentator commentators forecaster forecasters investor investors""".split()
)
# The last word of a phrase that is talked about, never a speaker ("the Cuban economy", "Guantanamo Bay").
NON_SPEAKER_HEADS = frozenset(
    """economy economies market markets prices price rates currency bay island islands sea river strait gulf
    peninsula mountains valley coast border region province territory city town village port harbour harbor""".split()
)
# What a named person's "<owner>'s <head>" speaks with their voice: "Mr Mandon's office said".
OWN_VOICES = frozenset("office spokesman spokeswoman spokesperson aides camp team press office".split())

# Offices of a national government: a speaker titled only with these speaks for the government of the story's
# country ("the Foreign Ministry", "Treasurer Paul Keating", "Finance Minister Michael Wilson").
GOVERNMENT_HEADS = frozenset(
    """minister ministers ministry ministries treasurer treasury premier chancellor government cabinet
    undersecretary under-secretary president secretary""".split()
)
# Governments whose cabinet members are titled "Secretary" in English ("Commerce Secretary", "Secretary of
# State for Trade"); elsewhere a minister is a "Minister", and a secretary in a story is someone else's.
SECRETARY_CABINETS = frozenset(f"country:{c}" for c in ("US", "GB", "PH", "MX", "ES"))
# Portfolio words in such titles.
PORTFOLIO_WORDS = frozenset(
    """foreign external affairs finance economy economics economic trade industry international agriculture
    agricultural energy oil petroleum mines mining interior home justice labour labor health education transport
    communications information planning commerce budget fiscal monetary environment defence defense public works
    housing welfare social security development cooperation co-operation policy prime acting deputy vice assistant
    senior chief permanent state junior official officials spokesman spokeswoman spokesperson source sources
    and of for""".split()
)
DETERMINERS_LOWER = frozenset("the a an".split())
