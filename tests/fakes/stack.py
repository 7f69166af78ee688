"""A whole Slack test stack: the fake Web API, the fake Socket Mode server (or signed HTTP
requests) and `qabot slack` running as a separate process against them."""

from __future__ import annotations

import json
import re
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.slack import format as fmt
from fakes import slack_requests as sr
from fakes.bot_process import BotProcess, bot_env
from fakes.slack_api import FakeSlackApi
from fakes.socket_mode import FakeSocketMode

BOT_TOKEN = "xoxb-1234-5678-testbottokensecret"
APP_TOKEN = "xapp-1-A1-9999-testapptokensecret"
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
PROGRESS_TEXTS = {fmt.placeholder().text, fmt.draft("").text}


def is_final(message: dict[str, Any]) -> bool:
    return message.get("text") not in PROGRESS_TEXTS and not message.get("streaming")


def has_feedback(message: dict[str, Any]) -> bool:
    return any(b.get("block_id") == fmt.FEEDBACK_BLOCK for b in message.get("blocks") or [])


def answer_id(message: dict[str, Any]) -> str:
    """The answer id that the message's feedback buttons carry."""
    block = next(b for b in message["blocks"] if b.get("block_id") == fmt.FEEDBACK_BLOCK)
    value = str(block["elements"][0]["positive_button"]["value"])
    return value.removeprefix("up:")


@dataclass
class SlackStack:
    api: FakeSlackApi
    bot: BotProcess
    data_dir: Path
    sock: FakeSocketMode | None = None
    events_url: str = ""

    def replies(self, channel: str, thread_ts: str, count: int = 1, timeout: float = 30.0) -> list:
        """Wait until the thread holds `count` final messages from the bot; return them all."""
        return self.api.wait_for(
            lambda: (
                (t := self.api.thread(channel, thread_ts)) and sum(map(is_final, t)) >= count and t
            ),
            timeout,
        )

    def stays(self, check: Callable[[], Any], seconds: float = 0.5) -> None:
        """Assert that `check()` stays true for `seconds` (for things that must not happen)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert check()
            time.sleep(0.02)

    def db(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        uri = f"file:{self.data_dir / 'feedback.sqlite3'}?mode=ro"
        with sqlite3.connect(uri, uri=True) as con:
            return con.execute(sql, args).fetchall()

    # -- HTTP mode -----------------------------------------------------------------------
    def post(
        self, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        """POST a body to the bot's events URL, signed unless `headers` are given."""
        signature = sr.signed(body, SIGNING_SECRET) if headers is None else headers
        head = {"Content-Type": content_type, **signature}
        req = urllib.request.Request(self.events_url, body.encode(), head, method="POST")
        return _open(req)

    def get(self, path: str) -> tuple[int, str]:
        return _open(urllib.request.Request(self.events_url.replace("/slack/events", path)))


def http_get(url: str) -> tuple[int, str]:
    """GET a URL on this machine (no proxy): status and body."""
    return _open(urllib.request.Request(url))


def _open(req: urllib.request.Request) -> tuple[int, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@contextmanager
def running_bot(
    tmp: Path,
    http: bool = False,
    debug: bool = True,
    api: FakeSlackApi | None = None,
    log_name: str = "bot.log",
    extra_args: tuple[str, ...] = (),
    **settings: str,
) -> Iterator[SlackStack]:
    """Start the fakes and `qabot [--debug] slack [--http]`; stop everything afterwards. A
    given `api` (the same Slack across a bot's restart) is left running."""
    own_api = api is None
    api = api or FakeSlackApi(BOT_TOKEN, APP_TOKEN).start()
    sock = None if http else FakeSocketMode().start()
    if sock:
        api.socket_url = sock.url
    env = bot_env(
        QABOT_DATA_DIR=str(tmp / "data"),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=api.url,
        **({"SLACK_SIGNING_SECRET": SIGNING_SECRET} if http else {"SLACK_APP_TOKEN": APP_TOKEN}),
        **settings,
    )
    args = (["--debug"] if debug else []) + ["slack"]
    args += ["--http", "--host", "127.0.0.1", "--port", "0"] if http else []
    args += extra_args
    bot = BotProcess(args, env, tmp / log_name)
    stack = SlackStack(api, bot, tmp / "data", sock)
    try:
        if sock:  # connected: Slack's hello received, envelopes are handled from now on
            bot.wait_log("qabot is connected to Slack")
            sock.wait_connected(1)
        else:
            bot.wait_log("qabot is serving Slack at ")
            match = re.search(r"serving Slack at (http://\S+/slack/events)", bot.log())
            assert match, bot.log()
            stack.events_url = match.group(1)
        yield stack
    finally:
        bot.stop()
        if sock:
            sock.stop()
        if own_api:
            api.stop()


def blocks_text(messages: list[dict[str, Any]]) -> str:
    return json.dumps([m.get("blocks") for m in messages], ensure_ascii=False)
