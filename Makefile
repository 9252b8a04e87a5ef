# The two commands a newcomer needs: `make run` and `make test`. Only Python 3.11+ is required.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_DECISIONS ?= 10000
# The embedded mode's Celery broker: a SQLite file, no server (kombu's SQLAlchemy transport).
EMBEDDED_BROKER = sqla+sqlite:///$(abspath $(or $(VAR_DIR),var))/celery-broker.sqlite3
# Tests run with production settings (DEBUG off); these make them work without a deployment.
TEST_ENV := DJANGO_DEBUG=0 SECRET_KEY=$${SECRET_KEY:-test-only-secret-key-not-for-production} \
	SECURE_SSL_REDIRECT=0

.PHONY: run test setup lint check migrate seed worker beat bench clean

# The service runs from this tree and is not installed; the pure core and ledgerctl are the
# model-ledger-verify distribution in verifier/, installed editable so changes apply at once.
$(BIN)/.installed: requirements.txt pyproject.toml verifier/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# A tree set up before the service stopped being installed still has it in site-packages.
	$(BIN)/python -m pip uninstall --quiet --yes model-ledger 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e ./verifier
	@touch $@

setup: $(BIN)/.installed

run: setup
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo --decisions $(DEMO_DECISIONS)
	@echo
	@echo "  Model governance ledger: http://$(HOST):$(PORT)/"
	@echo "  API docs:                http://$(HOST):$(PORT)/api/docs/"
	@echo "  Latest checkpoint:       http://$(HOST):$(PORT)/api/v1/ledger/checkpoint"
	@echo "  Demo sign-ins (password demo-password): demo-officer-1, demo-officer-2, demo-compliance-head, demo-owner, demo-auditor, demo-admin"
	@echo "  Pipeline token:          DJANGO_DEBUG=1 $(BIN)/python manage.py issue_token demo-pipeline"
	@echo "  Verifier key:            $$(DJANGO_DEBUG=1 $(BIN)/python manage.py ledger_keys | tail -n 1)"
	@echo "  Periodic jobs:           a Celery worker with embedded beat on the embedded broker (log: var/worker.log)"
	@echo
	@export DJANGO_DEBUG=1 CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(EMBEDDED_BROKER)}; \
	$(BIN)/celery -A config worker --beat --concurrency 2 --loglevel INFO --logfile $${VAR_DIR:-var}/worker.log & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: setup
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python .ci/structure.py

worker: setup
	$(BIN)/celery -A config worker --loglevel=INFO

beat: setup
	$(BIN)/celery -A config beat --loglevel=INFO

bench: setup
	$(BIN)/python bench/ledger_bench.py --quick

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis verifier/src/*.egg-info
