"""The extractive backend: answer by quoting the passage sentence that best answers."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.engine.citations import NOT_FOUND
from bot.engine.relations import excluded_names
from bot.engine.types import Passage
from retrieval.text import sentences, tokenize

_NUMERIC_Q = re.compile(
    r"\b(how (many|much|high|big|large|long|far|old)|population|percentage|what year|"
    r"which year|what date|on what date|how often)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"hundred|thousand|million|billion|dozen|third|fourth|fifth|sixth|seventh|eighth|ninth|"
    r"tenth)\b",
    re.IGNORECASE,
)
_WHO_Q = re.compile(
    r"^\s*(who|whom|whose)\b|\bwhich (officer|official|person|man|woman|leader)", re.IGNORECASE
)
_PRONOUN_SUBJECT = re.compile(r"[\"'“‘(]*(?:he|she|they|it|we)\b", re.IGNORECASE)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*")


def extract(
    question: str,
    passages: list[Passage],
    states: Callable[[Passage, str], bool] | None = None,
) -> str:
    """The evidence sentence that best answers, with its passage marker, or NOT_FOUND.

    Each passage's score is its sentence's relevance (`evidence.score_sentences`: meaning and
    the question's terms); a question asking for a number needs a sentence with one, and a
    "who" question prefers a sentence naming someone the question does not. With `states`,
    only a sentence that it accepts as stating an answer (see `relations`) is used.
    """
    excluded = set(tokenize(" ".join(excluded_names(question))))
    q_terms = set(tokenize(question)) - excluded
    numeric = bool(_NUMERIC_Q.search(question))
    who = bool(_WHO_Q.search(question)) or bool(excluded)
    ranked = []
    for p in passages:
        spans = sentences(p.text)
        if not spans:
            continue
        text = p.text[spans[-1].start : spans[-1].end]  # the sentence; any before is its lead
        if numeric and not _NUMBER.search(text):
            continue
        score = p.score
        names = [set(tokenize(n)) for n in _NAME.findall(text)]
        if who and len(spans) == 1 and _PRONOUN_SUBJECT.match(text):
            score -= 0.1  # "He said ..." without the sentence saying who he is tells no one
        elif who and any(not n <= q_terms | excluded for n in names):
            score += 0.1  # it names someone (something) the question does not
        ranked.append((score, p, text))
    ranked.sort(key=lambda item: -item[0])
    for _, p, text in ranked:
        if states is None or states(p, text):
            return f"{' '.join(text.split())} [{p.n}]"
    return NOT_FOUND
