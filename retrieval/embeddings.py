"""Embedding models behind langchain-core's `Embeddings`: local MiniLM (ONNX) or OpenAI."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

MINILM_NAME = "minilm:all-MiniLM-L6-v2"
MAX_TOKENS = 256  # what the model was trained with, and what chromadb's function truncates to


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 on onnxruntime with dynamic padding.

    Same files and same vectors as chromadb's DefaultEmbeddingFunction, but each batch is
    padded only to its longest member instead of 256 tokens, and texts are batched by length.
    The model loads on first use, never at construction: `files` is called then and returns
    the paths of `model.onnx` and `tokenizer.json` (verified by whoever provides them).
    """

    name = MINILM_NAME

    def __init__(
        self,
        files: Callable[[], dict[str, Path]],
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        self._files = files
        self._batch_size = batch_size
        self._threads = threads
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
            import onnxruntime as ort
            from tokenizers import Tokenizer

            files = self._files()
            tokenizer = Tokenizer.from_file(str(files["tokenizer.json"]))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.no_padding()
            options = ort.SessionOptions()
            options.intra_op_num_threads = self._threads or min(2, os.cpu_count() or 1)
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            # No busy-waiting between runs: on a small shared machine spinning threads steal
            # the CPU from the LLM server and from the next query (9 ms vs 15 ms p50 there).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = ort.InferenceSession(
                str(files["model.onnx"]), options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = tokenizer

    def _embed(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        self._load()
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out: list[Any] = [None] * len(texts)
        for b in range(0, len(order), self._batch_size):
            idx = order[b : b + self._batch_size]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            hidden = self._session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            for row, i in enumerate(idx):
                out[i] = pooled[row].astype(float).tolist()
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed(list(texts)) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text])[0]


def openai_embeddings(model: str, api_key: str, base_url: str | None) -> Embeddings:
    """OpenAI (or any compatible server) embeddings.

    Token-length checking is off: it needs tiktoken's encoding files, a download.
    """
    from langchain_openai import OpenAIEmbeddings
    from pydantic import SecretStr

    return OpenAIEmbeddings(
        model=model, api_key=SecretStr(api_key), base_url=base_url, check_embedding_ctx_length=False
    )
