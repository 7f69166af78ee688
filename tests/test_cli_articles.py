"""`qabot articles`: what is indexed, in three formats, and removing one by id, URL or path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import ARTICLE
from fakes.news_site import NEWS
from test_cli import assert_clean_error, qabot


def test_articles_lists_and_removes(tmp_path: Path) -> None:
    docs, data = tmp_path / "docs", tmp_path / "data"
    docs.mkdir()
    shutil.copy(NEWS / "story.html", docs / "saved-story.html")
    shutil.copy(ARTICLE, docs / "article.txt")
    assert qabot(data, "ingest", str(docs)).returncode == 0

    listed = qabot(data, "articles")
    assert listed.returncode == 0, listed.stderr
    first, _, second, _, total = listed.stdout.splitlines()
    assert "2019-05-27" in first and "Iran wants joint military exercises with Iraq" in first
    assert "chunks" in first and "2 article(s)." == total
    assert "----------" in second and second.endswith("article")  # undated, titled "article"

    rows = json.loads(qabot(data, "articles", "--format", "json").stdout)
    saved, plain = rows
    assert saved["url"] == (
        "https://regional-ledger.example/world/2019/05/27/iran-iraq-joint-exercises"
    )
    assert saved["published"] == "2019-05-27" and saved["chunks"] > 5
    assert plain["source"] == str((docs / "article.txt").resolve()) and plain["url"] is None
    table = qabot(data, "articles", env={"QABOT_FORMAT": "markdown"}).stdout
    assert table.startswith("| id | title | date | chunks | source |") and saved["id"][:8] in table

    removed = qabot(data, "articles", "remove", saved["url"])
    assert removed.returncode == 0 and "Removed 'Iran wants joint" in removed.stdout
    assert "No indexed article" in assert_clean_error(
        qabot(data, "articles", "remove", saved["id"][:6]), (2,)
    )
    assert qabot(data, "articles", "remove", str(docs / "article.txt")).returncode == 0
    assert "No articles indexed" in qabot(data, "articles").stdout
