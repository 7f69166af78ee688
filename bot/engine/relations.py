"""Does the quote state the claim, or only contain its words?

Word overlap passes a name, number or date that the quote gives in another relation than the
answer claims: a role the quote gives for another country, a count of something else, an
event of another person. These checks look at how the quote binds the answer to what the
question asks about:

- names: every name the question asks about (a country, a person, a place) is stated by the
  quote or its context (the sentence before, the article's title);
- roles: a role the question qualifies ("Iraq's defence minister") must not be qualified by
  another name in the quote ("Turkey's defence minister, Kemal Arslan");
- counts: the number answering "how many X" must count X (or a word meaning it), not
  something else ("five days" does not answer "how many soldiers"); an ordinal counts;
- slots: a fact the quote gives of another name where the question has its own ("trade
  through Ibrahim Khalil" for "trade through the Ovakoy crossing");
- times: a when question needs a time, and not the time of another event ("once the drills
  end on Sunday" for "when did he speak to reporters?");
- kinds: the answer gives the kind of thing asked for (a date, a time of day, a span, money
  rather than a price per unit, a named type, someone named for "who", not only places for
  "which company").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from retrieval.text import STOPWORDS, fold, tokenize

Similar = Callable[[str, str], float]  # similarity of two short phrases (0-1)

_WORD = re.compile(r"[A-Za-z\u00C0-\u024F][\w'’\-]*|\d[\d,.]*")
_WH = {
    "who",
    "whom",
    "whose",
    "what",
    "which",
    "when",
    "where",
    "why",
    "how",
    "is",
    "are",
    "was",
    "were",
    "did",
    "does",
    "do",
    "has",
    "have",
    "had",
    "can",
    "could",
    "will",
    "would",
    "should",
    "besides",
    "according",
    "in",
    "on",
    "at",
    "for",
    "the",
    "a",
    "an",
    "and",
    "of",
    "to",
    "by",
    "from",
    "with",
    "about",
    "after",
    "before",
    "during",
    "since",
}
_NUMBER = re.compile(
    r"^\d[\d,.]*$|^(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve|twenty|thirty|forty|fifty|hundred|thousand|dozens?|several)$"
)
# "the third attack this year" counts three attacks
_ORDINAL = re.compile(r"^(?:second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)$", re.I)
_SCALE = {
    "million",
    "billion",
    "thousand",
    "hundred",
    "percent",
    "per",
    "cent",
    "about",
    "around",
    "some",
    "nearly",
    "more",
    "than",
    "up",
    "to",
    "over",
    "almost",
}
UNIT_SIMILARITY = 0.45  # MiniLM cosine above which two nouns count as the same thing


def _base(word: str) -> str:
    w = fold(word).strip("'’.,-")
    for suffix in ("'s", "’s"):
        if w.endswith(suffix):
            w = w[: -len(suffix)]
    return w


def _singular(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def related(a: str, b: str, strict: bool = False) -> bool:
    """Same word or the same root: Iraq/Iraqi, Turkey/Turkish, minister/ministers. `strict`
    allows only plurals, for role words (a minister is not a ministry)."""
    a, b = _base(a), _base(b)
    if a == b or _singular(a) == _singular(b):
        return True
    if strict:
        return False
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    return common >= 4 and common >= 0.55 * min(len(a), len(b))


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def _is_name(word: str) -> bool:
    return word[:1].isupper() and fold(word) not in _WH


_EXCLUDED = re.compile(
    r"\b(?i:besides|except|apart from|other than|aside from|excluding|not counting)\s+"
    r"((?:[A-Z][\w'’-]*\s*(?:and\s+|,\s*)?)+)"
)


def excluded_names(question: str) -> list[str]:
    """The names a question sets aside: "Besides ISNA, which outlet ..." -> ["isna"]."""
    return [_base(w) for m in _EXCLUDED.finditer(question) for w in words(m.group(1))]


_ADDRESSING = re.compile(r"[@#]\S+|\b\w+://\S+")  # mentions, channels, links: not asked about


def name_groups(question: str) -> list[list[str]]:
    """The question's names, a run of capitalised words being one ("Lieutenant General Qasim
    Nouri"), without the names it sets aside."""
    excluded = set(excluded_names(question))
    groups: list[list[str]] = []
    previous, joined = -2, False
    for i, w in enumerate(words(_ADDRESSING.sub(" ", question))):
        if i == 0 or not _is_name(w) or len(_base(w)) < 2 or _base(w) in excluded:
            continue
        if i == previous + 1 and joined:
            groups[-1].append(_base(w))
        else:
            groups.append([_base(w)])
        previous, joined = i, not w.endswith(("'s", "’s"))  # "Iraq's Oil Ministry": two
    return groups


def missing_names(question: str, context: str) -> list[str]:
    """Names of the question that the context does not state (one word of a many-word name,
    "Nouri" for "Lieutenant General Qasim Nouri", states it)."""
    ws = words(context)
    have = [_base(w) for w in ws] + _acronyms(ws)
    return [
        " ".join(g)
        for g in name_groups(question)
        if not any(related(n, h) for n in g for h in have)
    ]


_SLOT_PREPOSITIONS = {"through", "near", "at", "from", "in", "to", "into", "via"}


def slot_conflict(question: str, quote: str) -> str:
    """A name the quote puts where the question has its own, when the question's name is not
    in the quote (it came from the sentence before): "trade through the Ovakoy crossing"
    against "Trade through Ibrahim Khalil". The slot is a word and its preposition, both the
    question's."""
    qs, ws = words(question), words(quote)
    have = [_base(w) for w in ws]
    for i, w in enumerate(qs):
        if i < 2 or not _is_name(w) or any(related(w, h) for h in have):
            continue
        j = i - 1 if fold(qs[i - 1]) != "the" else i - 2
        if j < 1 or fold(qs[j]) not in _SLOT_PREPOSITIONS:
            continue
        prep, head = fold(qs[j]), qs[j - 1]
        for k in range(1, len(ws) - 1):
            if fold(ws[k]) != prep or not related(ws[k - 1], head):
                continue
            n = k + 2 if fold(ws[k + 1]) == "the" and k + 2 < len(ws) else k + 1
            other = ws[n]
            if _is_name(other) and fold(other) not in STOPWORDS and not _TIME.match(other):
                return _base(other)
    return ""


def _name_runs(ws: list[str]) -> list[list[str]]:
    """The runs of two or more capitalised words, a leading article aside ("The United
    States" -> ["United", "States"])."""
    out: list[list[str]] = []
    run: list[str] = []
    for w in [*ws, "."]:
        if w[:1].isupper() and (run or fold(w) not in STOPWORDS):
            run.append(w)
            continue
        if len(run) >= 2:
            out.append(run)
        run = []
    return out


def _initials(run: list[str]) -> str:
    return "".join(w[0].lower() for w in run)


def _acronyms(ws: list[str]) -> list[str]:
    """The initials of each run of capitalised words: "Kurdistan Regional Government" states
    "KRG"."""
    return [_initials(run) for run in _name_runs(ws)]


def spelled_out(question: str, text: str) -> str:
    """The question with each acronym followed by the name it stands for in the text: "the
    KRG" -> "the KRG (Kurdistan Regional Government)", so that a small model reading the text
    sees the two are one."""
    runs: dict[str, str] = {}
    for run in _name_runs(words(text)):
        runs.setdefault(_initials(run), " ".join(run))

    def expand(m: re.Match[str]) -> str:
        name = runs.get(m.group(0).lower())
        return f"{m.group(0)} ({name})" if name else m.group(0)

    return re.sub(r"\b[A-Z]{2,6}\b", expand, question)


_ROLE_PREPOSITIONS = {"of", "in", "at"}  # "the governor of X", "the consul-general in X"


def _role_word(w: str) -> bool:
    return not w[:1].isupper() and fold(w) not in STOPWORDS and not _NUMBER.match(fold(w))


def _qualified_roles(
    question: str, possessive_only: bool = False
) -> list[tuple[str, list[str], str]]:
    """(name, role words) for each name that qualifies the lower-case words after it, as a
    possessive or after an article: "Iraq's defence minister" -> ("iraq", ["defence",
    "minister"]), "the Iranian consul-general" -> ("iranian", ["consul-general"]); and, unless
    `possessive_only`, the words before "of" it: "the governor of Kirkuk" -> ("kirkuk",
    ["governor"]); "the consul-general in Mosul" -> ("mosul", ["consul-general"], "in"). The
    third item is the preposition that binds the name ("" for a possessive or an adjective)."""
    ws = words(question)
    out = []
    for i, w in enumerate(ws):
        if i == 0 or not _is_name(w) or _TIME.match(w):
            continue
        prep = ""
        possessive = fold(w).endswith(("'s", "’s"))
        after_article = fold(ws[i - 1]) in {"the", "a", "an"} and not possessive_only
        role: list[str] = []
        if possessive or after_article:
            for nxt in ws[i + 1 : i + 5]:  # the whole phrase: its last word is its head
                if not _role_word(nxt):
                    break
                role.append(_base(nxt))
        if not role and not possessive_only:
            of = i - 2 if fold(ws[i - 1]) == "the" else i - 1
            if of > 0 and fold(ws[of]) in _ROLE_PREPOSITIONS:
                prep = "of" if fold(ws[of]) == "of" else "in"
                for prev in reversed(ws[max(0, of - 3) : of]):
                    if not _role_word(prev):
                        break
                    role.insert(0, _base(prev))
        if role:
            out.append((_base(w), role, prep))
    return out


_LEADS = frozenset(
    "head heads headed leader leaders lead leads led leading chief chairman chair "
    "chairs run runs ran running commander commands commanded".split()
)
_LEADS_Q = re.compile(
    r"^\s*who\s+(?:heads|headed|leads|led|runs|ran|chairs|chaired|commands|commanded)\b", re.I
)
_WHO_IS_Q = re.compile(r"^\s*who\s+(?:is|was|are|were|will be)\b", re.I)
_ROLE_OF_Q = re.compile(
    r"^\s*who\s+(?:is|was|are|were|will be)\s+(?:the\s+)?[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2}"
    r"\s+(?:of|in|at)\b",
    re.I,
)


def missing_role(question: str, quote: str) -> str:
    """A word of a role a "who" question qualifies that the quote lacks ("oil" of "Who is
    Iraq's oil minister?" against "Electricity minister Faris Hamdan"; "governor" of "Who is
    the governor of Kirkuk?" against a sentence naming no governor). Words for leading stand
    for each other ("the head of" is stated by "led by")."""
    if not re.match(r"\s*(?:who|whom|whose)\b", question, re.I):
        return ""
    have = words(quote)
    if _LEADS_Q.match(question) and not any(fold(h) in _LEADS for h in have):
        return "who leads it"
    if not (_WHO_IS_Q.match(question) or _LEADS_Q.match(question)):
        # "Who announced Iraq's oil exports?" asks for no holder of a role
        return ""
    roles = _qualified_roles(question, possessive_only=True)
    if _ROLE_OF_Q.match(question):  # "Who is the governor of/in X?": the role is the question
        roles += [r for r in _qualified_roles(question) if r not in roles]
    for _, role, _ in roles:
        for r in role:
            if fold(r) in _LEADS and any(fold(h) in _LEADS for h in have):
                continue
            if not any(related(r, h, strict=True) for h in have):
                return r
    return ""


_ASKING = frozenset(  # words that say what kind of answer is wanted, not what it is about
    "date day time year month place role name call happen kind type way reason thing "
    "say tell many much long far often high big large old".split()
)


TOPIC_SIMILARITY = 0.5  # MiniLM cosine of question and sentence above which they share a topic


def off_topic(question: str, quote: str, similar: Similar | None = None) -> bool:
    """Whether the quote holds none of the question's words besides its names, when it has
    three or more ("resumed at 1 a.m. on Wednesday" for "When did the drone strike the
    airport?"); fewer say too little to judge, as paraphrase is common. With `similar`, a
    quote that says the same in other words ("The exercises are led by" for "co-leading the
    drills") is on the topic when its meaning is close to the question's."""
    # names are held to the quote's context by `missing_names`; here only the other words
    names = {n for g in name_groups(question) for n in g} | set(excluded_names(question))
    excluded = set(tokenize(" ".join(names))) | _ASKING
    terms = [t for t in dict.fromkeys(tokenize(question)) if t not in excluded]
    if len(terms) < 3:
        return False
    have = tokenize(quote)
    if any(related(t, h) for t in terms for h in have):
        return False
    return similar is None or similar(question, quote) < TOPIC_SIMILARITY


_REFERRING = {"its", "his", "her", "their"}


def role_conflict(question: str, quote: str, antecedent: str = "") -> str:
    """The name that the quote qualifies the question's role with instead of the question's
    own, or "" when the quote binds the role to the same name (or to none). The quote binds
    a role to the name before it ("Turkey's defence minister", "the Erbil governor"), after
    it ("the governor of Erbil"), or, through "its"/"his"/"their", to the names of the
    `antecedent` sentence ("Its governor" after a sentence about Erbil)."""
    ws = words(quote)
    referred = [_base(w) for w in words(antecedent) if _is_name(w) and fold(w) not in STOPWORDS]
    for name, role, prep in _qualified_roles(question):
        head = role[-1]
        located = prep == "in"  # "the consul-general in Mosul" is held to the quote's "in X"
        bound: list[str] = []
        for i, w in enumerate(ws):
            if not related(w, head, strict=True):
                continue
            start = i  # the role phrase may be preceded by its other words
            while start > 0 and any(related(ws[start - 1], r, strict=True) for r in role[:-1]):
                start -= 1
            j = start - 1
            while j >= 0 and fold(ws[j]) in {"the", "a", "an"}:  # a name before "of" does
                # not own what follows ("the Organization for Marketing of Oil")
                j -= 1
            if j >= 0 and fold(ws[j]) in _REFERRING:
                if j == 0 and referred:  # "Its governor, ..." opening the sentence; within a
                    # sentence "its" is its own subject's
                    bound.extend(
                        referred if any(related(r, name) for r in referred) else referred[:1]
                    )
            elif j >= 0 and _is_name(ws[j]) and not located:
                bound.append(_base(ws[j]))
            k = i + 1
            if k < len(ws) and fold(ws[k]) in _ROLE_PREPOSITIONS:
                # "of X" owns the role, "in X" places it: each answers its own kind
                after_in = fold(ws[k]) != "of"
                k += 2 if k + 1 < len(ws) and fold(ws[k + 1]) == "the" else 1
                if k < len(ws) and _is_name(ws[k]) and after_in == located:
                    bound.append(_base(ws[k]))
        if bound and not any(related(b, name) for b in bound):
            return bound[0]
    return ""


_POPULATION_Q = re.compile(r"\bpopulation\b|\bhow many (?:people|residents|inhabitants) live", re.I)


def counted_noun(question: str) -> str:
    """What a "how many X" question counts (its first noun after "how many"; "population"
    for a question about one), else ""."""
    if re.search(
        r"\bpopulation\b|\bhow many (?:people|residents|inhabitants) live", question, re.I
    ):
        return "residents"
    m = re.search(r"\bhow many\s+((?:[A-Za-z][\w-]*\s+){0,2}[A-Za-z][\w-]*)", question, re.I)
    if not m:
        return ""
    for w in m.group(1).split():
        if fold(w) not in STOPWORDS and not w[:1].isupper():
            return fold(w)
    return ""


def count_conflict(question: str, claim: str, quote: str, similar: Similar) -> str:
    """The thing that the quote's number counts, when the claim answers "how many X" with a
    number that the quote gives for something else; "" when it counts X (or says nothing)."""
    noun = counted_noun(question)
    if not noun:
        return ""
    claimed = {fold(w) for w in words(claim) if _NUMBER.match(fold(w)) or _ORDINAL.match(w)}
    ws = words(quote)
    units = []
    for i, w in enumerate(ws):
        if fold(w) not in claimed:
            continue
        if i > 0 and fold(ws[i - 1]) in {"the", "its", "their"} and not _ORDINAL.match(w):
            continue  # "the two armies" is both armies, not a count; "the third attack" is
        # the unit follows the number: "22 agreements", "1.5 million residents", "750-megawatt"
        if "-" in w and not w.endswith("-"):
            units.append(w.split("-", 1)[1])
            continue
        unit = "nothing"  # a bare number ("on June 18") counts nothing
        for nxt in ws[i + 1 : i + 4]:
            f = fold(nxt)
            if f in _SCALE or _NUMBER.match(f):
                continue
            if f not in STOPWORDS:
                unit = nxt
            break
        units.append(unit)
    if not units:
        return "nothing"
    if any(related(u, noun) or similar(fold(u), noun) >= UNIT_SIMILARITY for u in units):
        return ""
    return fold(units[0])


_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DATE_Q = re.compile(r"\b(?:what|which) date\b|\bdate (?:of|when|on which)\b", re.I)
# a day of a month: "June 18", "18 June", "18/6" (a year alone or a weekday is no date)
_DATE = re.compile(
    rf"\b(?:{_MONTH})\.? \d{{1,2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)? (?:of )?(?:{_MONTH})\b|"
    r"\b\d{1,2}/\d{1,2}\b",
    re.I,
)
_CLOCK_Q = re.compile(r"\b(?:what|which) (?:time|hour)\b|\bat what point of the day\b", re.I)
_CLOCK = re.compile(
    r"\b\d{1,2}(?::\d\d)?\s*(?:a\.?m\b\.?|p\.?m\b\.?|o'clock\b|hours?\s+(?:gmt|utc|local))|"
    r"\b\d{1,2}:\d\d\b|\b(?:midnight|noon|midday|dawn|dusk|morning|afternoon|evening|night)\b",
    re.I,
)
_SPAN_Q = re.compile(r"\bhow (?:soon|long)\b|\bfor how long\b", re.I)
_SPAN = re.compile(
    rf"\b(?:\d[\d,.]*|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    rf"twenty|thirty|forty|fifty|several|few|many)[\s-]+(?:\w+[\s-]+)?"
    rf"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)\b|"
    rf"\b(?:{_MONTH})\b|\b(?:19|20)\d\d\b|\b(?:today|tomorrow|tonight|yesterday|soon|"
    rf"immediately|shortly|until|by the end)\b",
    re.I,
)
_WHEN_Q = re.compile(
    r"^\s*(?:since )?when\b|\b(?:what|which) (?:day|year|month|week)\b|\bhow long ago\b", re.I
)
# a time, or a time told by another event ("after the attack", "since 2016")
_WHEN = re.compile(
    rf"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|{_MONTH}|weekend|"
    rf"yesterday|today|tonight|tomorrow|ago|since|after|before|during|until|earlier|later|"
    rf"last|next|this (?:week|month|year)|(?:19|20)\d\d|\d{{1,2}}/\d{{1,2}})\b",
    re.I,
)
_SPEECH = frozenset(
    "say says said saying tell tells told telling speak speaks spoke speaking announce announces "
    "announced announcing report reports reported state states stated".split()
)
_TIME_LEAD = frozenset("on in late early last next this the by until from of".split())


def time_conflict(question: str, quote: str) -> str:
    """The event a when question's answer is the time of, when every weekday or month in the
    quote is the time of something the question does not ask about: "Nouri told reporters
    ... once the drills end on Sunday" for "On which day did Nouri speak to reporters?". A
    time opening the sentence is the whole sentence's."""
    if not _WHEN_Q.search(question):
        return ""
    asked = [w for w in words(question) if fold(w) not in STOPWORDS]
    speech = any(fold(w) in _SPEECH for w in asked)
    ws = words(quote)
    events = []
    for k, w in enumerate(ws):
        if not _TIME.match(w):
            continue
        j = k - 1
        while j >= 0 and fold(ws[j]) in _TIME_LEAD:
            j -= 1
        if j < 0 or _is_name(ws[j]) or len(ws[j]) < 3 or not ws[j].isalpha():
            return ""  # opening the sentence, or after a name or a number: not told apart
        event = ws[j]
        if any(related(event, a) for a in asked) or (speech and fold(event) in _SPEECH):
            return ""
        events.append(fold(event))
    return events[0] if events else ""


_MONEY_Q = re.compile(
    r"\bhow much (?:money\b|.*\b(?:cost|costs|pay|paid|spend|spent|worth|price|charge)\b)|"
    r"\bwhat (?:is|was|were|are|will be) the (?:cost|price|value)\b",
    re.I,
)
_MONEY = re.compile(
    r"[$€£¥₹]|\b(?:dollars?|euros?|pounds?|dinars?|rials?|riyals?|lira|liras|yuan|rupees?|"
    r"usd|eur|iqd)\b",
    re.I,
)
# an amount of money, and whether it is a rate: "$62 a barrel", "$5 per day"
_AMOUNT = re.compile(
    r"[$€£¥₹]\s?\d[\d,.]*(?:\s*(?:million|billion|bn|m|k)\b)?(?P<rate>\s+(?:a|an|per|each)\s+\w+)?",
    re.I,
)
_RATE_Q = re.compile(
    r"\b(?:per|each|a|an) (?:barrel|ton|tonne|day|month|year|unit|litre|liter)\b|"
    r"\bprice\b|\brate\b",
    re.I,
)
_TYPE_Q = re.compile(r"\bwhat (?:type|kind|model|make|brand|sort|class) of (\w[\w-]*)", re.I)


def answer_kind_problem(question: str, claim: str, quote: str) -> str:
    """What the question asks for that the claim does not give: a date for "what date", an
    amount of money for "how much did it cost", a named type for "what type of X"."""
    if _DATE_Q.search(question) and not _DATE.search(claim):
        return "the question asks for a date"
    if _WHEN_Q.search(question) and not _WHEN.search(claim):
        return "the question asks when"
    if _CLOCK_Q.search(question) and not _CLOCK.search(claim):
        return "the question asks for a time of day"
    if _SPAN_Q.search(question) and not _SPAN.search(claim):
        return "the question asks how long"
    if _MONEY_Q.search(question):
        if not _MONEY.search(claim):
            return "the question asks for an amount of money"
        amounts = list(_AMOUNT.finditer(claim))
        if amounts and all(m.group("rate") for m in amounts) and not _RATE_Q.search(question):
            return "the quote gives a price per unit, and the question asks what something cost"
    m = _TYPE_Q.search(question)
    if m:
        ws = words(quote)
        for i, w in enumerate(ws):
            if related(w, m.group(1)):  # a designation beside the thing: "a Shahed-136 drone"
                near = ws[max(1, i - 2) : i] + ws[i + 1 : i + 3]
                if any(x[:1].isupper() or re.search(r"\d", x) for x in near):
                    return ""
        return f"the question asks which type of {m.group(1)}, and the quote names none"
    return ""


_ENTITY_Q = re.compile(
    r"\b(?:which|what)\s+(?:[\w-]+\s+){0,2}?(company|companies|firm|agency|outlet|newspaper|"
    r"website|organi[sz]ation|group|party|militia|officer|official|minister|commander|person|"
    r"man|woman|country|countries|city|town|province|region|ministry|bank|airline|consortium|"
    r"field|base|crossing|port|terminal)\b",
    re.I,
)

PLACE, PERSON, GROUP = "a country, city or region", "a person's name", "an organisation"
_WHO = re.compile(r"^\s*(?:who|whom|whose)\b", re.I)
_TIME = re.compile(
    rf"^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|{_MONTH})$", re.I
)

_PARTICLE = re.compile(r"(?:al|el|bin|ibn|abu|van|von|de)-?[A-Z]")  # "Thamer al-Saadi"


def names_nothing_new(question: str, claim: str) -> str:
    """The kind of thing a "which company/officer/city" question asks to be named, when the
    claim names nothing the question does not ("a foreign oil company moved some of its
    staff" for "Which foreign oil company pulled staff out?")."""
    m = _ENTITY_Q.search(question)
    if m:
        kind = m.group(1).lower()
    elif _WHO.match(question):
        kind = "person or organisation"  # "An Iranian diplomat visited Mosul" names no one
        if _PRONOUN_OPENING.match(claim):  # "He said Iraq would hold exercises with Jordan"
            return kind
    else:
        return ""
    return "" if new_names(question, claim) else kind


_PRONOUN_OPENING = re.compile(r"[\"'“‘(]*(?:he|she|they|it)\b", re.I)


def new_names(question: str, claim: str, opening: bool = False) -> list[str]:
    """The names in the claim that the question does not give (weekdays and months aside);
    a capital that only opens the sentence counts when `opening`."""
    asked = [_base(w) for w in words(question)]
    ws = words(claim)
    new = []
    for i, w in enumerate(ws):
        if not _is_name(w) or fold(w) in STOPWORDS or _TIME.match(w):
            continue
        if (
            i == 0
            and not opening
            and not (len(ws) > 1 and (_is_name(ws[1]) or _PARTICLE.match(ws[1])))
        ):
            continue  # a capital that only opens the sentence
        if not any(related(w, a) for a in asked):
            new.append(w)
    return new


# what a "which X" question asks for that a place cannot be
_SOMEONE = frozenset(
    "company companies firm agency outlet newspaper website organisation organization group "
    "party militia officer official minister commander person man woman ministry bank airline "
    "consortium".split()
)


def answered_by_a_place(question: str, claim: str, similar: Similar) -> bool:
    """Whether a question for someone or some body ("who", "which company") is answered only
    by countries, cities or regions ("Iran proposed the exercises" to "Who proposed the
    exercises?", when a person or an agency did)."""
    m = _ENTITY_Q.search(question)
    if not (_WHO.match(question) or (m and m.group(1).lower() in _SOMEONE)):
        return False
    places = [
        w
        for w in new_names(question, claim, opening=True)
        if (p := similar(w, PLACE)) >= 0.35 and p > max(similar(w, PERSON), similar(w, GROUP))
    ]
    # a demonym goes with its place (Iranian, Iran); any other name is someone or something
    # (a capital opening the sentence only counts as a place: "Rocket attacks in Mosul")
    return bool(places) and all(
        any(related(w, p) for p in places) for w in new_names(question, claim)
    )


def relation_problem(
    question: str,
    claim: str,
    quote: str,
    context: str,
    similar: Similar | None = None,
    lead: str = "",
    before: str = "",
) -> str:
    """Why the quote does not state the claim as an answer to the question, or "".
    `context` (the text before the quote, the article's title) may supply the names the
    question asks about; `lead` is a sentence the quote refers back to ("He said ...");
    `before` is the sentence before the quote, which "its"/"his" in it refer to."""
    missing = missing_names(question, f"{quote} {context}")
    if missing:
        return f"the quote does not mention {', '.join(missing)}"
    other = role_conflict(question, quote, before)
    if other:
        return f"the quote gives that role for {other}"
    other = slot_conflict(question, quote)
    if other:
        return f"the quote says that of {other}"
    absent = missing_role(question, quote)
    if absent:
        return f"the quote does not say {absent}"
    if off_topic(question, f"{lead} {quote}", similar):
        return "the quote is about something else"
    event = time_conflict(question, quote)
    if event:
        return f"the quote's time is when something else happens ({event})"
    kind = answer_kind_problem(question, claim, quote)
    if kind:
        return kind
    unnamed = names_nothing_new(question, claim)
    if unnamed:
        return f"the question asks which {unnamed}, and the answer names none"
    if similar is not None:
        unit = count_conflict(question, claim, quote, similar)
        if unit:
            return f"the quote's number counts {unit}"
        if answered_by_a_place(question, claim, similar):
            return "a place does not answer a question for someone or some body"
    return ""
