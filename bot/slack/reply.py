"""Answering one question in Slack: progress at once, then the answer (or a short apology)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.engine.types import Answer, AnswerEngine, Turn
from bot.errors import InputError, LLMError, QabotError
from bot.slack import format as fmt
from bot.slack.feedback import FeedbackStore
from bot.slack.history import ThreadHistory, answer_metadata
from bot.slack.memory import ThreadKey
from bot.slack.metrics import Metrics
from bot.slack.stream import stream_answer
from bot.slack.worker import AnswerPool

log = logging.getLogger(__name__)

APOLOGY_LLM = (
    ":warning: Sorry, I can't answer right now: the language model is not responding. "
    "Please try again in a minute."
)
APOLOGY = ":warning: Sorry, something went wrong while answering. Please try again."
OVERLOADED = ":warning: Sorry, too many questions are waiting. Please ask again in a few minutes."
TOO_FAST = ":hand: You're asking faster than I can answer. Please wait a minute and ask again."
RESTARTING = ":arrows_counterclockwise: I'm restarting and could not answer this. Please ask again."
BUSY_AFTER = 2  # show "busy" in the placeholder when this many answers are queued ahead
MAX_QUEUE = 50  # beyond this, new questions are turned away politely


@dataclass(frozen=True)
class Target:
    """Where a question came from and where its answer goes."""

    channel: str
    user: str | None = None
    thread_ts: str | None = None  # the reply goes into this thread
    ts: str | None = None  # the post asking (a thread's turns before it are its context)
    assistant: bool = False  # a DM thread: try the assistant status instead of a placeholder
    respond: Callable[..., Any] | None = None  # a slash command's response_url
    share: bool = False  # /ask --share: the answer is posted for the whole channel

    @property
    def key(self) -> ThreadKey | None:
        return (self.channel, self.thread_ts) if self.thread_ts else None


class Drafts:
    """Shows the streaming draft in the placeholder, at most once per `interval` seconds."""

    def __init__(
        self, publish: Callable[[str], object], interval: float, clock: Callable[[], float]
    ) -> None:
        self.publish, self.interval, self.clock = publish, interval, clock
        self.parts: list[str] = []
        self.last = clock()  # the placeholder itself was just posted

    def add(self, piece: str) -> None:
        self.parts.append(piece)
        if self.clock() - self.last >= self.interval:
            self.last = self.clock()
            self.publish("".join(self.parts))

    def wait_turn(self) -> None:
        """Before the final update: keep to the pace (the placeholder counts as an update)."""
        time.sleep(max(0.0, self.interval - (self.clock() - self.last)))


class Responder:
    """Shows progress, runs the engine in the pool, posts the answer with sources and 👍/👎."""

    def __init__(
        self,
        engine: AnswerEngine,
        client: Any,
        pool: AnswerPool,
        history: ThreadHistory,
        feedback: FeedbackStore,
        update_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
        rate: Any = None,  # UserRate or RedisUserRate; None: no limit
    ) -> None:
        self.engine, self.client, self.pool = engine, client, pool
        self.history, self.feedback = history, feedback
        self.update_interval, self.clock = update_interval, clock
        self.metrics = metrics or Metrics()
        self.metrics.track_pool(pool.ahead, lambda: pool.pending)
        self.closing = False
        self.rate = rate

    def ask(self, question: str, target: Target) -> None:
        """Called by a listener after the ack; returns as soon as the job is queued."""
        if self.closing:
            self._turn_away(target, RESTARTING, "restarting")
            return
        if self.rate is not None and not self.rate.allow(target.user):
            log.info("rate-limited a question from %s", target.user)
            self._turn_away(target, TOO_FAST, "rate_limited")
            return
        ahead = self.pool.ahead()
        if ahead >= MAX_QUEUE:
            log.warning("turned a question away: %d answers queued", ahead)
            self._turn_away(target, OVERLOADED, "turned_away")
            return
        placeholder_ts = self._show_progress(target, ahead if ahead >= BUSY_AFTER else 0)
        self.pool.submit(
            self._answer, question, target, placeholder_ts,
            waited=self.metrics.wait_seconds.observe,
        )  # fmt: skip

    def drain(self, timeout: float) -> int:
        """On shutdown: take no new questions, give the answers being written up to `timeout`
        seconds, and tell every question left (queued, or still unanswered) to ask again, in
        place of its placeholder. Returns how many were told."""
        self.closing = True
        cancelled, unfinished = self.pool.drain(timeout)
        for _question, target, placeholder_ts in [*cancelled, *unfinished]:
            self._deliver(target, placeholder_ts, [fmt.notice(RESTARTING)])
            self.metrics.outcome("restarting")
        if cancelled or unfinished:
            log.warning(
                "shutting down: %d queued and %d unfinished question(s) told to ask again",
                len(cancelled), len(unfinished),
            )  # fmt: skip
        return len(cancelled) + len(unfinished)

    def _turn_away(self, target: Target, text: str, outcome: str) -> None:
        self.metrics.outcome(outcome)
        self._deliver(target, None, [fmt.notice(text)])

    # -- steps ---------------------------------------------------------------------------
    def _show_progress(self, target: Target, ahead: int) -> str | None:
        if target.respond:
            return None  # the slash command's ack already says so
        if target.assistant and target.thread_ts:
            try:
                status = f"is busy ({ahead} ahead)..." if ahead else "is reading the articles..."
                self.client.assistant_threads_setStatus(
                    channel_id=target.channel,
                    thread_ts=target.thread_ts,
                    status=status,
                    loading_messages=fmt.LOADING_MESSAGES,
                )
                return None
            except SlackApiError as exc:
                log.info("no assistant status (%s); posting a placeholder", _error(exc))
        try:
            return str(self._post(target, fmt.placeholder(ahead))["ts"])
        except SlackApiError as exc:
            log.warning("could not post a placeholder in %s: %s", target.channel, _error(exc))
            return None

    def _answer(self, question: str, target: Target, placeholder_ts: str | None) -> None:
        history = self.history.turns(target.key, target.ts) if target.key else []
        drafts = None
        if placeholder_ts:
            drafts = Drafts(
                lambda text: self._update(target, placeholder_ts, fmt.draft(text), quiet=True),
                self.update_interval,
                self.clock,
            )
        t0 = time.perf_counter()
        try:
            answer = self.engine.answer(question, history, on_token=drafts.add if drafts else None)
        except LLMError as exc:
            log.warning("language model failure answering in %s: %s", target.channel, exc)
            self.metrics.outcome("llm_error")
            self._finish(target, placeholder_ts, drafts, [fmt.notice(APOLOGY_LLM)])
            return
        except InputError as exc:  # e.g. only control characters: the message says what to do
            self.metrics.outcome("input_error")
            self._finish(target, placeholder_ts, drafts, [fmt.notice(str(exc))])
            return
        except QabotError as exc:
            log.warning("could not answer in %s: %s", target.channel, exc)
            self.metrics.outcome("error")
            self._finish(target, placeholder_ts, drafts, [fmt.notice(APOLOGY)])
            return
        except Exception:
            log.exception("unexpected failure answering in %s", target.channel)
            self.metrics.outcome("error")
            self._finish(target, placeholder_ts, drafts, [fmt.notice(APOLOGY)])
            return
        self.metrics.answer_seconds.observe(time.perf_counter() - t0)
        self.metrics.outcome("grounded" if answer.grounded else "declined")
        answer_id = self._record(answer, target, history)
        # In an assistant thread (a status, no placeholder) the verified answer is streamed;
        # where Slack has no streaming methods it is posted as everywhere else.
        # a thread remembers each question as it stands alone ("Whose base is at Erbil
        # airport?", not "Whose base is at that airport?"), so the next follow-up can be read
        asked = answer.standalone_question or answer.question
        if not (
            target.assistant
            and target.thread_ts
            and not placeholder_ts
            and stream_answer(self.client, target.channel, target.thread_ts, answer, answer_id)
        ):
            echo = question if target.respond else None
            messages = fmt.answer_messages(answer, answer_id, echo)
            metadata = answer_metadata(asked, answer.text)
            self._finish(target, placeholder_ts, drafts, messages, metadata)
        if target.key:
            self.history.add(target.key, Turn(asked, answer.text, answer.doc_ids))
        log.info(
            "answered in %s (%s, %.1f s)",
            target.channel,
            "grounded" if answer.grounded else "declined",
            time.perf_counter() - t0,
        )

    def _record(self, answer: Answer, target: Target, history: list[Turn]) -> str | None:
        try:
            return self.feedback.record_answer(
                answer, target.channel, target.thread_ts, target.user, history
            )
        except Exception:
            log.exception("could not store the answer for feedback; posting it without buttons")
            return None

    def _finish(
        self,
        target: Target,
        placeholder_ts: str | None,
        drafts: Drafts | None,
        messages: list[fmt.Message],
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if drafts and drafts.parts:
            drafts.wait_turn()
        self._deliver(target, placeholder_ts, messages, metadata)

    def _deliver(
        self,
        target: Target,
        placeholder_ts: str | None,
        messages: list[fmt.Message],
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Post the messages (the first replaces the placeholder); `metadata` rides on the
        first, so the thread can be read back from Slack (bot.slack.history)."""
        try:
            if target.respond:
                kind = "in_channel" if target.share else "ephemeral"
                for m in messages:
                    target.respond(
                        text=m.text, blocks=m.blocks, response_type=kind, replace_original=False
                    )
                return
            first, rest = messages[0], messages[1:]
            if not (placeholder_ts and self._update(target, placeholder_ts, first, metadata)):
                self._post(target, first, metadata)
            for m in rest:
                self._post(target, m)
        except SlackApiError as exc:
            log.error("could not post the answer in %s: %s", target.channel, _error(exc))

    # -- Web API -------------------------------------------------------------------------
    def _post(
        self, target: Target, message: fmt.Message, metadata: dict[str, Any] | None = None
    ) -> Any:
        return self.client.chat_postMessage(
            channel=target.channel,
            thread_ts=target.thread_ts,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            unfurl_media=False,
            **({"metadata": metadata} if metadata else {}),
        )

    def _update(
        self,
        target: Target,
        ts: str,
        message: fmt.Message,
        metadata: dict[str, Any] | None = None,
        quiet: bool = False,
    ) -> bool:
        try:
            self.client.chat_update(
                channel=target.channel, ts=ts, text=message.text, blocks=message.blocks,
                **({"metadata": metadata} if metadata else {}),
            )  # fmt: skip
            return True
        except SlackApiError as exc:
            level = logging.DEBUG if quiet else logging.WARNING
            log.log(level, "could not update %s in %s: %s", ts, target.channel, _error(exc))
            return False


def _error(exc: SlackApiError) -> str:
    """The Slack error code only (never the request, which may carry a token)."""
    try:
        return str(exc.response.get("error") or exc.response.status_code)
    except Exception:
        return type(exc).__name__
