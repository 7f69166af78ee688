"""`qabot feedback export`: 👎 answers as evaluation lines (eval/README.md) to become test cases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.slack.feedback import FeedbackStore, Vote


def eval_line(vote: Vote) -> dict[str, Any]:
    """One line of `article_qa.jsonl` (or `article_conversations.jsonl` for a follow-up).

    What the right answer is, only a person can say: `expect` and `support` are left empty
    to fill in, `answerable` is a first guess, and `feedback` keeps what the bot said."""
    guess = {"answerable": True, "expect": [], "support": []}
    feedback = {
        "answer_id": vote.answer_id,
        "user": vote.user_id,
        "clicked_at": vote.clicked_at,
        "bot_answer": vote.answer,
        "bot_grounded": vote.grounded,
        "bot_citations": [{"n": c["n"], "quote": c["quote"]} for c in vote.citations],
    }
    line_id = f"fb-{vote.answer_id[:8]}-{vote.user_id}"
    if not vote.history:
        return {"id": line_id, "question": vote.question, **guess, "feedback": feedback}
    turns = [{"question": t["question"], "expect": []} for t in vote.history]
    turns.append({"question": vote.question, "expect": []})
    return {"id": line_id, "turns": turns, "feedback": feedback}


def thumbs_down(store: FeedbackStore) -> Iterator[dict[str, Any]]:
    for vote in store.votes("down"):
        yield eval_line(vote)
