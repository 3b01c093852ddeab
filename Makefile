# nodenet.fabric — two commands do all the set-up on a fresh machine: `make demo`, `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV      := .venv
STAMP     := $(VENV)/.installed
INVENTORY ?= inventories/seed
K8S       ?=
LAB_FLAGS := $(if $(K8S),--k8s)
APT_PKGS  := iproute2 iputils-ping python3 python3-venv etcd-server bird2 frr iptables ipset nftables
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup k8s demo test unit molecule lab-up lab-down matrix bench bench-plan bench-doc build clean

help:
	@echo "make demo [INVENTORY=path]  build the lab, run playbooks/site.yml, print the pod matrix"
	@echo "make demo K8S=1             the same with a real kube-apiserver per cluster (builds it once, needs Go)"
	@echo "make test                   unit tests, lab tests and molecule scenarios (builds kube-apiserver once)"
	@echo "make bench                  reconcile module vs raw ip/bridge batches (.bench/reconcile.md)"
	@echo "make bench-plan             planning in Ansible vs Ansible's own per-host cost (.bench/plan.md)"
	@echo "make bench-doc              both benchmarks, and rewrite their sections of docs/performance.md"
	@echo "make lab-down               remove every namespace the lab created"

setup: $(STAMP)

# apt packages, then a virtualenv with pinned versions; collections come from the
# `ansible` package on PyPI (no Galaxy server is reachable).
$(STAMP): requirements.txt Makefile
	@if ! command -v ping >/dev/null || ! command -v bridge >/dev/null || ! test -x /usr/bin/python3 \
	    || ! command -v etcd >/dev/null || ! command -v bird >/dev/null || ! test -x /usr/lib/frr/bgpd \
	    || ! command -v iptables-nft >/dev/null || ! command -v ipset >/dev/null || ! command -v nft >/dev/null; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_PKGS); fi
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

# kube-apiserver and kube-proxy from source at the pin in tools/k8s/go.mod, into .k8s/bin; only
# when the pin changed (Go's caches are reused).
k8s:
	tools/k8s/build

demo: setup $(if $(K8S),k8s)
	python tools/lab up -i $(INVENTORY) $(LAB_FLAGS)
	ansible-playbook -i $(INVENTORY) -i .lab/hosts.yml playbooks/site.yml
	python tools/lab matrix -i $(INVENTORY)
	python tools/lab bgp -i $(INVENTORY)

lab-up: setup $(if $(K8S),k8s)
	python tools/lab up -i $(INVENTORY) $(LAB_FLAGS)

matrix: setup
	python tools/lab matrix -i $(INVENTORY)

lab-down:
	@if test -x $(VENV)/bin/python; then $(VENV)/bin/python tools/lab down; \
	 else python3 tools/lab down; fi

# Unit tests first (fast), then the molecule scenarios, then the lab integration tests.
test: setup k8s
	python -m pytest -q tests/unit
	python tools/lab down
	MOLECULE_GLOB='molecule/*/molecule.yml' molecule test --all
	python -m pytest -q tests/integration

bench: setup
	python tools/bench.py

bench-plan: setup
	python tools/bench_plan.py

bench-doc: setup
	python tools/bench_plan.py --doc
	python tools/bench.py --doc

build: setup
	ansible-galaxy collection build --force

clean: lab-down
	rm -rf $(VENV) manifests .bench .k8s nodenet-fabric-*.tar.gz
