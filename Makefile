# ryu-midonet developer entry points. Every target can be run again safely, from a
# fresh clone, as root on Debian 12.

SHELL := /bin/bash
.DEFAULT_GOAL := test

VENV := .venv
PYTHON := $(VENV)/bin/python
RUFF := $(VENV)/bin/ruff
GENERATOR_CONF := etc/oslo-config-generator/ryu-midonet.conf

.PHONY: deps lint genconfig openapi test demo demo-stop bench clean

## deps: Debian packages and the .venv virtual environment
deps:
	bash tools/install-deps.sh

## lint: ruff over the whole tree, the import contracts between layers, and strict typing of
## the simulator and the datapath (both configured in pyproject.toml)
lint: deps
	$(RUFF) check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

## genconfig: regenerate etc/ryu-midonet.conf.sample from the option definitions
genconfig: deps
	$(VENV)/bin/oslo-config-generator --config-file $(GENERATOR_CONF)

## openapi: regenerate doc/openapi.json from the API's routing table
openapi: deps
	$(PYTHON) -c "from ryu_midonet.rest.describe import main; main()" > doc/openapi.json.new
	mv doc/openapi.json.new doc/openapi.json

## test: lint, sample-config check, then the test suite (no tests collected = failure), in
## $(TEST_WORKERS) pytest-xdist workers, each running whole modules (a module's sandbox is built
## once); the modules that build sandboxes are handed out first (tests/conftest.py)
TEST_WORKERS ?= 2
test: lint
	bash tools/check-sample-config.sh
	@rc=0; $(PYTHON) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder \
		tests || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	exit $$rc

## demo: the end-to-end demonstration
demo: deps
	bash tools/demo.sh

## demo-stop: take the demo sandbox down (its processes by PID, its namespaces)
demo-stop:
	bash tools/demo.sh stop

bench: deps
	bash tools/bench.sh

## clean: remove the virtual environment and build and cache directories
clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
