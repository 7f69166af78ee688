"""Question sets: the JSONL formats of eval/README.md, read into `Item`s."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import QabotError


class EvalDataError(QabotError):
    """An evaluation file is missing or malformed."""

    exit_code = 2


@dataclass(frozen=True)
class Item:
    """One question to ask: a line of the QA file, or one turn of a conversation."""

    id: str
    question: str
    answerable: bool
    expect: tuple[tuple[str, ...], ...]
    support: tuple[str, ...] = ()
    conversation: str = ""  # the thread's id for a conversation turn


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalDataError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalDataError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise EvalDataError(f"{path}:{number}: each line must be a JSON object")
        rows.append((number, row))
    return rows


def _item(row: dict[str, Any], where: str, id_: str, conversation: str = "") -> Item:
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise EvalDataError(f"{where}: 'question' must be a non-empty string")
    expect = row.get("expect", [])
    if not isinstance(expect, list) or not all(
        isinstance(g, list) and g and all(isinstance(a, str) and a for a in g) for g in expect
    ):
        raise EvalDataError(f"{where}: 'expect' must be a list of non-empty lists of strings")
    support = row.get("support", [])
    if not isinstance(support, list) or not all(isinstance(s, str) and s for s in support):
        raise EvalDataError(f"{where}: 'support' must be a list of non-empty strings")
    answerable = row.get("answerable", bool(expect))
    if not isinstance(answerable, bool) or (answerable and not expect):
        raise EvalDataError(f"{where}: an answerable question needs 'expect' groups")
    return Item(
        id=id_,
        question=question,
        answerable=answerable,
        expect=tuple(tuple(g) for g in expect),
        support=tuple(support),
        conversation=conversation,
    )


def load_questions(path: Path) -> list[Item]:
    """The QA file: one question per line (eval/README.md)."""
    items = [
        _item(row, f"{path}:{n}", str(row.get("id") or f"q{n}")) for n, row in _read_jsonl(path)
    ]
    if not items:
        raise EvalDataError(f"{path} has no questions")
    return items


def load_conversations(path: Path) -> list[list[Item]]:
    """The conversations file: one thread per line, `turns` asked in order."""
    threads = []
    for n, row in _read_jsonl(path):
        cid, turns = str(row.get("id") or f"c{n}"), row.get("turns")
        if not isinstance(turns, list) or not turns:
            raise EvalDataError(f"{path}:{n}: 'turns' must be a non-empty list")
        if not all(isinstance(t, dict) for t in turns):
            raise EvalDataError(f"{path}:{n}: each turn must be a JSON object")
        where = f"{path}:{n} turn"
        threads.append(
            [_item(t, f"{where} {i}", f"{cid}.{i}", cid) for i, t in enumerate(turns, 1)]
        )
    return threads
