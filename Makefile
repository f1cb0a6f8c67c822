# Sightline: `make run` builds and starts the server; `make test` runs every test.
# Both install what this machine lacks first, and skip what is already there.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Must equal the wasm-bindgen crate version pinned in Cargo.toml.
WASM_BINDGEN_VERSION := 0.2.130
WASM_TARGET := wasm32-unknown-unknown
SITE := target/site
CARGO ?= cargo
APT_PACKAGES_BUILD := mold pkg-config libssl-dev
APT_PACKAGES_TEST := chromium chromium-driver rsyslog rsyslog-elasticsearch
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export LEPTOS_OUTPUT_NAME := sightline
export LEPTOS_SITE_ROOT := $(SITE)
export LEPTOS_SITE_PKG_DIR := pkg

.PHONY: help run build test deps deps-test site-debug site-release fmt lint clean-data

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

run: build ## Build (release) and start Sightline at http://127.0.0.1:3000
	./target/release/sightline serve

build: deps site-release ## Build target/release/sightline and the site assets (release)
	$(CARGO) build --release -p server

test: deps deps-test site-debug ## Run every test: unit, integration (real PostgreSQL), CLI, browser
	tests/run-all.sh

deps: ## Install build tools this machine lacks (apt packages, wasm target, wasm-bindgen)
	@missing=""; for p in $(APT_PACKAGES_BUILD); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	@if [ "$$(wasm-bindgen --version 2>/dev/null | awk '{print $$2}')" != "$(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (once, several minutes)"; \
	  $(CARGO) install wasm-bindgen-cli@$(WASM_BINDGEN_VERSION); fi

deps-test: ## Install what the tests need: Chromium, ChromeDriver, rsyslog, Node and Python client packages
	@missing=""; for p in $(APT_PACKAGES_TEST); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi
	@cd tests/browser && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error; }
	@cd tests/python && if ! cmp -s requirements.txt .venv/installed-requirements.txt; then \
	  echo "installing the Python client libraries of the protocol tests"; \
	  python3 -m venv .venv && .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt && \
	  cp requirements.txt .venv/installed-requirements.txt; fi

site-debug: ## The WASM bundle and CSS, debug build (for tests)
	$(CARGO) build -p frontend --lib --target $(WASM_TARGET)
	$(MAKE) --no-print-directory bindgen WASM=target/$(WASM_TARGET)/debug/frontend.wasm

site-release: ## The WASM bundle and CSS, size-optimised build
	$(CARGO) build -p frontend --lib --target $(WASM_TARGET) --profile wasm-release
	$(MAKE) --no-print-directory bindgen WASM=target/$(WASM_TARGET)/wasm-release/frontend.wasm

.PHONY: bindgen
bindgen:
	mkdir -p $(SITE)/pkg
	wasm-bindgen --target web --no-typescript --out-dir $(SITE)/pkg --out-name $(LEPTOS_OUTPUT_NAME) $(WASM)
	@# Leptos' hydration script loads pkg/<name>.wasm (cargo-leptos renames it too).
	mv $(SITE)/pkg/$(LEPTOS_OUTPUT_NAME)_bg.wasm $(SITE)/pkg/$(LEPTOS_OUTPUT_NAME).wasm
	cp style/main.css $(SITE)/pkg/$(LEPTOS_OUTPUT_NAME).css

fmt: ## Format the code
	$(CARGO) fmt --all

lint: ## rustfmt check and clippy (server side and WASM side), warnings are errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy -p server --all-targets -- -D warnings
	$(CARGO) clippy -p app --features ssr --all-targets -- -D warnings
	$(CARGO) clippy -p app --features hydrate --target $(WASM_TARGET) -- -D warnings
	$(CARGO) clippy -p frontend --target $(WASM_TARGET) -- -D warnings

clean-data: ## Stop nothing, delete ./data (the embedded database!) after asking
	@read -r -p "delete ./data and everything Sightline stored in it? [y/N] " a; [ "$$a" = y ] && rm -rf data || true
