# Two commands on a fresh machine: `make demo` and `make test`. Both set up what they need, idempotently.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages of the real servers the tests and the demo start (own instances, never the system's services).
DEB_PKGS := mosquitto mosquitto-clients influxdb victoria-metrics chromium
DEB_BINS := /usr/sbin/mosquitto /usr/bin/influxd /usr/bin/victoria-metrics /usr/bin/chromium

.PHONY: setup system venv test demo bench lock clean fuzz

setup: system venv

system:
	@missing=0; for b in $(DEB_BINS); do [ -x $$b ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  echo "installing Debian packages: $(DEB_PKGS)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(DEB_PKGS) >/dev/null; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check -r $(LOCK) 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

venv: $(STAMP)

# Regenerate the pinned lock from pyproject.toml (markers kept for every platform).
lock: | $(BIN)/python
	$(BIN)/pip install -q uv
	$(BIN)/uv pip compile --universal --python-version 3.11 --extra dev pyproject.toml -o $(LOCK)

test: setup
	$(BIN)/python -m pytest -q

demo: setup
	$(BIN)/yukimizu demo

bench: setup
	$(BIN)/python -m benchmarks

# Long fuzzing (minutes): contract decoder (mutated device messages), coverage CSV reader (when present),
# and schemathesis over the whole API with its coverage phase. Every crash found becomes a regression test.
fuzz: setup
	YUKIMIZU_FUZZ_PROFILE=fuzz $(BIN)/python -m pytest -q --timeout=3600 -p no:cacheprovider tests/backend/fuzz

clean:
	rm -rf var/ .pytest_cache build *.egg-info
