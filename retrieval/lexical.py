"""BM25 lexical search over chunks, with an inverted index so a query touches only its terms."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence

_TOKEN = re.compile(r"[^\W_]+(?:[.'][^\W_]+)*", re.UNICODE)
_FOLD = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
)

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them themselves then
    there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours also did does according said says
    s t don article mentioned mention tell""".split()
)


def fold(text: str) -> str:
    """Lower-case, curly quotes and dashes straightened, accents kept."""
    return unicodedata.normalize("NFKC", text).translate(_FOLD).lower()


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def tokenize(text: str) -> list[str]:
    """Content-word tokens: folded, possessives dropped, stopwords removed, lightly stemmed."""
    out = []
    for tok in _TOKEN.findall(fold(text)):
        if tok.endswith("'s"):
            tok = tok[:-2]
        if tok and tok not in STOPWORDS:
            out.append(_stem(tok))
    return out


class BM25:
    """Okapi BM25 (k1=1.2, b=0.75) over a fixed list of texts."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.n = len(texts)
        self.lengths = [0] * self.n
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, text in enumerate(texts):
            counts = Counter(tokenize(text))
            self.lengths[i] = sum(counts.values())
            for term, tf in counts.items():
                self.postings[term].append((i, tf))
        self.avgdl = (sum(self.lengths) / self.n) if self.n else 1.0

    def idf(self, term: str) -> float:
        df = len(self.postings.get(term, ()))
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Top-k (index, score) pairs, best first; only texts sharing a term score."""
        scores: dict[int, float] = defaultdict(float)
        for term in set(tokenize(query)):
            idf = self.idf(term)
            for i, tf in self.postings.get(term, ()):
                norm = 1 - self.b + self.b * self.lengths[i] / self.avgdl
                scores[i] += idf * tf * (self.k1 + 1) / (tf + self.k1 * norm)
        return sorted(scores.items(), key=lambda kv: -kv[1])[:k]
