# lvs-ha-lab: see README.md. Everything runs as root on Debian 12 / Ubuntu.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LVSLAB := $(BIN)/lvslab
LAB ?= uml
REPORTS ?= reports
HOST_PACKAGES := user-mode-linux debootstrap iproute2 e2fsprogs openssh-client \
	netcat-openbsd procps python3-venv curl libxml2-utils dpkg-dev

OCF_LIB := $(HOME)/.cache/lvs-ha-lab/resource-agents

.PHONY: all setup host-packages venv ocf-lib lab-up lab-down deploy status test check run \
	bench lint clean

all: run

setup: host-packages venv ocf-lib

# resource-agents' shell library, unpacked from Debian's package (not installed: it pulls
# in daemons), so the agent's unit tests run against the real ocf-shellfuncs.
ocf-lib: $(OCF_LIB)/.unpacked
$(OCF_LIB)/.unpacked:
	rm -rf $(OCF_LIB) && mkdir -p $(OCF_LIB)
	cd $(OCF_LIB) && { apt-get download -q resource-agents || \
		{ apt-get update -q && apt-get download -q resource-agents; }; } && \
		dpkg-deb -x resource-agents_*.deb root
	touch $@

# Installs only what is missing, so a second run costs nothing and needs no network.
host-packages:
	@missing=$$(for p in $(HOST_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "setup: installing host packages: $$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

lab-up: setup
	$(LVSLAB) up --lab $(LAB)

deploy: venv
	$(LVSLAB) deploy

lab-down: venv
	$(LVSLAB) down

status: venv
	$(LVSLAB) status

# Unit tests only: no root, no lab, seconds.
test: venv ocf-lib
	$(BIN)/pytest tests/unit

# The project's tests, as CI runs them: unit tests, then every lab suite for real.
# --require-lab turns a missing lab prerequisite into a failure instead of a skip.
check: setup lint
	$(BIN)/pytest --require-lab --junitxml=$(REPORTS)/junit.xml

# The main job: lab up, deploy, suites against it, report; the lab stays up for exploring.
run: lab-up deploy
	$(BIN)/pytest --require-lab --junitxml=$(REPORTS)/junit.xml
	$(LVSLAB) status
	@echo "lab is up: lvslab ssh node1 / make status / make lab-down"

bench: setup
	$(BIN)/python bench/lab_bench.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd ansible && ../$(BIN)/ansible-lint lvs.yml
	$(BIN)/actionlint .github/workflows/*.yml

clean: lab-down
	rm -rf $(REPORTS) .pytest_cache
