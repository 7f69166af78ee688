"""Query embedding: qabot's MiniLMEmbeddings (dynamic padding) against chromadb's default
ONNX function (pads every input to 256 tokens), same model files, interleaved in one run.

    .venv/bin/python bench/embedding.py [--reps 5]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import common
import numpy as np

from bot.backends.local.model_files import minilm_files
from retrieval.chunking import chunk_text
from retrieval.embeddings import MiniLMEmbeddings


def chroma_default(folder: Path):
    """chromadb's DefaultEmbeddingFunction, pointed at our verified files (no download)."""
    from chromadb.utils.embedding_functions import ONNXMiniLM_L6_V2

    onnx = folder / ONNXMiniLM_L6_V2.EXTRACTED_FOLDER_NAME
    onnx.mkdir(parents=True)
    for name, path in minilm_files().items():
        (onnx / name).symlink_to(path)
    fn = ONNXMiniLM_L6_V2()
    fn.DOWNLOAD_PATH = folder  # an instance attribute: the class default stays untouched
    return fn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    questions = common.questions()
    passages = [c.text for c in chunk_text((common.ROOT / "data" / "article.txt").read_text())]
    ours = MiniLMEmbeddings(minilm_files)
    with tempfile.TemporaryDirectory() as tmp:
        theirs = chroma_default(Path(tmp))
        ours.embed_query("warm up")
        theirs(["warm up"])
        a = np.array(ours.embed_documents(questions + passages))
        b = np.array(theirs(questions + passages))
        cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        t_ours, t_theirs = [], []
        for _ in range(args.reps):
            for q in questions:  # interleaved, so both see the same machine load
                t_ours.append(common.timed(lambda q=q: ours.embed_query(q)))
                t_theirs.append(common.timed(lambda q=q: theirs([q])))
        bulk_ours = common.timed(lambda: ours.embed_documents(passages))
        bulk_theirs = common.timed(lambda: theirs(passages))
    p_ours, p_theirs = common.p50(t_ours), common.p50(t_theirs)
    print(f"{len(questions)} questions x {args.reps}, {len(passages)} article chunks\n")
    common.table(
        [
            ("cosine, min over questions + chunks", f"{cos.min():.5f}", "1", "target >= 0.999"),
            (
                "question p50",
                common.ms(p_ours),
                common.ms(p_theirs),
                f"{p_ours / p_theirs:.2f}x (target <= 15 ms)",
            ),
            (
                "question p95",
                common.ms(common.percentile(t_ours, 0.95)),
                common.ms(common.percentile(t_theirs, 0.95)),
                f"{common.percentile(t_ours, 0.95) / common.percentile(t_theirs, 0.95):.2f}x",
            ),
            (
                f"{len(passages)} chunks, one call",
                common.ms(bulk_ours),
                common.ms(bulk_theirs),
                f"{bulk_ours / bulk_theirs:.2f}x",
            ),
        ],
        ("query embedding", "qabot MiniLMEmbeddings", "chromadb default", "ratio"),
    )


if __name__ == "__main__":
    main()
