"""`qabot ingest` into a Chroma server while `qabot slack` answers from it: no error, and the new
article is answerable within seconds, without restarting the bot."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from conftest import QABOT
from fakes import slack_requests as sr
from fakes.bot_process import bot_env
from fakes.stack import running_bot
from services import chroma_server

LANTERNS = (
    "The Harbour Lantern Festival\n\n"
    "The Harbour Lantern Festival was organised by Mirela Kovacs, the port's harbour master.\n"
)


def test_an_article_ingested_into_a_chroma_server_is_answered_at_once(tmp_path: Path) -> None:
    with chroma_server(tmp_path) as port:
        where = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(port)}
        with running_bot(tmp_path, **where) as stack:
            assert stack.sock
            stack.sock.event(sr.event_callback(sr.mention("C1", "1.000001", "Who runs the "
                                                          "Fatah Alliance?")))  # fmt: skip
            assert "Amiri" in stack.replies("C1", "1.000001")[0]["text"]
            article = tmp_path / "lanterns.txt"
            article.write_text(LANTERNS)
            env = bot_env(QABOT_DATA_DIR=str(tmp_path / "ingest-data"), **where)
            out = subprocess.run(
                [str(QABOT), "ingest", str(article)], env=env, capture_output=True, text=True,
                timeout=120,
            )  # fmt: skip
            assert out.returncode == 0 and "1 added" in out.stdout, out.stderr
            ingested = time.monotonic()
            question = "Who organised the Harbour Lantern Festival?"
            stack.sock.event(sr.event_callback(sr.mention("C2", "2.000001", question)))
            [reply] = stack.replies("C2", "2.000001")
            assert "Mirela Kovacs" in reply["text"]
            assert time.monotonic() - ingested < 10
            assert "Traceback" not in stack.bot.log()
