# lvs-ha-lab: see README.md. Everything runs as root on Debian 12 / Ubuntu.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LVSLAB := $(BIN)/lvslab
LAB ?= uml
REPORTS ?= reports
HOST_PACKAGES := user-mode-linux debootstrap iproute2 e2fsprogs openssh-client \
	netcat-openbsd procps python3-venv curl libxml2-utils dpkg-dev gcc libc6-dev \
	libpcap0.8
# The libvirt lab's host side. Installed with services held back (policy-rc.d): a libvirtd
# started by the package would bring libvirt's networks up in the root namespace.
LIBVIRT_PACKAGES := libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86 \
	qemu-utils dnsmasq-base vagrant vagrant-libvirt libvirt-dev pkg-config

OCF_LIB := $(HOME)/.cache/lvs-ha-lab/resource-agents

.PHONY: all setup host-packages venv ocf-lib lab-up lab-down deploy status test check run \
	bench lint clean libvirt-setup box suites-libvirt-tcg failover-matrix \
	bench-failover bench-kills soak report figures

all: run

setup: host-packages venv ocf-lib

# resource-agents' shell library and pacemaker's CIB schemas, unpacked from Debian's
# packages (not installed: they pull in daemons), so the agent's unit tests run against the
# real ocf-shellfuncs and the CIB objects the deploy writes are validated offline.
OCF_LIB_DEBS := resource-agents pacemaker-common
ocf-lib: $(OCF_LIB)/.unpacked-2
$(OCF_LIB)/.unpacked-2:
	rm -rf $(OCF_LIB) && mkdir -p $(OCF_LIB)
	cd $(OCF_LIB) && { apt-get download -q $(OCF_LIB_DEBS) || \
		{ apt-get update -q && apt-get download -q $(OCF_LIB_DEBS); }; } && \
		for deb in *.deb; do dpkg-deb -x $$deb root; done
	touch $@

# Installs only what is missing, so a second run costs nothing and needs no network.
host-packages:
	@missing=$$(for p in $(HOST_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "setup: installing host packages: $$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

libvirt-setup: venv
	@missing=$$(for p in $(LIBVIRT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "libvirt-setup: installing $$missing (services not started)"; \
		guard=; if [ ! -e /usr/sbin/policy-rc.d ]; then guard=1; \
			printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; fi; \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $$missing; }; rc=$$?; \
		[ -z "$$guard" ] || rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	fi
	@$(BIN)/python -c 'import libvirt' 2>/dev/null || $(BIN)/pip install -q -e '.[libvirt]'

# The libvirt lab's box, built here from Debian packages (no box download needed).
box: libvirt-setup
	$(LVSLAB) box $(RELEASE_ARG)

# Every functional suite on the libvirt lab on a host without KVM (TCG, libvirtd in its own
# namespace): pytest brings the lab up, deploys, runs the suites and takes the lab down; the
# sandbox is stopped whatever happens. ~28 min on 2 cores: not part of `make check`.
TCG_LAB_ENV := LVSLAB_LIBVIRT_NETNS=lvslab-libvirt LVSLAB_BOX=lvslab/debian12 \
	LVSLAB_DRIVER=qemu LVSLAB_MEMORY=768
suites-libvirt-tcg: setup box
	$(LVSLAB) libvirt-sandbox start
	trap '$(LVSLAB) libvirt-sandbox stop' EXIT; export $(TCG_LAB_ENV); \
		$(BIN)/pytest --lab=libvirt --lab-name=lvslab-tcg --require-lab \
		--reports-dir=$(REPORTS)/libvirt-tcg tests/functional tests/deploy

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# RELEASE=bullseye|bookworm|trixie: the nodes' Debian release (default: lvslab's, bookworm).
RELEASE ?=
RELEASE_ARG := $(if $(RELEASE),--release $(RELEASE))
lab-up: setup $(if $(filter libvirt,$(LAB)),libvirt-setup)
	$(LVSLAB) up --lab $(LAB) $(RELEASE_ARG)

PROFILE ?= seed
LINKS ?= service
deploy: venv
	$(LVSLAB) deploy --profile $(PROFILE) --corosync-links $(LINKS)

lab-down: venv
	$(LVSLAB) down

status: venv
	$(LVSLAB) status

# Unit tests only: no root, no lab, seconds.
test: venv ocf-lib
	$(BIN)/pytest tests/unit

# The project's tests, as CI runs them: unit tests, the deploy's and the lab's own tests,
# then every validation suite for real: every NIC-down mode on the deployed cell
# (--nic-modes=all), the failover matrix's CI subset (drop mode on the dual layout under
# both profiles, and the hardened cell's director kill). make run cuts the deployed cell's
# NIC down one way only (drop, the default) and kills no director in the matrix.
# Then the functional suites again on the keepalived stack, on a lab of its own that pytest
# brings up, deploys (--stack keepalived) and takes down; --switch-cells lets it show the
# naive rules' ping-pong in place. --require-lab turns a missing lab prerequisite into a
# failure.
# tests/functional runs in a shuffled order (the seed is in pytest's header: SEED=N replays
# it), so that no suite leans on another's order or leftovers.
SEED ?= $(shell date +%s)
check: setup libvirt-setup lint
	$(BIN)/pytest --require-lab --switch-cells --matrix-kill --nic-modes=all \
		--shuffle-functional=$(SEED) --reports-root=$(REPORTS) tests
	$(BIN)/pytest --require-lab --lab-name=lvslab-keepalived --stack=keepalived --switch-cells \
		--shuffle-functional=$(SEED) --reports-root=$(REPORTS) tests/functional

# The main job: lab up, deploy, the validation suites (functional and failover, the
# NIC-down bug side by side: seed vs hardened on the dual layout), timelines; the lab
# stays up for exploring.
run: lab-up deploy
	$(BIN)/pytest --require-lab --switch-cells --reports-root=$(REPORTS)
	$(LVSLAB) status
	@echo "lab is up: lvslab ssh node1 / make status / make lab-down; report: $(REPORTS)/latest/index.html"

# Every NIC-down mode in every cell of the matrix (nightly; ~20 min on 2 cores), then the
# outage table (printed, and as JSON in reports/latest/failover.json) and the report page.
# RELEASES="bullseye bookworm trixie": once per Debian release, each on a lab of its own
# brought up and taken down in turn (a running lab of another release goes down first),
# reports in $(REPORTS)/<release>/, the releases side by side in $(REPORTS)/releases.md.
MATRIX_ARGS := --require-lab --switch-cells --matrix-kill --nic-modes=all --matrix-modes=all
RELEASES ?=
failover-matrix: setup
ifeq ($(strip $(RELEASES)),)
	$(BIN)/pytest $(MATRIX_ARGS) --reports-root=$(REPORTS) tests/failover
else
	$(BIN)/python -m bench.release_matrix --releases "$(RELEASES)" --reports $(REPORTS) \
		-- $(MATRIX_ARGS) tests/failover
endif
# The stacks side by side on the running lab: pacemaker/seed, pacemaker/hardened and
# keepalived deployed in place in turn, the director-kill and NIC-down suites (every mode)
# on each, the deployed cell restored; the table in $(REPORTS)/stacks.md (~35 min).
bench-failover: lab-up
	$(BIN)/python -m bench.stack_comparison --reports $(REPORTS)

# N director kills on the deployed cell (KILLS=10): answering again, the second outage,
# balanced again, per kill; JSON in reports/failover-kills.json. ~2 min a kill.
KILLS ?= 10
bench-kills: venv
	$(BIN)/python -m bench.failover_kills --kills $(KILLS) --reports $(REPORTS)

# The lab's own soak (no cluster; ~1 min a cycle, on a lab of its own): CYCLES of up,
# kill/start of each node, NIC down/up in every mode, down; leftovers counted after each
# cycle (0 expected, else exit 1); figures in reports/lab-soak.json. Nightly.
CYCLES ?= 10
soak: setup
	$(BIN)/python -m bench.lab_soak --cycles $(CYCLES) --reports $(REPORTS)

# The run's report (index.html, timelines) again from the saved histories and JUnit XML.
report: venv
	$(BIN)/python -m report.html $(REPORTS)/latest

# docs/figures.md from saved run folders (RUNS="reports/<run> ..."; default the latest).
RUNS ?= $(REPORTS)/latest
figures: venv
	$(BIN)/python -m report.figures $(RUNS) --out docs/figures.md

# Lab and deploy figures beside issue 17's targets, on a lab of its own (~8 min):
# reports/lab-bench-RELEASE.json and a table (python bench/lab_bench.py --release trixie:
# another release's nodes; without --deploy: the lab and what commands cost on a node).
bench: setup
	$(BIN)/python bench/lab_bench.py --deploy

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd ansible && ../$(BIN)/ansible-lint lvs.yml keepalived.yml
	$(BIN)/actionlint .github/workflows/*.yml

clean: lab-down
	rm -rf $(REPORTS) .pytest_cache
