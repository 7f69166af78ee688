"""The reference row of every evaluation: the plain LangChain RAG tutorial pipeline."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from bot.engine.citations import cited_numbers, is_refusal
from bot.engine.llm import ChatFactory
from bot.engine.types import Turn
from bot.evaluation.grading import Excerpt, Outcome
from retrieval.loader import Document

CHUNK_SIZE, CHUNK_OVERLAP, TOP_K = 600, 100, 4
PROMPT = (
    "Use the following context to answer the question. If you don't know the answer, "
    "say that you don't know. Cite passages as [n].\n\n"
    "Context:\n{context}\n\n"
    "Question: {question}\n"
    "Answer:"
)
DESCRIPTION = (
    f"LangChain tutorial pipeline: RecursiveCharacterTextSplitter {CHUNK_SIZE}/{CHUNK_OVERLAP}, "
    f"MiniLM embeddings in Chroma, top-{TOP_K} similarity search, a 'use the context, say you "
    "don't know otherwise, cite [n]' prompt, the same chat model; no follow-up rewriting"
)


class TutorialBaseline:
    """Split, embed into Chroma, retrieve the top 4 chunks, ask the model with a plain prompt.

    Its answer counts as declined when it says it does not know (`is_refusal`); each [n]
    marker cites the whole n-th chunk, located in its article by the splitter's start index.
    Follow-ups are asked as they are: the tutorial keeps no conversation.
    """

    def __init__(
        self,
        documents: Sequence[Document],
        embeddings: Embeddings,
        chat: ChatFactory,
        workdir: Path,
    ) -> None:
        from langchain_chroma import Chroma
        from langchain_core.documents import Document as LCDocument
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from retrieval.store import make_client

        splitter = RecursiveCharacterTextSplitter(
            chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
        )
        pages = [
            LCDocument(page_content=d.text, metadata={"doc_id": d.doc_id, "source": d.source})
            for d in documents
        ]
        self.texts = {d.doc_id: d.text for d in documents}
        self.store = Chroma.from_documents(
            splitter.split_documents(pages),
            embeddings,
            collection_name="baseline",
            client=make_client(workdir),
        )
        self.prompt = ChatPromptTemplate.from_template(PROMPT)
        self.chat = chat
        self._parser = StrOutputParser()

    def warm_up(self) -> None:
        """Load the embedding model and start the LLM server before anything is timed."""
        self.store.similarity_search("warm up", k=1)
        self.chat()

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Outcome:
        t0 = time.perf_counter()
        chunks = self.store.similarity_search(question, k=TOP_K)
        timings = {"retrieve": time.perf_counter() - t0}
        spans = [self._span(c) for c in chunks]
        context = "\n\n".join(f"[{i}] {c.page_content}" for i, c in enumerate(chunks, 1))
        values = {"context": context, "question": question}
        t = time.perf_counter()
        chain = self.prompt | self.chat() | self._parser
        text = chain.invoke(values)
        timings["generate"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t0
        cited = [n for n in cited_numbers(text) if 1 <= n <= len(spans)]
        citations = [spans[n - 1] for n in dict.fromkeys(cited)]
        return Outcome(
            text=text.strip(),
            grounded=bool(text.strip()) and not is_refusal(text),
            citations=citations,
            passages=spans,
            verbatim=[c.text == self.texts.get(c.doc_id, "")[c.start : c.end] for c in citations],
            standalone=question,
            timings=timings,
            llm_chars=len(self.prompt.format(**values)) + len(text),
        )

    @staticmethod
    def _span(chunk: Any) -> Excerpt:
        start = int(chunk.metadata.get("start_index", -1))
        end = start + len(chunk.page_content) if start >= 0 else -1
        return Excerpt(chunk.page_content, str(chunk.metadata.get("doc_id", "")), start, end)
