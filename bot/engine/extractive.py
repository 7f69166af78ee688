"""The extractive backend: answer by quoting the passage sentence that best answers."""

from __future__ import annotations

import re
from collections.abc import Callable

from langchain_core.embeddings import Embeddings

from bot.engine.citations import NOT_FOUND
from bot.engine.relations import excluded_names
from bot.engine.types import Passage
from retrieval.text import cosine, sentences, tokenize

_NUMERIC_Q = re.compile(
    r"\b(how (many|much|high|big|large|long|far|old)|population|percentage|what year|"
    r"which year|what date|on what date|how often)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"hundred|thousand|million|billion|dozen)\b",
    re.IGNORECASE,
)
_WHO_Q = re.compile(
    r"^\s*(who|whom|whose)\b|\bwhich (officer|official|person|man|woman|leader)", re.IGNORECASE
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*")


def extract(
    question: str,
    passages: list[Passage],
    embeddings: Embeddings,
    states: Callable[[Passage, str], bool] | None = None,
) -> str:
    """The best sentence with its passage marker, or NOT_FOUND.

    Sentences are scored by meaning (cosine to the question) and by the share of the
    question's terms they contain; a question asking for a number needs a sentence with one,
    and a "who" question prefers a sentence naming someone the question does not. With
    `states`, only a sentence that it accepts as stating an answer (see `relations`) is used.
    """
    cands = [(p, p.text[s.start : s.end]) for p in passages for s in sentences(p.text)]
    if not cands:
        return NOT_FOUND
    excluded = set(tokenize(" ".join(excluded_names(question))))
    q_terms = set(tokenize(question)) - excluded  # "Besides ISNA, ...": ISNA is not sought
    q_vec = embeddings.embed_query(question)
    vectors = embeddings.embed_documents([text for _, text in cands])
    numeric = bool(_NUMERIC_Q.search(question))
    who = bool(_WHO_Q.search(question)) or bool(excluded)
    best: tuple[float, str, int] = (-1.0, "", 0)
    for (p, text), vec in zip(cands, vectors):
        if numeric and not _NUMBER.search(text):
            continue
        have = set(tokenize(text))
        cover = len(q_terms & have) / len(q_terms) if q_terms else 0.0
        score = 0.5 * cosine(q_vec, vec) + 0.5 * cover
        names = [set(tokenize(n)) for n in _NAME.findall(text)]
        if who and any(not n <= q_terms | excluded for n in names):
            score += 0.1  # it names someone (something) the question does not
        if excluded and have & excluded:
            score -= 0.1  # about what the question sets aside
        if score > best[0] and (states is None or states(p, text)):
            best = (score, text, p.n)
    if not best[1]:
        return NOT_FOUND
    return f"{' '.join(best[1].split())} [{best[2]}]"
