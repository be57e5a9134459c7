# DevLab developer commands. `make run` and `make test` do all set-up themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8005
PYTEST_ARGS ?=
BENCH_ARGS ?=
RELIABILITY_ARGS ?=
E2E_ARGS ?=
SCHEMATHESIS_ARGS ?=
CHROMIUM ?= /usr/bin/chromium

.DEFAULT_GOAL := help
.PHONY: help run test lint fmt migrate superuser messages bench bench-quick bench-checkpoints reliability reliability-ci e2e schemathesis screenshots ci-tools ci clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "DevLab needs Python 3.11 or newer (set PYTHON=python3.11)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing dependencies into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

$(BIN)/.ci-installed: $(BIN)/.installed requirements-ci.txt
	@$(BIN)/python -m pip install --quiet -r requirements-ci.txt
	@touch $@

run: export DEBUG ?= True
run: $(BIN)/.installed ## Install, migrate and serve on http://127.0.0.1:8005 (SQLite unless DATABASE_URL is set)
	@$(BIN)/python manage.py migrate --noinput
	@$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "  DevLab on http://127.0.0.1:$(PORT)/  (DEBUG=$(DEBUG))"
	@echo "  API docs:     http://127.0.0.1:$(PORT)/docs"
	@echo "  Admin panel:  http://127.0.0.1:$(PORT)/admin/"
	@echo "  First admin:  make superuser   (or: .venv/bin/python manage.py promote_user USERNAME)"
	@echo ""
	@$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: $(BIN)/.installed ## Run the whole suite (PostgreSQL when DATABASE_URL is set, else SQLite)
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/.installed ## ruff lint + format check, and missing migrations
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@DEBUG=True $(BIN)/python manage.py makemigrations --check --dry-run

fmt: $(BIN)/.installed ## Format and autofix with ruff
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

migrate: $(BIN)/.installed ## Apply migrations
	@DEBUG=$${DEBUG:-True} $(BIN)/python manage.py migrate

superuser: $(BIN)/.installed ## Create the first admin (Django's createsuperuser)
	@DEBUG=$${DEBUG:-True} $(BIN)/python manage.py createsuperuser

messages: $(BIN)/.installed ## Regenerate and compile the pt-BR catalogue (needs gettext)
	@DEBUG=True $(BIN)/python manage.py makemessages --locale pt_BR --ignore '.venv/*' --ignore 'tests/*'
	@DEBUG=True $(BIN)/python manage.py compilemessages --locale pt_BR --ignore '.venv/*'

bench: $(BIN)/.installed ## Benchmarks on gunicorn + PostgreSQL, about 7 min (bench/README.md; BENCH_ARGS=--quick)
	@$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-checkpoints: $(BIN)/.installed ## Signed checkpoints at 1M audit entries (bench/checkpoints.py; BENCH_ARGS=--rows N)
	@$(BIN)/python -m bench.checkpoints $(BENCH_ARGS)

bench-quick: ## A 2-minute benchmark smoke run
	@$(MAKE) --no-print-directory bench BENCH_ARGS="--quick $(BENCH_ARGS)"

reliability: $(BIN)/.ci-installed ## Fault and two-replica scenarios on a throwaway PostgreSQL + nginx, about 5 min (docs/operations.md)
	@$(BIN)/python -m reliability.run $(RELIABILITY_ARGS)

reliability-ci: ## The fast subset CI runs: database down/up, SIGTERM drain, cluster lockout, IP and chain
	@$(MAKE) --no-print-directory reliability RELIABILITY_ARGS="--fast $(RELIABILITY_ARGS)"

# Debian's Chromium drives the browser tests; `playwright install` is never used.
$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser tests ..."
	@if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y chromium

e2e: $(BIN)/.ci-installed | $(CHROMIUM) ## Browser tests in Chromium against gunicorn + PostgreSQL (tests/e2e; E2E_ARGS=-x)
	@$(BIN)/python -m pytest tests/e2e -p no:cacheprovider $(E2E_ARGS)

schemathesis: $(BIN)/.ci-installed ## Schemathesis, every check, against the live schema as a user and as an admin (about 2 min)
	@$(BIN)/python -m scripts.schemathesis_run $(SCHEMATHESIS_ARGS)

screenshots: $(BIN)/.ci-installed | $(CHROMIUM) ## Write the README's pictures to docs/screenshots/ (demo data, live server)
	@$(BIN)/python -m scripts.screenshots

ci-tools: $(BIN)/.ci-installed ## Install the extra tools CI uses (hadolint, check-jsonschema)

ci: ## Run the CI script locally
	@bash .ci/run

clean: ## Remove the virtualenv, SQLite database and collected static files
	rm -rf $(VENV) db.sqlite3* staticfiles .pytest_cache .ruff_cache test-results
