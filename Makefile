# The LAPOR complaint platform on one machine, no Docker.
#   make run    install what is missing, start Kafka, PostgreSQL, the mail catcher, the services
#   make stop   stop all of it
#   make test   unit, integration and e2e tiers (they start their own Kafka and PostgreSQL)
#   make demo   submit a few realistic complaints and follow each one
#   make bench  throughput and submit-to-e-mail latency, next to pgbench and Kafka's own limits
#   make token ROLE=operator | ROLE=opd OPD=<opd id> [TTL=8h]   a staff JWT (last line of output)
#   make model  train routing's classifier from the corpus in the repository (run, test, bench need it)
#   make eval   the classifier on the held-out split; fails below macro-F1 0.80

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
MODEL  := services/routing/routing/model/classifier.joblib
MODEL_SOURCES := $(wildcard services/routing/data/corpus/*.jsonl) $(wildcard services/routing/routing/training/*.py) \
                 $(wildcard services/routing/routing/domain/classifier.py services/routing/routing/domain/normalise.py \
                            services/routing/routing/domain/lexicon.py)

.PHONY: run stop status demo token test test-unit test-integration test-e2e bench lock clean model eval browser

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

$(MODEL): $(STAMP) $(MODEL_SOURCES)
	$(PY) -m routing.training.build

model: $(MODEL)

eval: $(MODEL)
	$(PY) -m routing.training.evaluate

run: $(STAMP) $(MODEL)
	$(PY) -m devstack up

stop: $(STAMP)
	$(PY) -m devstack down

status: $(STAMP)
	$(PY) -m devstack status

demo: $(STAMP)
	$(PY) -m devstack demo

token: $(STAMP)
	@$(PY) -m devstack token --role "$(ROLE)" $(if $(OPD),--opd "$(OPD)") $(if $(TTL),--ttl="$(TTL)")

# Debian's Chromium, for the console's browser tests (e2e tier).
browser:
	bash deploy/local/install-browser.sh

test: $(STAMP) $(MODEL) browser
	$(PY) -m routing.training.evaluate
	$(PY) -m pytest tests -p no:cacheprovider

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit -q

test-integration: $(STAMP)
	$(PY) -m pytest tests/integration

test-e2e: $(STAMP) $(MODEL) browser
	$(PY) -m pytest tests/e2e

bench: $(STAMP) $(MODEL)
	$(PY) -m bench

# Re-pin every Python package after changing pyproject.toml's dependencies.
lock: $(STAMP)
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m pip freeze --exclude-editable | grep -v '^lapor-platform' > requirements.lock

clean: stop
	rm -rf var
