# PrimeCloud customer portal. `make run` serves the portal; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi
export PORT

.PHONY: run test install lint format bench bench-sql translations db-upgrade seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs the project and its test tools; re-runs when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	@echo
	@echo "  PrimeCloud portal: http://127.0.0.1:$(PORT)/   (Ctrl-C stops it and its database)"
	@echo
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: install
	@scripts/ensure-chromium
	@scripts/ensure-redis
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every page over HTTP at scale (gunicorn + wrk) against a bare Flask app; see README.
bench: install
	@scripts/ensure-wrk
	$(BIN)/python -m tests.bench.http $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.usage_import

# The list queries alone (SQL timings of page 1 vs deep keyset pages vs OFFSET).
bench-sql: install
	$(BIN)/python -m tests.bench.run
	$(BIN)/python -m tests.bench.forgot

clean:
	rm -rf $(VENV) instance/pgdata-test
