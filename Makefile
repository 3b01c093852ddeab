# nodenet.fabric — two commands do all the set-up on a fresh machine: `make demo`, `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV      := .venv
STAMP     := $(VENV)/.installed
INVENTORY ?= inventories/seed
K8S       ?=
LAB_FLAGS := $(if $(K8S),--k8s)
APT_PKGS  := iproute2 iputils-ping python3 python3-venv etcd-server bird2 frr iptables ipset nftables graphviz chromium \
             openssh-server sudo
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PYTHONDONTWRITEBYTECODE := 1
# Playbooks, molecule, the lab and the tests use the collection as a user gets it: the built
# artifact installed into .collections (ignored), rebuilt whenever a shipped file changes.
COLLECTION := .collections/ansible_collections/nodenet/fabric
SHIPPED   := galaxy.yml $(shell find README.md LICENSE CHANGELOG.rst meta plugins roles playbooks docs changelogs collections \
               tests/sanity -type f -not -name '*.pyc' -not -path '*/fragments/*' 2>/dev/null | sort)
# The list itself is a prerequisite too: a deleted or renamed file changes it, which no timestamp shows.
SHIPPED_LIST := .collections/shipped.list
$(shell mkdir -p .collections && printf '%s\n' $(SHIPPED) > $(SHIPPED_LIST).new && \
  { cmp -s $(SHIPPED_LIST).new $(SHIPPED_LIST) && rm -f $(SHIPPED_LIST).new || mv $(SHIPPED_LIST).new $(SHIPPED_LIST); })

.PHONY: help setup collection k8s demo report test unit lint sanity molecule lab-up lab-down matrix bench bench-plan bench-fleet bench-doc build changelog clean

help:
	@echo "make demo [INVENTORY=path]  build the lab, run playbooks/site.yml, print the pod matrix"
	@echo "make demo K8S=1             the same with a real kube-apiserver per cluster (builds it once, needs Go)"
	@echo "make test                   unit tests, lab tests and molecule scenarios (builds the lab's programs once)"
	@echo "make bench                  reconcile module vs raw ip/bridge batches (.bench/reconcile.md)"
	@echo "make bench-plan             planning in Ansible vs Ansible's own per-host cost (.bench/plan.md)"
	@echo "make bench-fleet            60- and 150-node fleets in the lab: converge and no-op vs Ansible's floor (.bench/fleet.md)"
	@echo "make bench-doc              the three benchmarks, and rewrite their sections of docs/performance.md"
	@echo "make report [INVENTORY=path] [CHECK=check.json]  one HTML page: validation, topology, what each host gets"
	@echo "make lint                   ansible-lint (production profile) and ansible-test sanity"
	@echo "make build                  the collection artifact (nodenet-fabric-<version>.tar.gz)"
	@echo "make lab-down               remove every namespace the lab created"

setup: $(STAMP)

# apt packages, then a virtualenv with pinned versions; collections come from the
# `ansible` package on PyPI (no Galaxy server is reachable).
$(STAMP): requirements.txt Makefile
	@if ! command -v ping >/dev/null || ! command -v bridge >/dev/null || ! test -x /usr/bin/python3 \
	    || ! command -v etcd >/dev/null || ! command -v bird >/dev/null || ! test -x /usr/lib/frr/bgpd \
	    || ! command -v iptables-nft >/dev/null || ! command -v ipset >/dev/null || ! command -v nft >/dev/null \
	    || ! command -v dot >/dev/null || ! command -v chromium >/dev/null \
	    || ! test -x /usr/sbin/sshd || ! command -v sudo >/dev/null; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_PKGS); fi
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

collection: $(COLLECTION)/MANIFEST.json

$(COLLECTION)/MANIFEST.json: $(STAMP) $(SHIPPED) $(SHIPPED_LIST)
	rm -rf .build $(COLLECTION)
	ansible-galaxy collection build --force --output-path .build >/dev/null
	ansible-galaxy collection install --force --no-deps -p .collections .build/nodenet-fabric-*.tar.gz >/dev/null

# kube-apiserver, kube-proxy, kube-router (with gobgp) and flanneld from source, each at the pin in
# its tools/k8s/**/go.mod, into .k8s/bin, only when its pin changed (Go's caches are reused); the
# calico module (CRDs, confd's test data) is only downloaded into Go's module cache.
k8s:
	tools/k8s/build

demo: collection $(if $(K8S),k8s)
	python tools/lab up -i $(INVENTORY) $(LAB_FLAGS)
	ansible-playbook -i $(INVENTORY) -i .lab/hosts.yml playbooks/site.yml
	python tools/lab matrix -i $(INVENTORY)
	python tools/lab bgp -i $(INVENTORY)

# One HTML page about the inventory (playbooks/report.yml); CHECK= a --check run's JSON
# (ANSIBLE_STDOUT_CALLBACK=ansible.posix.json) adds what would change on each host.
REPORT ?= fabric-report.html
report: collection
	ansible-playbook -i $(INVENTORY) playbooks/report.yml -e nodenet_report_file=$(abspath $(REPORT)) \
	  $(if $(CHECK),-e nodenet_report_check=$(abspath $(CHECK)))

lab-up: collection $(if $(K8S),k8s)
	python tools/lab up -i $(INVENTORY) $(LAB_FLAGS)

matrix: collection
	python tools/lab matrix -i $(INVENTORY)

lab-down:
	@if test -x $(VENV)/bin/python; then $(VENV)/bin/python tools/lab down; \
	 else python3 tools/lab down; fi

# Tests that need none of the programs tools/k8s builds (no control plane: the seed lab, a fleet).
EARLY_TESTS := tests/integration/test_foreign_state.py tests/integration/test_foreign_state_ipv6.py tests/integration/test_vxlan_mesh_lab.py \
               tests/integration/test_fleet_lab.py \
               tests/integration/test_awx_runner.py

# Lint and sanity, unit tests (fast), the lab tests that need no built program, then the molecule
# scenarios and the other lab tests. The lab's programs build (minutes on a fresh machine) while
# the set-up and the first part run.
test:
	@mkdir -p .k8s; tools/k8s/build > .k8s/build.log 2>&1 & build=$$!; \
	  $(MAKE) --no-print-directory lint && python -m pytest -q tests/unit && python tools/lab down \
	    && python -m pytest -q --durations=10 $(EARLY_TESTS); checked=$$?; \
	  wait $$build; built=$$?; cat .k8s/build.log; \
	  if [ $$built -ne 0 ]; then echo "make test: building the lab's programs failed" >&2; fi; \
	  [ $$checked -eq 0 ] && [ $$built -eq 0 ]
	python tools/lab down
	MOLECULE_GLOB='molecule/*/molecule.yml' molecule test --all
	python -m pytest -q --durations=20 $(addprefix --ignore=,$(EARLY_TESTS)) tests/integration

# ansible-lint (production profile) and ansible-test sanity, both with nothing skipped or ignored.
lint: collection sanity
	ansible-lint

# ansible-test wants the collection at ansible_collections/nodenet/fabric and, with --venv, a pip
# bootstrap from the internet; so it runs --local on the built artifact laid out in a temp dir.
sanity: collection
	tools/sanity .build/nodenet-fabric-*.tar.gz

unit: collection
	python -m pytest -q tests/unit

changelog: setup
	antsibull-changelog lint
	antsibull-changelog generate

bench: collection
	python tools/bench.py

bench-plan: collection
	python tools/bench_plan.py

bench-fleet: collection
	python tools/bench_fleet.py

bench-doc: collection
	python tools/bench_plan.py --doc
	python tools/bench.py --doc
	python tools/bench_fleet.py --doc

build: collection
	ansible-galaxy collection build --force

clean: lab-down
	rm -rf $(VENV) manifests .bench .k8s .build .collections nodenet-fabric-*.tar.gz
