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
.PHONY: help run test lint fmt migrate superuser messages bench bench-quick bench-checkpoints reliability reliability-ci e2e schemathesis screenshots ci-tools ci lock audit-deps clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# Installs come from the hash-locked files (requirements*.lock, written by
# `make lock` from the requirements*.txt pins): every machine and the image get
# the same versions of every package, transitive ones included, byte for byte.
PIP_LOCKED := -m pip install --quiet --require-hashes
# pip-compile: hashes for every file of each pinned release, no machine-local index or
# find-links in the output; pip and setuptools are pinned too (--allow-unsafe).
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --annotation-style line

$(BIN)/.installed: requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "DevLab needs Python 3.11 or newer (set PYTHON=python3.11)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing dependencies into $(VENV) ..."
	@$(BIN)/python $(PIP_LOCKED) -r requirements-dev.lock
	@touch $@

$(BIN)/.ci-installed: $(BIN)/.installed requirements-ci.lock
	@$(BIN)/python $(PIP_LOCKED) -r requirements-ci.lock
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

# One pytest-xdist worker per CPU; a test file stays in one worker (its module
# fixtures, such as a live server, start once).
test: $(BIN)/.installed ## Run the whole suite (PostgreSQL when DATABASE_URL is set, else SQLite)
	@$(BIN)/python -m pytest -n auto --dist loadfile $(PYTEST_ARGS)

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

bench: $(BIN)/.installed ## Benchmarks on gunicorn + PostgreSQL + Redis, side by side with the original system, about 17 min (bench/README.md; BENCH_ARGS=--quick)
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

# Only the tool itself: the locks may not exist yet, or be stale (that is why one runs this).
$(BIN)/pip-compile $(BIN)/pip-audit:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet $(shell grep -E '^(pip-tools|pip-audit)==' requirements-ci.txt)

lock: $(BIN)/pip-compile ## Re-pin requirements*.lock (with hashes) from requirements*.txt; run after changing a .txt
	@$(PIP_COMPILE) --output-file requirements.lock requirements.txt
	@$(PIP_COMPILE) --constraint requirements.lock --output-file requirements-dev.lock requirements-dev.txt
	@$(PIP_COMPILE) --constraint requirements-dev.lock --output-file requirements-ci.lock requirements-ci.txt
	@echo "requirements.lock, requirements-dev.lock and requirements-ci.lock written; commit them"

AUDIT_TIMEOUT ?= 120
PIP_AUDIT_ARGS ?=
audit-deps: $(BIN)/pip-audit ## pip-audit every locked package against PyPI's vulnerability data (needs the network; PIP_AUDIT_ARGS="-s osv")
	@status=0; for lock in requirements.lock requirements-dev.lock requirements-ci.lock; do \
		echo "pip-audit $$lock"; \
		timeout $(AUDIT_TIMEOUT) $(BIN)/pip-audit --strict --disable-pip --require-hashes --progress-spinner off \
			--timeout 30 $(PIP_AUDIT_ARGS) --requirement $$lock; rc=$$?; \
		if [ $$rc -eq 124 ]; then echo "audit-deps: no answer from pip-audit within $(AUDIT_TIMEOUT) s" >&2; fi; \
		if [ $$rc -ne 0 ]; then status=1; echo "audit-deps: $$lock FAILED: a vulnerability listed above, or the vulnerability service (PyPI's JSON API; OSV with PIP_AUDIT_ARGS='-s osv') could not be reached" >&2; fi; \
	done; exit $$status

ci: ## Run the CI script locally
	@bash .ci/run

clean: ## Remove the virtualenv, SQLite database and collected static files
	rm -rf $(VENV) db.sqlite3* staticfiles .pytest_cache .ruff_cache test-results
