# Quick start: `make chat` (install + terminal chat), `make test` (install + linters, type
# checker and tests).
.PHONY: install chat test eval clean

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
	.venv/bin/mypy
	.venv/bin/python -m pytest

# The three evaluation lines (eval/README.md) on the configured backend (default: the local
# LLM) beside the tutorial baseline; reports in bench/out/. Extra flags:
# make eval EVAL_ARGS="--backend local,extractive"
eval: $(STAMP)
	scripts/eval_lines.sh $(EVAL_ARGS)

clean:
	.venv/bin/qabot server stop || true
	rm -rf .venv
