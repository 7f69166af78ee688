"""Checking an answer against its passages: resolve [n] markers to verbatim quotes, repair or
drop bad ones, and decide whether the answer is supported at all."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.engine.relations import Similar, relation_problem
from bot.engine.types import Citation, Passage
from retrieval.text import sentences, tokenize

NOT_FOUND = "NOT IN THE ARTICLES"  # the agreed reply when no passage answers (prompt, extractive)
MARKER = re.compile(
    r"\s*[\[【]\s*(?:passages?|source|ref)?\s*(\d{1,2}(?:\s*(?:,|;|and|&|-)\s*\d{1,2})*)\s*[\]】]",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    r"NOT IN THE ARTICLES?|\b(?:do|does|did)(?: not|n't) (?:say|mention|state|specify|provide|"
    r"contain|include|give|indicate|discuss|report)|\bnot (?:mentioned|specified|stated|"
    r"provided|given|available|known|clear from)|\bno (?:information|mention|details?)\b|"
    r"\bI (?:do not|don't|cannot|can't) (?:know|find|answer|determine)|\bunknown\b|"
    r"\bcannot be (?:determined|found|answered)",
    re.IGNORECASE,
)
SUPPORT_MIN = 0.6  # share of a claim's answer terms that its quote must contain
VACUOUS = "the answer only repeats the question"
MISBOUND = "the quote does not state the claim"
UNSUPPORTED = "unsupported claim"


@dataclass(frozen=True)
class Claim:
    text: str
    cited: tuple[int, ...]


_NOT_FOUND = re.compile(NOT_FOUND + "?", re.IGNORECASE)


def is_refusal(text: str) -> bool:
    """The model's way of saying the passages do not answer: the agreed reply, or a
    "does not say" style sentence with no citation (a cited sentence is an answer)."""
    if _NOT_FOUND.search(text):
        return True
    return bool(_REFUSAL.search(text)) and not MARKER.search(text)


def cited_numbers(text: str) -> list[int]:
    """The passage numbers that the [n] markers of a text cite, in order ([2-4] is 2, 3, 4)."""
    cited: list[int] = []
    for match in MARKER.finditer(text):
        for lo, sep, hi in re.findall(r"(\d+)(?:\s*(-)\s*(\d+))?", match.group(1)):
            cited.extend(range(int(lo), int(hi) + 1) if sep else [int(lo)])
    return cited


def split_claims(answer: str) -> list[Claim]:
    """Sentences of the answer with the passage numbers cited in (or right after) each."""
    claims: list[Claim] = []
    spans = sentences(answer)
    for span in spans:
        piece = answer[span.start : span.end]
        cited = cited_numbers(piece)
        text = MARKER.sub("", piece).strip()
        if not re.search(r"\w", text) and claims:  # a bare marker after the last sentence
            claims[-1] = Claim(claims[-1].text, claims[-1].cited + tuple(cited))
        elif text:
            claims.append(Claim(text, tuple(cited)))
    return claims


def _weights(terms: list[str], raw: str) -> dict[str, float]:
    """Names and numbers weigh more: they are what an invented answer gets wrong."""
    weighty = {t for t in tokenize(" ".join(re.findall(r"\b(?:[A-Z][\w'-]*|\d[\d.,]*)", raw)))}
    return {t: (2.0 if t in weighty or t[0].isdigit() else 1.0) for t in terms}


def _has(term: str, vocab: set[str]) -> bool:
    """Whether the term, or a word sharing its stem (Iran/Iranian, Iraq/Iraqi), is in vocab."""
    if term in vocab:
        return True
    if len(term) < 4 or term[0].isdigit():
        return False
    return any(len(v) >= 4 and (v.startswith(term) or term.startswith(v)) for v in vocab)


def is_fragment(answer: str, question: str) -> bool:
    """An answer that is not a sentence naming its subject: "Rudaw [1]", "$4 billion [1]",
    "Hadi al-Amiri, the head of Badr Organization [1]" (none of the question's words)."""
    claims = split_claims(answer)
    if not claims:
        return True
    words = re.findall(r"[\w$%'’.,-]+", claims[0].text)
    q = set(tokenize(question))
    names_subject = any(_has(t, q) for t in tokenize(claims[0].text))
    return len(words) < 4 or not names_subject


_ITEM = r"(?:[\w'’$%.-]+ ){0,4}[\w'’$%.-]+"
_LIST = re.compile(rf"{_ITEM}(?:, {_ITEM})+,? (?:and|or) {_ITEM}")
_LIST_SEP = re.compile(r",\s*(?:and |or )?|\s+(?:and|or)\s+")


def drops_list_items(claim: str, quote: str) -> bool:
    """Whether the claim gives some items of a list in the quote but leaves others out
    ("mine clearance and border surveillance" of "mine clearance, border surveillance and
    the evacuation of wounded soldiers")."""
    have = set(tokenize(claim))
    for match in _LIST.finditer(quote):
        items = [
            set(tokenize(i)) for i in re.split(r",\s*(?:and |or )?|\s+(?:and|or)\s+", match.group())
        ]
        items = [i for i in items if i]
        given = [bool(i & have) for i in items]
        if any(given) and not all(given):
            return True
    return False


# who said it is not what was said: "..., according to ISNA's report"
_ATTRIBUTION = re.compile(
    r"\baccording to\b[^,.;]*|\b(?:as )?(?:reported|said|stated|announced) by\b[^,.;]*", re.I
)


def repeats_question(claim: str, question: str) -> bool:
    """True when the claim names nothing the question did not already name, its source
    aside ("the officers discussed cooperation, according to ISNA" to "What did the officers
    discuss?")."""
    q = set(tokenize(question))
    return all(_has(t, q) for t in tokenize(_ATTRIBUTION.sub(" ", claim)))


def support(claim: str, question: str, sentence: str) -> float:
    """Weighted share of the claim's new terms (not already in the question) in the sentence."""
    q = set(tokenize(question))
    claim_terms = list(dict.fromkeys(tokenize(claim)))
    terms = [t for t in claim_terms if not _has(t, q)] or claim_terms
    if not terms:
        return 0.0
    have = set(tokenize(sentence))
    weights = _weights(terms, claim)
    return sum(w for t, w in weights.items() if _has(t, have)) / sum(weights.values())


def sentence_problem(
    question: str, claim: str, passage: Passage, start: int, end: int, similar: Similar | None
) -> str:
    """Why passage.text[start:end] does not state the claim as an answer (`relations`), or
    "": what the passage shows before it is its lead, and with the text before the passage
    (or that lead) and the article's title, the context the question's names may come from."""
    lead = passage.text[:start].strip()
    spans = sentences(lead)
    before = lead[spans[-1].start : spans[-1].end] if spans else passage.context
    context = f"{before} {passage.title}"
    quote = passage.text[start:end]
    return relation_problem(question, claim, quote, context, similar, lead, before)


def marked(sentence: str, n: int) -> str:
    """A sentence with its citation marker, before its full stop: "... al-Amiri [1]."."""
    body, stop = (sentence[:-1], sentence[-1]) if sentence[-1:] in ".!?" else (sentence, "")
    return f"{body.rstrip()} [{n}]{stop}"


@dataclass(frozen=True)
class Quote:
    rank: float  # support plus a little for being on the question's topic
    support: float
    start: int  # offsets in the document
    end: int
    problem: str  # why the quote does not state the claim ("" when it does)


def best_quote(
    claim: str, question: str, passage: Passage, similar: Similar | None = None, main: bool = True
) -> Quote | None:
    """The passage sentence (or adjacent pair) that best supports a claim and states it (see
    `relations`), preferring the one on the question's topic; when every supporting quote
    fails the relation check, the best of them with its problem; None if none supports."""
    spans = sentences(passage.text)
    singles = {
        (sp.start, sp.end): support(claim, question, passage.text[sp.start : sp.end])
        for sp in spans
    }
    candidates = [((a.start, a.end), [a]) for a in spans]
    candidates += [((a.start, b.end), [a, b]) for a, b in zip(spans, spans[1:])]
    q_terms = set(tokenize(question))
    problems: dict[tuple[int, int], str] = {}  # a sentence is the core of up to three quotes
    best: Quote | None = None
    for (lo, hi), parts in candidates:
        text = passage.text[lo:hi]
        backed = singles[(lo, hi)] if len(parts) == 1 else support(claim, question, text)
        if backed < SUPPORT_MIN:
            continue
        topic = len(q_terms & set(tokenize(text))) / len(q_terms) if q_terms else 0.0
        rank = backed + 0.1 * topic
        # the relation is judged on the sentence that carries the claim, with the one before;
        # only for the answer itself: a further sentence only adds detail
        core = max(parts, key=lambda sp: singles[(sp.start, sp.end)])
        key = (core.start, core.end)
        if main and key not in problems:
            problems[key] = sentence_problem(question, claim, passage, *key, similar)
        problem = problems.get(key, "")
        quote = Quote(rank, backed, passage.start + lo, passage.start + hi, problem)
        if best is None or _better(quote, best):
            best = quote
    return best


def _better(a: Quote, b: Quote) -> bool:
    """A quote that states the claim beats one that does not; then the higher rank; a pair
    must beat its sentences outright, and on ties the shorter quote wins."""
    if bool(a.problem) != bool(b.problem):
        return not a.problem
    if abs(a.rank - b.rank) > 1e-9:
        return a.rank > b.rank
    return a.end - a.start < b.end - b.start


def verify(
    answer: str, question: str, passages: list[Passage], similar: Similar | None = None
) -> tuple[str, list[Citation], str]:
    """Resolve and check citations. Returns (answer text with renumbered markers, citations,
    reason it is unsupported or ""). Markers to passages that do not support their sentence
    are repaired to the passage that does, or the sentence is dropped. A quote that holds the
    claim's words but binds them otherwise (`relations`) does not support it."""
    claims = split_claims(answer)
    if not claims:
        return "", [], "empty answer"
    citations: list[Citation] = []
    kept: list[str] = []
    for index, claim in enumerate(claims):
        if index == 0 and repeats_question(claim.text, question):
            return "", [], VACUOUS
        found: tuple[Quote, Passage] | None = None
        for passage in passages:  # the best-supported, most on-topic quote; the model's
            quote = best_quote(claim.text, question, passage, similar, main=index == 0)
            if quote is None:
                continue
            bonus = 0.05 if passage.n in claim.cited else 0.0  # the model's own pick wins ties
            quote = replace(quote, rank=quote.rank + bonus)
            if found is None or _better(quote, found[0]):
                found = (quote, passage)
        if found is None or found[0].problem:
            if index == 0:
                if found:
                    return "", [], f"{MISBOUND}: {found[0].problem}: {claim.text[:80]}"
                return "", [], f"{UNSUPPORTED}: {claim.text[:80]}"
            continue  # drop an unsupported secondary sentence
        quote, passage = found
        start, end = quote.start, quote.end
        same = next((c for c in citations if (c.start, c.end) == (start, end)), None)
        if same is None:
            rel = start - passage.start
            same = Citation(
                n=len(citations) + 1,
                quote=passage.text[rel : rel + end - start],
                start=start,
                end=end,
                score=round(quote.support, 3),
                passage=passage,
            )
            citations.append(same)
        kept.append(marked(claim.text, same.n))
    return " ".join(kept), citations, ""
