# cogattn — set-up and main jobs. Every target creates .venv (pip, Python 3.11) when missing
# and installs what it needs, so a fresh clone needs only `make demo` or `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
OUT    ?= outputs
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export MPLBACKEND ?= Agg

.PHONY: demo test bench lint format system-deps clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Installed extras are recorded in a stamp named after them; pyproject changes re-install.
$(VENV)/.stamp-%: pyproject.toml | $(PY)
	$(PIP) install -e ".[$*]"
	touch $@

# espeak-ng gives the auditory simulation real speech; without it cogattn falls back to a
# documented synthetic speech-like source (and says so), so a failed install is not fatal.
system-deps:
	@command -v espeak-ng >/dev/null 2>&1 || { \
	  echo "installing espeak-ng (optional, for speech simulation)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  ( $$SUDO apt-get install -y -qq espeak-ng >/dev/null 2>&1 || \
	    ( $$SUDO apt-get update -qq >/dev/null 2>&1 && $$SUDO apt-get install -y -qq espeak-ng >/dev/null 2>&1 ) ) || \
	  echo "espeak-ng could not be installed: the speech simulation will use its synthetic fallback"; }

demo: $(VENV)/.stamp-dev,text,dist,meg system-deps
	$(PY) -m cogattn.demo --out $(OUT)

# COGATTN_REQUIRE_ALL_DEPS=1: a reference package missing here is an error, not a skip.
test: $(VENV)/.stamp-dev,text,dist,meg system-deps
	COGATTN_REQUIRE_ALL_DEPS=1 $(PY) -m pytest -q

bench: $(VENV)/.stamp-all system-deps
	$(PY) -m benchmarks

lint: $(VENV)/.stamp-dev,text,dist,meg
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.stamp-dev,text,dist,meg
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache
