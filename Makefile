# GreenESG: `make run` starts the app with its embedded defaults, `make test` runs every test and linter.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint format migrate demo worker clean compose-check soak

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 (or run make PYTHON=python3)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(BIN)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py demo

# The web server and one Celery worker (embedded filesystem broker unless CELERY_BROKER_URL is set), in demo mode.
# Another port or address: make run PORT=8080 (HOST=0.0.0.0 to listen beyond this machine).
run: demo
	@bash tools/run.sh "$(BIN)" "$(HOST)" "$(PORT)"

worker: install
	$(BIN)/celery -A greenesg worker -Q ingest,reports,celery -B --loglevel INFO

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@bash tools/check_safe.sh
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest

# The compose.yaml stack for real: build, up, /readyz, an API import with a token, a report, down
# (tools/compose_check.sh lists its variables; DEVELOPERS.md shows the offline invocation).
compose-check:
	@bash tools/compose_check.sh

# bench/soak.py: ten minutes of mixed load with a worker kill and Redis/PostgreSQL restarts on a fresh compose
# stack (docs/operations.md §3.4); locust lives in its own virtualenv, var/soak-venv.
soak:
	@test -x var/soak-venv/bin/python || { $(PYTHON) -m venv var/soak-venv && \
	  var/soak-venv/bin/pip install --quiet -r bench/requirements.txt; }
	var/soak-venv/bin/python bench/soak.py

clean:
	rm -rf $(VENV) var
