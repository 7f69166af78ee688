"""The same store code against a real Chroma server (`chroma run`), chosen by CHROMA_HOST."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import services
from conftest import free_port

from bot.config import PROJECT_ROOT, load_settings
from bot.wiring import build_engine, build_store


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with services.chroma_server(tmp_path_factory.mktemp("chroma-server")) as port:
        yield port


def test_engine_over_a_chroma_server(
    chroma_server: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(chroma_server))
    settings = load_settings(backend="extractive", data_dir=tmp_path, docs=PROJECT_ROOT / "data")
    engine = build_engine(settings)  # fills the empty server-side index from data/
    assert not (tmp_path / "chroma").exists()  # nothing was written locally
    answer = engine.answer("Who runs the Fatah Alliance?")
    assert answer.grounded and "Amiri" in answer.text

    store = build_store(settings)  # a second client sees the same index
    assert store.count() > 0
    assert [m["title"] for m in store.sources()] == ["article"]


def test_unreachable_chroma_server_is_a_clear_error(tmp_path: Path) -> None:
    from bot.errors import StoreError

    settings = load_settings(data_dir=tmp_path, chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(StoreError, match="Chroma server"):
        build_store(settings).count()
