# polyshop: `make up` runs the system, `make test` runs every test.
# Both install what they need first (a Python virtual environment with uv,
# the npm workspace, the Kafka broker's jars, the test browser).

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .cache/uv/bin/uv
VENV := .venv
PY := $(VENV)/bin/python

# uv: the system's certificate store (corporate proxies add theirs there), and
# no interpreter downloads: the machine's Python 3.11+ is used.
export UV_SYSTEM_CERTS := 1
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Every Python process imports about 900 modules. Compiled once here, not
# on each start: where PYTHONDONTWRITEBYTECODE is set (as on some build
# machines) nothing would ever be cached, and each piece's start compiled
# them all again (Flask alone: 285 ms of CPU instead of 115).
export UV_COMPILE_BYTECODE := 1
PY_SOURCES := libs/python/src registry/src gateway/src services/*/src tools/src

.PHONY: up test check setup lint format clean fault faults labs bench-gateway bench-shop bench-tracing bench-profile bench-registry screenshots

up: setup
	$(PY) -m polyshop_dev.up $(if $(TRACES),--traces)

test: setup test-browser
	$(PY) -m polyshop_dev.testrun

# The unit and integration tests of every package, no whole shop: the quick loop.
check: setup
	$(PY) -m polyshop_dev.testrun --check

setup: $(VENV)/.synced node_modules/.synced .cache/kafka/.archived
	@$(PY) -m compileall -q $(PY_SOURCES) > /dev/null

$(UV):
	@echo "Installing uv $(UV_VERSION) into .cache/uv"
	$(PYTHON) -m venv .cache/uv
	.cache/uv/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) Makefile uv.lock pyproject.toml $(wildcard */pyproject.toml */*/pyproject.toml)
	$(UV) sync --frozen --all-groups
	touch $@

node_modules/.synced: package-lock.json package.json $(wildcard */*/package.json)
	npm ci --no-audit --no-fund
	touch $@

.cache/kafka/.fetched: tools/kafka/pom.xml $(VENV)/.synced
	$(PY) -m polyshop_dev.kafka fetch
	touch $@

# Made again when the broker's JVM options change: an archive must match them.
.cache/kafka/.archived: .cache/kafka/.fetched tools/src/polyshop_dev/kafka.py
	$(PY) -m polyshop_dev.kafka archive
	touch $@

# Fault switches, while the shop runs (docs/faults.md): `make fault NAME=slow
# ON=1 SERVICE=catalog` turns one on (SERVICE left out: in every piece),
# `make fault NAME=slow ON=0` off again, `make faults` lists them.
fault: setup
	$(PY) -m polyshop_dev.faults $(if $(filter 1,$(ON)),on,off) $(NAME) $(if $(and $(filter 1,$(ON)),$(SERVICE)),--service $(SERVICE))

faults: setup
	$(PY) -m polyshop_dev.faults list

# The workshop's labs (labs/README.md): `make lab-01-check` grades lab 01
# against the running shop and says what is missing; `make labs` lists them.
lab-%-check: setup
	$(PY) -m polyshop_dev.labs check $*

labs: setup
	$(PY) -m polyshop_dev.labs list

# The storefront's browser tests, keeping a picture of each page for the docs.
screenshots: setup test-browser
	SCREENSHOTS=docs/screenshots $(VENV)/bin/pytest e2e-tests/storefront -q

# Headless Chromium renders the pages in the browser tests.
.PHONY: test-browser
test-browser:
	@command -v chromium >/dev/null || bash tools/install-debian-packages.sh chromium

# Gateway (public and authenticated routes) vs direct vs nginx; about five
# minutes, written to docs/benchmarks/gateway.md.
bench-gateway: setup
	$(PY) gateway/bench/run.py

# The registry with 10,000 instances beside a real Netflix Eureka server
# (built with Maven from registry/bench/eureka-server, defaults and tuned):
# heartbeats, whole reads, watchers, a new and a silent instance; about ten
# minutes, written to docs/benchmarks/registry.md.
bench-registry: setup
	$(PY) registry/bench/run.py

# The saga under open-loop load (50 and 200 orders/s, then 50/s for ten
# minutes), consumer lag, memory of every piece after that, `make up` cold and
# warm, the registry with 10,000 instances; about a quarter of an hour,
# written to docs/benchmarks/shop.md.
bench-shop: setup
	$(PY) -m polyshop_dev.bench

# What tracing costs at 50 orders/s, with no SDK as the baseline; about ten
# minutes, written to docs/benchmarks/tracing.md.
bench-tracing: setup
	$(PY) -m polyshop_dev.bench.tracing

# Where the CPU goes at 50 orders/s: py-spy on every Python piece, V8's
# profiler in every Node.js one; about a minute, written to
# docs/benchmarks/profile.md, the raw profiles kept in .run/profiles/.
bench-profile: setup
	$(PY) -m polyshop_dev.bench.profile

# The end-to-end suite against the shop in containers (docker compose,
# through testcontainers): starts a Docker engine if none runs (installing
# it from Debian packages first, as root, where it is missing), builds the
# images, runs e2e-tests/containers, and tears everything down.
.PHONY: test-containers
test-containers: setup
	bash tools/docker/test-containers.sh

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf .venv .cache .run node_modules
