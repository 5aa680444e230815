# PUQ Proxmox KVM for WHMCS. `make demo` shows it working; `make test` runs every check.

EXT       := $(CURDIR)/target/release/libpuq_proxmox_kvm.so
DEBUG_EXT := $(CURDIR)/target/debug/libpuq_proxmox_kvm.so
STUBS     := stubs/puq_proxmox_kvm.stubs.php
PHP       ?= php
PHPUNIT   ?= /usr/bin/phpunit
export PUQ_EXTENSION := $(EXT)

.PHONY: build demo test lint test-rust test-php sim-pve test-browser stubs check-stubs bench-startup bench-vm-list bench-ipam bench-dns bench-deploy clean

## build: the extension, target/release/libpuq_proxmox_kvm.so
build:
	cargo build --release

## demo: orders a VM in a throwaway WHMCS and builds it with the cron on the simulator and a private PowerDNS
demo: build sim-pve
	$(PHP) -d extension=$(EXT) tests/demo/run.php

## test: formatting, lints, Rust tests, PHP tests, browser tests and the stub check
test: lint test-rust test-php test-browser check-stubs
	@echo "make test: all checks passed"

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy -p puq-sim-pve --all-targets -- -D warnings
	@find php tests -name '*.php' -not -path '*/node_modules/*' -print0 | xargs -0 -n1 $(PHP) -l >/dev/null

test-rust:
	cargo test --no-default-features
	cargo test -p puq-sim-pve

## sim-pve: the Proxmox VE simulator binary the PHP tests start (target/debug/puq-sim-pve)
sim-pve:
	cargo build -p puq-sim-pve

test-php: build sim-pve
	$(PHP) -d extension=$(EXT) $(PHPUNIT) -c tests/phpunit.xml

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

test-browser: build node_modules
	cargo build -p puq-sim-dns
	node --test tests/browser/

## stubs: regenerates the PHP stubs from the Rust doc comments (needs cargo-php 0.2.2)
stubs:
	cargo build
	cargo php stubs --stdout $(DEBUG_EXT) > $(STUBS)

check-stubs:
	cargo build
	@cargo php stubs --stdout $(DEBUG_EXT) > target/stubs.current.php
	@diff -u $(STUBS) target/stubs.current.php || { echo "$(STUBS) is out of date: run 'make stubs' and commit it"; exit 1; }
	@echo "stubs are current"

## bench-startup: php -r '' with and without the extension (wall time, peak RSS)
bench-startup: build
	python3 benches/startup.py --extension $(EXT)

## bench-ipam: allocations/s by 8 processes on a /16 IPv4 and a /48 IPv6 pool with 10,000 in use, and their ratio
bench-ipam: build
	$(PHP) -d extension=$(EXT) benches/ipam.php

## bench-dns: DNS resync of 68 addresses against PowerDNS and the Cloudflare simulator, against one request per record
bench-dns:
	cargo test --no-default-features --test dns_bench -- --ignored --nocapture --test-threads=1

## bench-deploy: time to ready for one VM (several steps per tick against one), and one cron tick of 1,000 VMs on 10 nodes (per-node limit against one at a time), 20 ms per request; optimised build, as cron runs
bench-deploy:
	cargo test --release --no-default-features --test deploy_bench -- --ignored --nocapture --test-threads=1

clean:
	cargo clean
	rm -rf node_modules tests/output

## bench-vm-list: the VM Management list with 100,000 VMs through PHP (median, p95)
bench-vm-list: build
	$(PHP) -d extension=$(EXT) benches/vm_list.php
