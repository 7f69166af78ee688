"""Slack rendering: nothing the bot posts can ping anyone, and messages stay within limits."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from bot.engine.types import Answer, Citation, Passage
from bot.slack import format as fmt
from retrieval.store import StoredChunk

PING = re.compile(r"<[!@#]|<https?:|(?<!\u200b)@(channel|here|everyone)\b", re.IGNORECASE)
SAFE_LINK = re.compile(r"<https?://[^\s<>|\"]+\|[^<>|]*>")  # a link as format.link makes them
NASTY = st.text(alphabet=st.sampled_from(list("<>&!@|^#:/ abcdehnlruU0123")) | st.characters())
SPECIAL = ["<!channel>", "<!here>", "<@U123>", "<!subteam^S1|@t>", "<https://x.example|y>"]
NASTY = NASTY | st.sampled_from([*SPECIAL, "@channel", "@HERE", "&lt;!here&gt;"])


def passage(n: int = 1, title: str = "Article", url: str = "", published: str = "") -> Passage:
    chunk = StoredChunk(
        f"id{n}", "text", "doc", "/data/article.txt", title, 3, 0, 10, url=url, published=published
    )
    return Passage(n, chunk, 0.9)


def citation(n: int, quote: str, title: str = "Article", **article: str) -> Citation:
    return Citation(n, quote, 0, len(quote), 0.9, passage(n, title, **article))


def answer(text: str, citations: list[Citation] | None = None, grounded: bool = True) -> Answer:
    return Answer(question="q", text=text, grounded=grounded, citations=citations or [])


def rendered(messages: list[fmt.Message]) -> str:
    return json.dumps([[m.text, m.blocks] for m in messages], ensure_ascii=False)


@given(st.lists(NASTY, min_size=1, max_size=6).map("".join))
def test_no_text_can_produce_a_ping(text: str) -> None:
    messages = fmt.answer_messages(answer(text, [citation(1, text, title=text)]), "id", text)
    messages += [fmt.notice(text), fmt.draft(text)]
    assert not PING.search(rendered(messages))
    streamed = fmt.markdown(text)
    assert not PING.search(streamed) and "](" not in streamed


@given(NASTY, st.sampled_from(["https://", "http://", "javascript:", "mailto:", ""]), NASTY)
def test_a_linked_title_can_never_ping_or_break_out(title: str, scheme: str, rest: str) -> None:
    quoted = citation(1, "quote", title=title, url=scheme + "x.example/" + rest, published=rest)
    rendered_text = rendered(fmt.answer_messages(answer("x [1].", [quoted]), "id"))
    assert not PING.search(SAFE_LINK.sub("", rendered_text))
    assert len(re.findall(r"<https?:", rendered_text)) == len(SAFE_LINK.findall(rendered_text))


def test_a_web_source_shows_its_title_as_a_link_and_its_date() -> None:
    url = "https://news.example/world/story?id=1&x=2"
    quoted = citation(1, "Hadi runs it.", title="Iran & Iraq", url=url, published="2019-05-27")
    [m] = fmt.answer_messages(answer("Hadi runs it [1].", [quoted]), "a1")
    source = m.blocks[1]["elements"][0]["text"]
    assert source == (
        "*[1]* \u201cHadi runs it.\u201d \u2014 "
        "<https://news.example/world/story?id=1&amp;x=2|Iran &amp; Iraq>, 2019-05-27"
    )


def test_escaping_keeps_the_text_readable() -> None:
    assert fmt.escape("A & B <!channel> <@U1>") == "A &amp; B &lt;!channel&gt; &lt;@U1&gt;"
    assert fmt.escape("ask @here now") == "ask @\u200bhere now"
    assert fmt.escape("mail me@here.com") == "mail me@\u200bhere.com"


def test_split_respects_the_limit_and_never_cuts_an_entity() -> None:
    text = fmt.escape("word & <b> " * 1000)
    pieces = fmt.split_escaped(text, 100)
    assert all(len(p) <= 100 for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
    assert all(not re.search(r"&[a-z]*$", p) for p in pieces)
    dense = fmt.escape("&" * 50)
    assert all(re.fullmatch(r"(&amp;)+", p) for p in fmt.split_escaped(dense, 13))


def test_long_answers_are_split_within_slack_limits() -> None:
    long = answer(
        "A sentence of the answer [1]. " * 1000, [citation(n, "q " * 400) for n in range(1, 80)]
    )
    messages = fmt.answer_messages(long, "answer-1")
    assert len(messages) >= 2
    for m in messages:
        assert len(m.blocks) <= fmt.MAX_BLOCKS and len(m.text) <= 40_000
        for block in m.blocks:
            texts = [block.get("text", {})] + block.get("elements", [])
            assert all(len(t.get("text", "")) <= fmt.SECTION_LIMIT for t in texts)
    actions = [
        i for i, m in enumerate(messages) for b in m.blocks if b["type"] == "context_actions"
    ]
    assert actions == [len(messages) - 1]
    sections = [b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section"]
    assert "".join(sections).count("[1]") == 1000


def test_grounded_answer_then_compact_sources_then_feedback() -> None:
    [m] = fmt.answer_messages(answer("Hadi runs it [1].", [citation(1, "Hadi runs it.")]), "a1")
    kinds = [b["type"] for b in m.blocks]
    assert kinds == ["section", "context", "context_actions"]
    source = m.blocks[1]["elements"][0]["text"]
    assert (
        "\u201cHadi runs it.\u201d" in source
        and "paragraph 3" in source
        and "article.txt" in source
    )
    [buttons] = m.blocks[2]["elements"]
    assert buttons["type"] == "feedback_buttons" and buttons["action_id"] == fmt.FEEDBACK
    assert buttons["positive_button"]["value"] == "up:a1"
    assert buttons["negative_button"]["value"] == "down:a1"
    click = {"action_id": fmt.FEEDBACK, "value": "down:a1", "type": "feedback_buttons"}
    assert fmt.parse_feedback(click) == ("down", "a1")
    assert fmt.parse_feedback({"action_id": fmt.UP, "value": "a0"}) == ("up", "a0")  # old buttons
    assert fmt.parse_feedback({"action_id": fmt.FEEDBACK, "value": "meh:a1"}) is None


def test_a_decline_is_marked_and_has_no_sources() -> None:
    [m] = fmt.answer_messages(answer("The article does not say.", grounded=False), "a2")
    assert [b["type"] for b in m.blocks] == ["section", "context", "context_actions"]
    assert "does not say" in m.blocks[0]["text"]["text"] and "no sources" in rendered([m])
    assert "\u201c" not in rendered([m])


def test_every_mrkdwn_text_is_verbatim() -> None:
    messages = fmt.answer_messages(answer("x [1].", [citation(1, "x")]), "a", "q")
    messages += [fmt.placeholder(), fmt.placeholder(3), fmt.draft("x"), fmt.notice("x")]
    objects = re.findall(r'\{"type": "mrkdwn"[^}]*\}', json.dumps([m.blocks for m in messages]))
    assert objects and all('"verbatim": true' in o for o in objects)


def test_busy_placeholder_says_how_many_are_ahead() -> None:
    assert "3 question(s) ahead" in rendered([fmt.placeholder(3)])
    assert "Busy" not in rendered([fmt.placeholder(0)])
