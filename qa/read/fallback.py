"""Question + passages -> answer spans without a trained QA model: sentence matching + answer-type cues.

The reader the tool falls back to offline, so that it still answers (and says which reader did).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from qa import config
from qa.read.protocol import Embedder, empty_result, strip_span
from qa.types import Passage, Query, ReaderResult, SpanCandidate

_TOKEN_RE = re.compile(r"[^\W_]+(?:[-'’.,/:&][^\W_]+)*%?|[$£€¥]|[^\w\s]")
_STOP = frozenset(
    """a an the and or but nor so yet of to in on at by for with from into onto upon about above
    below over under between among through during before after since until till against within
    without across along around behind beyond near off out up down via per than then as if
    whether because while although though when where why how what which who whom whose that
    this these those there here it its itself he him his she her hers they them their theirs we
    us our ours you your yours i me my mine one ones is are was were be been being am do does did
    done doing have has had having can could will would shall should may might must not no also
    only just very too more most much many such other others some any each every all both either
    neither few less least own same s t 's ’s isn't wasn't aren't weren't don't didn't doesn't
    what's who's it's name named called however thus therefore hence meanwhile moreover
    furthermore nevertheless nonetheless indeed instead finally often usually generally typically
    commonly particularly especially rather quite even still already always never sometimes
    perhaps mostly mainly largely thereby whereas whereby respectively""".split()
)
# Words that ask and words that only frame a question ("what kind of", "is known as").
_FRAME = frozenset(
    """kind type sort form part example term word thing things something someone somebody
    known refer refers referred considered describe described say said tell give given
    one""".split()
)
_CONNECT = frozenset({"of", "de", "da", "del", "della", "di", "du", "des", "la", "le", "van", "von",
                      "der", "den", "bin", "ibn", "al", "y", "&", "and", "the"})
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|"
          r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?")
_ORD = r"\d{1,2}(?:st|nd|rd|th)?"
_NUMWORD = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
            r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|"
            r"sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen|half|"
            r"hundreds|thousands|millions|billions|dozens|several|first|second|third|fourth|"
            r"fifth|sixth|seventh|eighth|ninth|tenth)")
_SCALE = r"(?:hundred|thousand|million|billion|trillion|crore|lakh)"
_DATE_RES = [
    re.compile(p, re.IGNORECASE if i >= 3 else 0)
    for i, p in enumerate([
        # 2 November 2019, November 2, 2019, November 2019, 2 Nov
        rf"\b(?:{_ORD}\s+)?{_MONTH}(?:\s+{_ORD}\b)?(?:,?\s+\d{{3,4}}\b)?",
        # years and decades, with an era or a range: 1066, 1960s, 911 AD, 1096-1099
        r"\b(?:1\d{3}|20\d{2})s?(?:\s*(?:–|-|to|and)\s*(?:1\d{3}|20\d{2}|\d{2}))?\b"
        r"(?:\s+(?:AD|BC|BCE|CE)\b)?",
        r"\b\d{2,4}\s+(?:AD|BC|BCE|CE)\b|\b(?:AD|A\.D\.)\s+\d{2,4}\b",
        rf"\b(?:(?:early|late|mid|the)[- ])*(?:\d{{1,2}}(?:st|nd|rd|th)|{_NUMWORD})"
        r"(?:\s+(?:and|or|to)\s+\d{1,2}(?:st|nd|rd|th))?[- ]centur(?:y|ies)\b",
        r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
        r"tomorrow|tonight)\b",
        r"\b(?:last|next|this|early|late)\s+(?:week|month|year|decade|century|spring|summer|"
        r"autumn|fall|winter)\b",
    ])
]
# A year on its own in a date context, e.g. "in 911"
_SHORT_YEAR_RE = re.compile(r"\b(?:in|by|of|until|since|around|after|before|from|c\.) "
                            r"([1-9]\d{2})\b", re.IGNORECASE)
_NUMBER_RE = re.compile(
    rf"(?:[$£€¥]\s?)?\b\d[\d,]*(?:\.\d+)?(?:\s*(?:-|–|to)\s*\d[\d,]*(?:\.\d+)?)?"
    rf"(?:\s*(?:%|percent\b|per cent\b))?(?:\s+{_SCALE}s?\b)?"
    rf"|\b{_NUMWORD}(?:[- ]{_NUMWORD})*\b(?:\s*(?:%|percent\b|per cent\b))?",
    re.IGNORECASE,
)
_TIME_UNIT = re.compile(r"(?:second|minute|hour|day|week|month|year|decade|centur(?:y|ie))s?$",
                        re.I)
_MONEY_WORD = re.compile(r"(?:dollars?|pounds?|euros?|rupees?|cents?|yen|usd|\$|£|€|¥)$", re.I)
# Units that belong to the figure ("120 litres", "2.1 centimetres"): the answer keeps them.
_MEASURE_WORD = re.compile(
    r"(?:litres?|liters?|millilitres?|gallons?|barrels?|metres?|meters?|centimetres?|centimeters?|"
    r"millimetres?|millimeters?|kilometres?|kilometers?|km|cm|mm|miles?|feet|foot|inches|inch|"
    r"yards?|hectares?|acres?|tonnes?|tons?|kilograms?|kg|grams?|ounces?|degrees?|"
    r"(?:kilo|mega|giga)?watts?|kwh|mw|gw|calories|mph|knots)$", re.I)

_SPEECH = frozenset("say says said state states stated tell tells told announce announced claim "
                    "claimed add added reply replied respond responded comment commented "
                    "write wrote warn warned".split())
# "What did the minister say?", "What does the statement claim?", "What was said?"
_QUOTE_Q = re.compile(r"\bwhat\b.*\b(?:did|does|do|has|have|had|will|would)\b.*\b(?:say|state|tell|"
                      r"announce|claim|add|reply|respond|comment|write|warn)\b|\bwhat\b.*\bsaid\b",
                      re.IGNORECASE)
_Q_WORDS = ("what", "which", "who", "whom", "whose", "when", "where", "why", "how")
_HEAD_ADJECTIVES = frozenset("new old first last main major largest biggest smallest oldest newest "
                              "former current other same latest recent total average annual official".split())
_DATE_FOCUS = frozenset("year years date day days century centuries decade decades month months "
                        "era period time times age".split())
_PLACE_FOCUS = frozenset("country countries city cities place places state states region regions "
                         "location locations area areas continent island islands town towns "
                         "county province nation land".split())
_PROPER_FOCUS = frozenset("name language languages religion company companies organization "
                          "organisation team party nationality firm group person people man "
                          "woman king queen leader ruler president minister duke emperor "
                          "university".split())
_NUMBER_FOCUS = frozenset("number amount percentage percent proportion population size "
                          "cost price rate total".split())


def _norm(word: str) -> str:
    """Lowercase, drop a possessive, strip common inflections: cheap stemming for overlap."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'.")
    if not w.isalpha() or len(w) <= 3:
        return w
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif w.endswith("ed") and not w.endswith("eed"):
        w = w[:-2]
    elif len(w) > 4 and w.endswith("es") and w[-3] in "sxz":
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    # "stopped" ~ "stop", "sued" ~ "sue", "used" ~ "use"
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
        w = w[:-1]
    if len(w) > 2 and w.endswith("e"):
        w = w[:-1]
    return w


@dataclass
class _Tok:
    start: int
    end: int
    text: str
    low: str
    stem: str
    stop: bool
    punct: bool
    cap: bool
    parts: tuple[str, ...] = ()  # stems of the parts of a hyphenated word ("polynomial-time")


def _tokens(text: str, start: int = 0, end: int | None = None) -> list[_Tok]:
    out = []
    for m in _TOKEN_RE.finditer(text, start, len(text) if end is None else end):
        t = m.group()
        low = t.lower()
        punct = not any(c.isalnum() for c in t)
        parts = tuple(_norm(x) for x in low.split("-") if x) if "-" in low[1:-1] else ()
        out.append(_Tok(m.start(), m.end(), t, low, _norm(t), low in _STOP, punct,
                        t[0].isupper() or (len(t) > 1 and t[:2].isupper()), parts))
    return out


_ABBREV = frozenset("mr mrs ms dr st jr sr vs etc e.g i.e u.s u.k inc co ltd no gen gov sen rep "
                    "prof fig approx c ca".split())
_SENT_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[^a-z\s])|\n\s*\n")


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (character offsets) of a paragraph."""
    spans, begin = [], 0
    for m in _SENT_END.finditer(text):
        before = re.search(r"([\w.]+)\.?$", text[begin:m.start() + 1])
        word = before.group(1).rstrip(".") if before else ""
        # "Mr. Smith", "J. Smith" do not end a sentence; "a function of n. Since" does.
        initial = len(word) == 1 and word.isupper()
        if m.group().startswith(".") and (word.lower() in _ABBREV or initial):
            continue
        a, b = strip_span(text, begin, m.end())
        if a < b:
            spans.append((a, b))
        begin = m.end()
    a, b = strip_span(text, begin, len(text))
    if a < b:
        spans.append((a, b))
    return spans


@dataclass
class _Question:
    qtype: str  # PERSON LOCATION DATE NUMBER PERCENT MONEY DURATION REASON MANNER PROPER ENTITY
    words: list[_Tok]  # content words of the question
    stems: set[str]
    focus: str | None  # the noun after what/which ("what language" -> "language")
    negated: bool
    options: tuple[str, ...] = ()  # stems of "A or B" alternatives in "Is it A or B?"
    # Stems found only in a closing "(...)": the earlier turns' words qa/conversation.py adds to a
    # follow-up. They steer, but the user's own words ("And in India?") decide.
    context: frozenset[str] = frozenset()


CONTEXT_WEIGHT = 0.5
_TYPED_FOCUS = (_DATE_FOCUS | _NUMBER_FOCUS | _PLACE_FOCUS | _PROPER_FOCUS
                | frozenset(("percentage", "percent", "proportion", "fraction", "share")))
_CLOSING_CONTEXT = re.compile(r"\(([^()]*)\)\s*$")


def _context_stems(question: str, stems: set[str]) -> frozenset[str]:
    """The stems that appear only inside the question's closing "(...)"."""
    match = _CLOSING_CONTEXT.search(question)
    if not match:
        return frozenset()
    own = {t.stem for t in _tokens(question[: match.start()])}
    return frozenset(t.stem for t in _tokens(match.group(1)) if t.stem in stems and t.stem not in own)


def _analyse_question(question: str) -> _Question:
    """The question's answer type, content words and head noun (see _Question)."""
    toks = [t for t in _tokens(question) if not t.punct]
    lows = [t.low for t in toks]
    stems = {t.stem for t in toks if not t.stop and t.low not in _FRAME}
    words = [t for t in toks if not t.stop and t.low not in _FRAME]
    negated = any(t.low in {"not", "never", "n't"} or t.low.endswith("n't") for t in toks)
    qi = next((i for i, w in enumerate(lows) if w in _Q_WORDS), None)
    # "When extensive time is required, this represents what case?": the asking word is the
    # one in the main clause, after the comma.
    comma = question.rfind(",")
    if comma > 0:
        later = [i for i, t in enumerate(toks) if t.start > comma and t.low in _Q_WORDS]
        if later:
            qi = later[0]
    options: tuple[str, ...] = ()
    m = re.search(r"(\w[\w-]*)\s+or\s+(\w[\w-]*)\s*\??\s*$", question)
    if m and (qi is None or lows[0] in ("is", "are", "was", "were", "does", "do", "did", "can",
                                         "could", "will", "would", "should", "has", "have")):
        options = (_norm(m.group(1)), _norm(m.group(2)))
        stems -= set(options)
        words = [t for t in words if t.stem not in options]
    qtype, focus = "ENTITY", None
    if qi is None:
        return _Question(qtype, words, stems, focus, negated, options, _context_stems(question, stems))
    wh = lows[qi]
    nxt = lows[qi + 1] if qi + 1 < len(lows) else ""
    following = [t for t in toks[qi + 1:qi + 7]
                 if t.low not in ("kind", "type", "sort", "of", "the", "is", "was", "are", "were", "a",
                                  "an", "does", "did", "do")]
    # "Which Israeli firm", "Which new law": the head is the noun, not the word describing it
    # (but "Which film won": a verb ends the search).
    while (len(following) > 1 and (following[0].cap or following[0].low in _HEAD_ADJECTIVES)
           and not following[1].cap and not following[1].stop and not _verbish(following, 1)):
        following = following[1:]
    after = [t.low for t in following]
    head = after[0] if after else ""
    # English compounds end in their head: "the interest rate" asks for a rate. Only a word that
    # names an answer type is taken from further on ("What river flows ..." keeps "river").
    for later in after[1:3]:
        if later in _STOP or later not in _TYPED_FOCUS:
            break
        head = later
    if wh in ("who", "whom", "whose"):
        qtype = "PERSON"
    elif wh == "when":
        qtype = "DATE"
    elif wh == "where":
        qtype = "LOCATION"
    elif wh == "why":
        qtype = "REASON"
    elif wh == "how":
        if nxt in ("many", "few"):
            qtype = "NUMBER"
        elif nxt == "much":
            money = any(w in lows for w in ("cost", "costs", "pay", "paid", "spend", "spent",
                                            "worth", "price", "money"))
            qtype = "MONEY" if money else "NUMBER"
        elif nxt in ("long", "old"):
            qtype = "DURATION"
        elif nxt in ("far", "big", "large", "tall", "high", "fast", "often", "deep", "wide",
                     "heavy", "small", "hot", "cold"):
            qtype = "NUMBER"
        else:
            qtype = "MANNER"
    elif wh == "what" and _QUOTE_Q.search(question):
        qtype = "QUOTE"
    elif wh in ("what", "which"):
        focus = _norm(head) if head else None
        if head in _DATE_FOCUS:
            qtype = "DATE"
        elif head in ("percentage", "percent", "proportion", "fraction", "share"):
            qtype = "PERCENT"
        elif head in _NUMBER_FOCUS:
            qtype = "NUMBER"
        elif head in _PLACE_FOCUS:
            qtype = "LOCATION"
        elif head in _PROPER_FOCUS or "name" in lows[qi + 1:qi + 5]:
            qtype = "PROPER"
    return _Question(qtype, words, stems, focus, negated, options, _context_stems(question, stems))


@dataclass
class _Sentence:
    passage_index: int
    start: int
    end: int
    toks: list[_Tok]
    score: float = 0.0
    coverage: float = 0.0


_LOC_PREP = frozenset("in at from to near into across throughout within outside inside of on "
                      "around toward towards".split())
_REASON_TRIGGER = ("because", "since", "due", "as", "so", "order", "to", "for", "owing")
_MANNER_TRIGGER = ("by", "through", "using", "via", "with", "thanks", "as")


_DEF_CUE = frozenset("is are was were be been being called named termed include includes included "
                     "including like equals means denoted".split())
_VERBS = frozenset(
    """come comes came become becomes became begin begins began begun lead leads led make makes
    made take takes took taken give gives gave given go goes went gone find finds found hold
    holds held see sees saw seen write writes wrote written build builds built know knows knew
    known call calls use uses include includes involve involves require requires depend depends
    seek seeks sought ask asks state states show shows shown mean means meant remain remains
    contain contains provide provides allow allows refer refers describe describes define
    defines exist exists solve solves focus focuses address addresses consider considers say
    says said tell tells told get gets got keep keeps kept leave leaves left put puts run runs
    ran set sets bring brings brought think thinks thought feel feels felt become serve serves
    drove drive drives rose rise rises fell fall falls grew grow grows win wins won lose loses
    lost pay pays paid meet meets met send sends sent spend spends spent stand stands stood
    understand understands understood sell sells sold fight fights fought flee flees fled
    seem seems appear appears belong belongs agree agrees try tries argue argues claim claims
    believe believes expect expects continue continues produce produces reach reaches using
    yields yield induce induces hides hide""".split()
)


_NOT_ADVERB = frozenset("family supply assembly reply ally rally anomaly monopoly fly italy july "
                        "holy ugly early daily weekly monthly silly".split())


def _adverb(t: _Tok) -> bool:
    return (len(t.low) > 4 and t.low.endswith("ly") and t.low.isalpha() and not t.cap
            and t.low not in _NOT_ADVERB)


def _verbish(toks: list[_Tok], k: int) -> bool:
    """A cheap guess that toks[k] is a verb (no tagger offline): known verb forms, and -ed/-ing
    words after an auxiliary or before a function word ("was stopped", "fled to")."""
    t = toks[k]
    if t.punct or t.stop:
        return False
    if t.low in _VERBS:
        return True
    prev = toks[k - 1].low if k > 0 else ""
    nxt = toks[k + 1] if k + 1 < len(toks) else None
    if t.low.endswith("ed") or t.low.endswith("ing"):
        if prev in _AUX:
            return True
        if t.low.endswith("ed") and (nxt is None or nxt.stop or nxt.punct) and not t.cap:
            return True
    return False


_AUX = frozenset("is are was were be been being am has have had do does did will would can could "
                 "shall should may might must not to also n't".split())
# Weights of the span quality; set by a coordinate search for F1 on the first half of the SQuAD 2.0
# subset (bench/fallback_reader_squad.py --part first) and checked on the second half.
_W = {"fit": 0.6, "prox": 0.15, "near": 0.1, "def": 0.12, "focus": 0.08,
      "verb": 0.3, "len": 0.04, "short": 0.1, "tau": 8.0, "sent_floor": 0.2,
      "na_scale": 0.6, "na_negation": 0.3}


# Words that put a person's name after them ("striker Mateo Alves", "Dr. Laila Haddad") or that
# make a capitalised run an organisation or a place ("University of Valmora", "Serra Alta
# mountains"): no tagger offline, so these cues tell a "who" answer from other names.
_TITLES = frozenset("mr mrs ms dr prof st gen sen rep gov lt col capt sgt rev sir dame lord lady".split())
_ROLES = _TITLES | frozenset(
    """president minister prime governor mayor senator king queen prince princess pope bishop
    emperor chancellor premier ambassador secretary commissioner judge justice leader chief
    chairman chairwoman chair spokesperson spokesman spokeswoman director founder ceo owner
    manager coach captain striker defender midfielder goalkeeper forward player substitute
    winger author writer poet novelist actor actress singer composer artist photographer
    professor scientist researcher biologist herpetologist physicist chemist economist analyst
    lawyer attorney editor reporter journalist officer general colonel inspector detective
    doctor surgeon nurse engineer architect designer teacher student""".split()
)
# A "who" answer may be an organisation ("Who won the election?" - a party) but is rarely a place.
_ORGANISATION_WORDS = frozenset(
    """university college school institute academy bank party alliance union council ministry
    department commission committee association company corporation group agency authority
    office court parliament assembly government fc club team league technologies systems""".split()
)
_PLACE_WORDS = frozenset(
    """cup championship award prize festival stadium square street road avenue bridge station
    airport harbour port line park forest mountains mountain river lake sea ocean island islands
    valley province county city state republic kingdom region hall museum hospital church journal
    times news post""".split()
)
_OF_TOTAL = re.compile(r"\d[\d,.]*\s+(?:out\s+)?of\s+(?:the\s+|all\s+)?$", re.IGNORECASE)


def _person_fit(toks: list[_Tok], i: int, j: int, place: bool, run: tuple[int, int]) -> float:
    """How well the name toks[i:j] answers "who": high after a title or role word or before
    ", a <role>"; lower for an organisation, low for a place. `run` is the whole capitalised run
    the name was cut from ("Central Bank of Ardenia" for "Ardenia")."""
    # The word that says what the run names: the last one ("Harbour Party"), the one before "of"
    # ("University of Valmora"), or a common noun right after it ("Serra Alta mountains").
    start, end = run
    of = next((x for x in range(start + 1, end) if toks[x].low == "of"), None)
    heads = {toks[of - 1].low if of is not None else toks[end - 1].low}
    if end < len(toks) and not toks[end].cap:
        heads.add(toks[end].low)
    if heads & _PLACE_WORDS:
        return 0.45
    if heads & _ORGANISATION_WORDS:
        return 0.7
    role_before = i > 0 and toks[i - 1].low.rstrip(".") in _ROLES
    title_inside = toks[i].low in _TITLES
    appositive = j + 2 < len(toks) and toks[j].text == "," and toks[j + 1].low in ("a", "an", "the")
    if role_before or title_inside or appositive:
        return 1.0
    return 0.75 if place else 0.9


def _snap(toks: list[_Tok], a: int, b: int) -> tuple[int, int] | None:
    """Character range -> token range [i, j) of the tokens overlapping it."""
    i = next((k for k, t in enumerate(toks) if t.end > a), None)
    if i is None or toks[i].start >= b:
        return None
    j = i
    while j < len(toks) and toks[j].start < b:
        j += 1
    return i, j


class FallbackReader:
    """An extractive reader that needs no download: sentence matching plus answer-type cues.

    It ranks the sentences of the passages by how well they match the question (question-word
    overlap weighted by rarity in the given passages, plus embedding similarity when an
    ``embedder`` is given), then picks spans in the best sentences that fit the question's
    expected answer type (a name for "who", a date for "when", a number for "how many", a place
    for "where", a noun phrase for "what"), are not made of question words, and lie close to the
    matched question words. Scores are in [0, 1]; ``no_answer_score`` is high when the best
    sentence covers few of the question's content words.

    >>> from qa.types import Passage, Query
    >>> p = Passage("a::0.0", "a", "t", None, None, "s", "p", 0,
    ...             "The bridge opened in 1932. Its designer was John Bradfield.")
    >>> r = FallbackReader().read(Query("Who was the designer of the bridge?"), [p])
    >>> r.candidates[0].text
    'John Bradfield'
    """

    name = "fallback"
    no_answer_threshold = None

    def __init__(self, embedder: Embedder | None = None, *, n_best: int = config.READER_N_BEST,
                 top_sentences: int = 3, max_answer_words: int = 12) -> None:
        if n_best < 1:
            raise ValueError(f"n_best must be at least 1, got {n_best}")
        if top_sentences < 1:
            raise ValueError(f"top_sentences must be at least 1, got {top_sentences}")
        self.embedder = embedder
        self.n_best = n_best
        self.top_sentences = top_sentences
        self.max_answer_words = max_answer_words

    # -- sentence ranking -------------------------------------------------------------------------

    def _rank_sentences(self, question: str, q: _Question, passages: Sequence[Passage],
                        indices: list[int]) -> tuple[list[_Sentence], dict[str, float]]:
        sents: list[_Sentence] = []
        for pi in indices:
            text = passages[pi].text
            for a, b in _sentences(text):
                toks = _tokens(text, a, b)
                if any(not t.punct for t in toks):
                    sents.append(_Sentence(pi, a, b, toks))
        n = len(sents)
        df: Counter[str] = Counter()
        for s in sents:
            df.update({t.stem for t in s.toks if not t.stop and not t.punct}
                      | {p for t in s.toks for p in t.parts})
        # A word in every sentence still counts a little (DrQA's zero IDF loses it entirely).
        idf = {w: math.log(1.0 + (n + 1) / (df.get(w, 0) + 0.5)) * (CONTEXT_WEIGHT if w in q.context else 1.0)
               for w in q.stems}
        total = sum(idf.values()) or 1.0
        own = q.stems - q.context if q.context else set()
        lacks_own: list[bool] = []  # per sentence: a follow-up's own words are all missing
        for s in sents:
            stems = {t.stem for t in s.toks if not t.punct}
            stems.update(p for t in s.toks for p in t.parts)
            hit = 0.0
            for w in q.stems:
                if w in stems:
                    hit += idf[w]
                elif len(w) >= 5 and any(len(x) >= 5 and x[:5] == w[:5] for x in stems):
                    hit += 0.6 * idf[w]  # "commonly" ~ "common", "utilized" ~ "utilization"
            s.coverage = hit / total
            lacks_own.append(bool(own) and not own & stems)
        if self.embedder is not None and sents:
            texts = [question] + [passages[s.passage_index].text[s.start:s.end] for s in sents]
            vecs = np.asarray(self.embedder.encode(texts), dtype=np.float32)
            sims = vecs[1:] @ vecs[0]
            for s, sim in zip(sents, sims):
                s.score = 0.7 * s.coverage + 0.3 * float(np.clip((sim - 0.1) / 0.6, 0.0, 1.0))
        else:
            for s in sents:
                s.score = s.coverage
        for s, lacking in zip(sents, lacks_own):
            if lacking:
                s.score *= CONTEXT_WEIGHT  # a follow-up's own words ("India") are its point
        return sents, idf

    # -- spans inside a sentence ------------------------------------------------------------------

    def _spans(self, q: _Question, text: str, s: _Sentence, idf: dict[str, float],
               lower_vocab: set[str]) -> list[tuple[int, int, float]]:
        """(token start, token end, quality in [0, 1]) for candidate answers in a sentence."""
        toks = s.toks
        n = len(toks)
        qstems = q.stems
        focus = q.focus
        is_q = [not t.punct and not t.stop and (t.stem in qstems or bool(
            t.parts and all(p in qstems or p in _STOP for p in t.parts))) for t in toks]
        matched = [(k, idf.get(toks[k].stem, 1.0)) for k in range(n) if is_q[k]]
        match_weight = sum(w for _, w in matched) or 1.0
        typed: dict[tuple[int, int], tuple[float, str]] = {}

        def add(i: int, j: int, fit: float, kind: str) -> None:
            if 0 <= i < j <= n and fit > typed.get((i, j), (-1.0, ""))[0]:
                typed[(i, j)] = (fit, kind)

        qt = q.qtype
        seg = text[:s.end]
        # Dates
        date_spans = set()
        for rx in _DATE_RES:
            for m in rx.finditer(seg, s.start):
                r = _snap(toks, m.start(), m.end())
                if r:
                    date_spans.add(r)
        for m in _SHORT_YEAR_RE.finditer(seg, s.start):
            r = _snap(toks, m.start(1), m.end(1))
            if r:
                date_spans.add(r)
        for i, j in date_spans:
            add(i, j, {"DATE": 1.0, "NUMBER": 0.25, "DURATION": 0.3, "ENTITY": 0.3}.get(qt, 0.05),
                "date")
        # Numbers (with a following unit word when the question wants an amount)
        for m in _NUMBER_RE.finditer(seg, s.start):
            r = _snap(toks, m.start(), m.end())
            if not r or any(di <= r[0] and r[1] <= dj for di, dj in date_spans):
                continue
            i, j = r
            body = m.group().lower()
            is_pct = "%" in body or "percent" in body or "per cent" in body
            nxt = toks[j] if j < n else None
            money = "$" in body or "£" in body or "€" in body or (
                nxt is not None and _MONEY_WORD.search(nxt.low) is not None)
            timed = nxt is not None and _TIME_UNIT.match(nxt.low) is not None
            measured = nxt is not None and _MEASURE_WORD.match(nxt.low) is not None
            ordinal = re.fullmatch(r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|"
                                   r"tenth|half|several", body) is not None
            # "31 of the 57 seats": the second number is the total, not the count asked for.
            total = _OF_TOTAL.search(text, max(s.start, m.start() - 24), m.start()) is not None
            if qt == "PERCENT":
                fit = 1.0 if is_pct else 0.5
            elif qt == "MONEY":
                fit = 1.0 if money else 0.55
            elif qt == "DURATION":
                fit = 1.0 if timed else 0.5
            elif qt == "NUMBER":
                fit = 0.4 if ordinal else (0.6 if total else 1.0)
            else:
                fit = 0.05 if ordinal else 0.25
            if (money or timed or measured) and nxt is not None and nxt.stem not in qstems:
                add(i, j + 1, fit, "number")
            add(i, j, fit, "number")

        def proper(k: int) -> bool:
            t = toks[k]
            if not t.cap or t.punct:
                return False
            initial = k == 0 or toks[k - 1].text in ("\"", "“", "(", "‘", ":")
            if initial and (t.stop or t.low in lower_vocab or t.low.endswith("ly")):
                return False
            return not (t.stop and t.low != "i")

        # Capitalised names ("Ravi Shankar Prasad", "Duke of Normandy")
        k = 0
        while k < n:
            if proper(k):
                j = k + 1
                while j < n:
                    if proper(j):
                        j += 1
                    elif toks[j].low in _CONNECT and j + 1 < n and proper(j + 1):
                        j += 2
                    elif (toks[j].text == "." and toks[j - 1].low in _TITLES and j + 1 < n
                          and proper(j + 1)):
                        j += 2  # "Dr. Laila Haddad" is one name
                    else:
                        break
                # Drop question words at the edges ("Norman" in "Norman conquest" asked about).
                i2, j2 = k, j
                while i2 < j2 and (is_q[i2] or toks[i2].low in _CONNECT):
                    i2 += 1
                while j2 > i2 and (is_q[j2 - 1] or toks[j2 - 1].low in _CONNECT):
                    j2 -= 1
                in_date = any(di <= i2 and j2 <= dj for di, dj in date_spans)
                if i2 < j2 and not in_date:
                    prev = toks[i2 - 1].low if i2 > 0 else ""
                    place = prev in _LOC_PREP
                    fit = {"PERSON": _person_fit(toks, i2, j2, place, (k, j)), "PROPER": 1.0,
                           "LOCATION": 1.0 if place else 0.8, "ENTITY": 0.6,
                           "MANNER": 0.2, "REASON": 0.15}.get(qt, 0.1)
                    add(i2, j2, fit, "name")
                    # "King Charles III of West Francia" also as "King Charles III"
                    for x in range(i2 + 1, j2):
                        if toks[x].low in _CONNECT and x > i2:
                            add(i2, x, fit * 0.97, "name")
                k = j
            else:
                k += 1
        # Noun-phrase-like runs of content words, cut at question words and verbs
        np_fit = {"ENTITY": 0.6, "PERSON": 0.35, "PROPER": 0.45, "LOCATION": 0.35,
                  "MANNER": 0.35, "REASON": 0.3}.get(qt, 0.05)
        verb = [_verbish(toks, x) or _adverb(toks[x]) for x in range(n)]
        k = 0
        while k < n:
            if toks[k].punct or toks[k].stop or verb[k]:
                k += 1
                continue
            j = k + 1
            while j < n:
                u = toks[j]
                if not u.punct and not u.stop and not verb[j]:
                    j += 1
                elif (u.low in ("of", "-") and j + 1 < n and not toks[j + 1].punct
                      and not toks[j + 1].stop and not verb[j + 1]):
                    j += 2
                else:
                    break
            a = k
            for x in range(k, j + 1):
                if x == j or (is_q[x] and toks[x].stem != focus):
                    b = x
                    while b > a and (toks[b - 1].stop or toks[b - 1].low == "-"):
                        b -= 1
                    if b > a:
                        add(a, b, np_fit, "np")
                        if b - a >= 2 and toks[b - 1].stem == focus:
                            add(a, b - 1, np_fit, "np")  # "arbitrary graph" and "arbitrary"
                    a = x + 1
            k = j
        # "Is it abstract or concrete?": one of the offered words
        for x, t in enumerate(toks):
            if t.stem in q.options:
                add(x, x + 1, 1.0, "option")
        # What someone said: a quotation, or the clause after the speech verb
        if qt == "QUOTE":
            for m in re.finditer(r"[“\"]([^”\"]{3,}?)[”\"]", seg[:s.end]):
                if m.start() < s.start:
                    continue
                r = _snap(toks, m.start(1), m.end(1))
                if r:
                    add(r[0], r[1], 1.0, "quote")
            for x, t in enumerate(toks):
                if t.low in _SPEECH or t.low == "saying":
                    i = x + 1
                    if i < n and toks[i].low == "that":
                        i += 1
                    j = i
                    while j < n and not (toks[j].punct and toks[j].text in ".!?;"):
                        j += 1
                    if j > i:
                        add(i, j, 0.8, "quote")
        # Clauses for why / how
        if qt in ("REASON", "MANNER"):
            triggers = _REASON_TRIGGER if qt == "REASON" else _MANNER_TRIGGER
            for x, t in enumerate(toks):
                if t.low in triggers:
                    i = x + 1
                    if t.low in ("due", "owing", "order", "thanks") and i < n and toks[i].low in (
                            "to", "of"):
                        i += 1
                    j = i
                    while j < n and not (toks[j].punct and toks[j].text in ",;:.!?()"):
                        j += 1
                    if j > i:
                        strong = t.low in ("because", "due", "order", "by", "through", "using",
                                           "via", "owing", "thanks")
                        add(i, min(j, i + self.max_answer_words), 1.0 if strong else 0.7, "clause")

        w = _W
        out = []
        trimmed: dict[tuple[int, int], tuple[float, str]] = {}
        for (i, j), (fit, kind) in typed.items():
            # No answer starts or ends with punctuation (a quotation's closing full stop).
            while i < j and toks[i].punct and toks[i].text not in "$£€¥":
                i += 1
            while j > i and toks[j - 1].punct and toks[j - 1].text not in "%)":
                j -= 1
            if i < j and fit > trimmed.get((i, j), (-1.0, ""))[0]:
                trimmed[(i, j)] = (fit, kind)
        for (i, j), (fit, kind) in trimmed.items():
            if j - i > (3 * self.max_answer_words if kind == "quote" else self.max_answer_words):
                continue
            content = [x for x in range(i, j) if not toks[x].punct and not toks[x].stop]
            if not content:
                continue
            if kind != "option" and all(is_q[x] for x in content):
                continue  # an answer made of question words answers nothing
            outside = [(k2, wt) for k2, wt in matched if not i <= k2 < j]
            dists = [min(abs(k2 - i), abs(k2 - (j - 1))) for k2, _ in outside]
            prox = sum(wt * math.exp(-d / w["tau"]) for (_, wt), d in zip(outside, dists))
            prox /= match_weight
            near = 1.0 if dists and min(dists) <= 2 else 0.0
            p = i - 1
            while p >= 0 and toks[p].low in ("the", "a", "an", "its", "their", "his", "her"):
                p -= 1
            prev = toks[p].low if p >= 0 else ""
            prev2 = toks[p - 1].low if p >= 1 else ""
            after_cue = prev in _DEF_CUE or (prev == "as" and prev2 in ("known", "such"))
            before_cue = j < n and toks[j].low in _DEF_CUE
            q_before = sum(wt for k2, wt in outside if k2 < i)
            q_after = sum(wt for k2, wt in outside if k2 >= j)
            # "X is <answer>" with the question's words in X, or "<answer> is X".
            definitional = ((after_cue and q_before >= q_after)
                            or (before_cue and q_after > q_before))
            focus_adj = focus is not None and any(
                toks[x].stem == focus for x in range(max(0, i - 2), min(n, j + 2)))
            verby = all(verb[x] for x in content)
            single_np = kind == "np" and len(content) == 1
            long_by = max(0, (j - i) - 3) if kind != "quote" else 0
            quality = (w["fit"] * fit + w["prox"] * prox + w["near"] * near
                       + w["def"] * definitional + w["focus"] * focus_adj - w["verb"] * verby
                       - w["len"] * long_by - w["short"] * single_np)
            out.append((i, j, float(np.clip(quality, 0.0, 1.0))))
        return out

    # -- reading ----------------------------------------------------------------------------------

    def read(self, query: Query, passages: Sequence[Passage]) -> ReaderResult:
        """Answer spans for ``query`` in ``passages``, best first, with a no-answer score."""
        # The carried words in parentheses: the sentence ranking weighs them below the question's own.
        question = query.search_text
        indices = [i for i, p in enumerate(passages) if p.text and p.text.strip()]
        if not question or not question.strip() or not indices:
            return empty_result(self.name)
        q = _analyse_question(question)
        sents, idf = self._rank_sentences(question, q, passages, indices)
        if not sents:
            return empty_result(self.name)
        ranked = sorted(sents, key=lambda s: -s.score)
        top = ranked[: self.top_sentences]
        # Words seen in lower case: a capitalised one of them opening a sentence is no name.
        lower_vocab = {t.low for s in sents for t in s.toks if not t.cap}
        best: dict[tuple[int, int, int], float] = {}
        for s in top:
            text = passages[s.passage_index].text
            for i, j, quality in self._spans(q, text, s, idf, lower_vocab):
                a, b = s.toks[i].start, s.toks[j - 1].end
                a, b = strip_span(text, a, b)
                floor = _W["sent_floor"]
                score = float(np.clip(s.score * (floor + (1.0 - floor) * quality), 0.0, 1.0))
                key = (s.passage_index, a, b)
                if a < b and score > best.get(key, -1.0):
                    best[key] = score
        order = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[: self.n_best]
        candidates = tuple(
            SpanCandidate(passage_id=passages[pi].passage_id, start=a, end=b, text=passages[pi].text[a:b],
                          score=score)
            for (pi, a, b), score in order
        )
        # Weak evidence -> high no-answer score: the best sentence carries little of the
        # question's (rarity-weighted) content, or the question negates what the text states.
        evidence = top[0].score
        no_answer = _W["na_scale"] * (1.0 - evidence)
        top_words = {t.low for t in top[0].toks}
        if q.negated and not top_words & {"not", "never", "no", "n't", "nor", "without"}:
            no_answer += _W["na_negation"]
        no_answer = float(np.clip(no_answer, 0.0, 1.0))
        return ReaderResult(reader=self.name, candidates=candidates, no_answer_score=no_answer)
