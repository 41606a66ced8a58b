"""Small closed word lists both engines type spans with: countries, US states and their demonyms,
place and organisation head words, and nouns that name people. General English only: no word is
here because a corpus (the bundled demo, a benchmark) uses it; lower-case keys."""

from __future__ import annotations


def wordset(text: str) -> frozenset[str]:
    """A frozen set of the whitespace-separated words of `text` (keeps long word lists readable)."""
    return frozenset(text.split())


COUNTRY_DEMONYMS: dict[str, tuple[str, ...]] = {
    "afghanistan": ("afghan",),
    "albania": ("albanian",),
    "algeria": ("algerian",),
    "argentina": ("argentine", "argentinian"),
    "armenia": ("armenian",),
    "australia": ("australian",),
    "austria": ("austrian",),
    "azerbaijan": ("azerbaijani",),
    "bangladesh": ("bangladeshi",),
    "belarus": ("belarusian",),
    "belgium": ("belgian",),
    "bolivia": ("bolivian",),
    "bosnia and herzegovina": ("bosnian",),
    "brazil": ("brazilian",),
    "bulgaria": ("bulgarian",),
    "cambodia": ("cambodian",),
    "cameroon": ("cameroonian",),
    "canada": ("canadian",),
    "chile": ("chilean",),
    "china": ("chinese",),
    "colombia": ("colombian",),
    "croatia": ("croatian",),
    "cuba": ("cuban",),
    "cyprus": ("cypriot",),
    "czech republic": ("czech",),
    "czechoslovakia": ("czechoslovak",),
    "denmark": ("danish", "dane"),
    "ecuador": ("ecuadorian",),
    "egypt": ("egyptian",),
    "england": ("english",),
    "estonia": ("estonian",),
    "ethiopia": ("ethiopian",),
    "finland": ("finnish", "finn"),
    "france": ("french",),
    "georgia": ("georgian",),
    "germany": ("german",),
    "ghana": ("ghanaian",),
    "greece": ("greek",),
    "hungary": ("hungarian",),
    "iceland": ("icelandic",),
    "india": ("indian",),
    "indonesia": ("indonesian",),
    "iran": ("iranian", "persian"),
    "iraq": ("iraqi",),
    "ireland": ("irish",),
    "israel": ("israeli",),
    "italy": ("italian",),
    "jamaica": ("jamaican",),
    "japan": ("japanese",),
    "jordan": ("jordanian",),
    "kazakhstan": ("kazakh",),
    "kenya": ("kenyan",),
    "korea": ("korean",),
    "south korea": ("south korean", "korean"),
    "north korea": ("north korean",),
    "latvia": ("latvian",),
    "lebanon": ("lebanese",),
    "lithuania": ("lithuanian",),
    "luxembourg": ("luxembourgish",),
    "malaysia": ("malaysian",),
    "mexico": ("mexican",),
    "mongolia": ("mongolian",),
    "morocco": ("moroccan",),
    "nepal": ("nepali", "nepalese"),
    "netherlands": ("dutch",),
    "new zealand": ("new zealander",),
    "nigeria": ("nigerian",),
    "norway": ("norwegian",),
    "pakistan": ("pakistani",),
    "peru": ("peruvian",),
    "philippines": ("filipino", "philippine"),
    "poland": ("polish", "pole"),
    "portugal": ("portuguese",),
    "romania": ("romanian",),
    "russia": ("russian",),
    "saudi arabia": ("saudi",),
    "scotland": ("scottish", "scot"),
    "serbia": ("serbian",),
    "singapore": ("singaporean",),
    "slovakia": ("slovak",),
    "slovenia": ("slovenian", "slovene"),
    "south africa": ("south african",),
    "soviet union": ("soviet",),
    "spain": ("spanish",),
    "sri lanka": ("sri lankan",),
    "sweden": ("swedish", "swede"),
    "switzerland": ("swiss",),
    "syria": ("syrian",),
    "taiwan": ("taiwanese",),
    "thailand": ("thai",),
    "tunisia": ("tunisian",),
    "turkey": ("turkish",),
    "ukraine": ("ukrainian",),
    "united kingdom": ("british",),
    "great britain": ("british",),
    "united states": ("american",),
    "united states of america": ("american",),
    "usa": ("american",),
    "us": ("american",),
    "uk": ("british",),
    "uruguay": ("uruguayan",),
    "venezuela": ("venezuelan",),
    "vietnam": ("vietnamese",),
    "wales": ("welsh",),
    "yugoslavia": ("yugoslav",),
    "zimbabwe": ("zimbabwean",),
}

US_STATES = wordset("""alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho
    illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota
    mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah
    vermont virginia washington wisconsin wyoming""") | frozenset(
    [
        "new hampshire",
        "new jersey",
        "new mexico",
        "new york",
        "north carolina",
        "north dakota",
        "rhode island",
        "south carolina",
        "south dakota",
        "west virginia",
    ]
)

# A demonym implies its country: "an American actor" is from the United States.
DEMONYM_COUNTRY: dict[str, str] = {d: c for c, ds in COUNTRY_DEMONYMS.items() for d in ds}
DEMONYM_COUNTRY.update({"british": "united kingdom", "american": "united states"})
# Parts of a country that imply it ("English" writers are British).
PART_OF = {"england": "united kingdom", "scotland": "united kingdom", "wales": "united kingdom"}
PART_OF.update({state: "united states" for state in US_STATES})

PLACE_HEADS = wordset("""city town village county state province region district island islands lake river mountain mountains
    park street avenue road valley bay beach coast peninsula borough parish municipality prefecture canton
    strip square harbour harbor sea ocean desert forest falls hills heights""")
ORG_HEADS = wordset("""inc inc. corp corporation company co ltd limited group university college school academy institute
    records band club fc party airlines airline bank studios studio network channel magazine newspaper
    council agency association society foundation laboratory team league church ministry
    department committee commission federation union entertainment music media pictures productions
    publishing press services systems technologies industries holdings international brewery orchestra
    choir army navy regiment squadron division conference hospital museum library""")
PERSON_NOUNS = wordset("""person man woman men women people actor actress singer player author writer director musician politician
    artist founder cofounder co-founder composer producer screenwriter novelist poet painter sculptor
    architect designer engineer scientist physicist chemist biologist mathematician economist philosopher
    historian journalist presenter host comedian dancer rapper guitarist drummer bassist pianist vocalist
    songwriter lyricist conductor coach manager captain president king queen prince princess emperor
    empress duke lord lady minister governor senator mayor chancellor premier ambassador diplomat
    general admiral officer soldier pilot astronaut explorer inventor entrepreneur businessman businesswoman
    industrialist executive ceo chairman chair owner leader father mother son daughter brother sister wife
    husband child children uncle aunt nephew niece cousin grandson granddaughter spouse partner wrestler
    boxer fighter athlete footballer cricketer golfer swimmer skater skier cyclist runner surfer model
    filmmaker cinematographer editor illustrator cartoonist animator character protagonist villain
    anthropologist psychologist sociologist lawyer judge lobbyist consultant teacher professor student
    monk priest bishop pope saint prophet driver racer rider jockey broadcaster commentator critic activist
    reporter novelist playwright""")
PERSON_SUFFIXES = ("ist", "ian", "er", "or", "ess")  # guitarist, musician, singer, actor, actress
NOT_PERSON_SUFFIXED = wordset("""center centre river tower water number member quarter chapter corner border order letter paper
    theater theatre computer newspaper cluster trailer thriller container order player-owned
    series genre power floor door motor color colour error mirror sector factor terror honor honour
    minor major interior exterior meteor liquor manor harbor harbour tractor vector doctor-who
    register meter metre cancer river liver silver winter summer other""")
DATE_NOUNS = frozenset(["year", "date", "decade", "century", "month", "day", "time", "period", "timeframe", "era"])
NUMBER_NOUNS = wordset("""number population amount count total size height length width depth weight capacity revenue income
    profit budget cost price salary score rate percentage share speed range distance duration volume
    altitude elevation mass power age inhabitants employees temperature pressure voltage frequency""")
PLACE_NOUNS = wordset("""city town country state county region province place island village capital continent
    neighborhood neighbourhood district location area suburb municipality borough seat hometown birthplace
    headquarters""") - {"area"}
# Nouns that ask for a thing of technical text (general software English, no library's vocabulary):
# "which function …" wants an identifier, "which option …" a flag, "which exception …" an exception.
TECH_NOUNS: dict[str, str] = {
    **dict.fromkeys(
        wordset("""function method class module package attribute decorator property variable hook signal fixture
        callback constant helper utility object subclass mixin adapter api endpoint field identifier
        classmethod staticmethod"""),
        "identifier",
    ),
    **dict.fromkeys(wordset("exception error warning"), "exception"),
    **dict.fromkeys(wordset("option flag switch parameter argument setting mode"), "option"),
    **dict.fromkeys(wordset("command subcommand"), "command"),
    **dict.fromkeys(wordset("version release"), "version"),
}
# "Which file …", "what file extension …": answered by a path or literal ("~/.toolrc", ".txt"). Read
# only right after the wh-word: in "which option removes files …" the files are the verb's object.
PATH_NOUNS = wordset("file files path paths folder folders directory directories extension suffix")
# Two-word heads of technical text whose answer is a number: "what return code …", "which error code …".
NUMBER_COMPOUNDS = frozenset(["exit code", "status code", "return code", "error code", "exit status"])
ORG_NOUNS = wordset("""company band team organization organisation university school club firm party label corporation
    group conference league network channel station newspaper magazine publisher studio agency brand
    airline manufacturer retailer chain business""")


def is_person_noun(noun: str) -> bool:
    """'physicist', 'screenwriters', 'industrialist' name people; 'tower', 'river' do not."""
    w = noun.lower()
    singular = w[:-1] if w.endswith("s") and not w.endswith("ss") else w
    if w in PERSON_NOUNS or singular in PERSON_NOUNS:
        return True
    if singular in NOT_PERSON_SUFFIXED or len(singular) < 5:
        return False
    return singular.endswith(("ist", "ian"))
