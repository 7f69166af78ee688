# Quick start: `make chat` (install + terminal chat), `make test` (install + tests).
.PHONY: install chat test clean

STAMP := .venv/.installed

$(STAMP): pyproject.toml models.txt scripts/install.sh
	bash scripts/install.sh
	touch $(STAMP)

install: $(STAMP)

chat: $(STAMP)
	.venv/bin/qabot chat

test: $(STAMP)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python -m pytest

clean:
	.venv/bin/qabot server stop || true
	rm -rf .venv
