# Sightline: `make run` builds and starts the server; `make test` runs every test.
# Both install what this machine lacks first, and skip what is already there.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Must equal the wasm-bindgen crate version pinned in Cargo.toml.
WASM_BINDGEN_VERSION := 0.2.130
WASM_TARGET := wasm32-unknown-unknown
SITE := target/site
PKG := $(SITE)/pkg
CARGO ?= cargo
APT_PACKAGES_BUILD := mold pkg-config libssl-dev brotli
# wasm-opt from npm's binaryen (Debian's 108 breaks the module; see README).
BINARYEN_VERSION := 132.0.0
TOOLS := target/tools
WASM_OPT := $(TOOLS)/node_modules/.bin/wasm-opt
# The features rustc emits for wasm32 (the module's target_features section).
WASM_FEATURES := --enable-bulk-memory --enable-bulk-memory-opt --enable-call-indirect-overlong \
  --enable-multivalue --enable-mutable-globals --enable-nontrapping-float-to-int \
  --enable-reference-types --enable-sign-ext
BINDGEN_FLAGS ?=
APT_PACKAGES_TEST := chromium chromium-driver rsyslog rsyslog-elasticsearch prometheus prometheus-node-exporter
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

test: deps deps-test site-release ## Run every test: unit, integration (real PostgreSQL), CLI, browser (against the release bundle)
	tests/run-all.sh

deps: ## Install build tools this machine lacks (apt packages, wasm target, wasm-bindgen, wasm-opt)
	@missing=""; for p in $(APT_PACKAGES_BUILD); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	@if [ "$$(wasm-bindgen --version 2>/dev/null | awk '{print $$2}')" != "$(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (once, several minutes)"; \
	  $(CARGO) install wasm-bindgen-cli@$(WASM_BINDGEN_VERSION); fi
	@$(MAKE) --no-print-directory wasm-opt

deps-test: ## Install what the tests need: Chromium, ChromeDriver, rsyslog, Node and Python client packages
	@missing=""; for p in $(APT_PACKAGES_TEST); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi
	@cd tests/browser && if ! cmp -s package-lock.json node_modules/.installed-lock.json; then \
	  npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.installed-lock.json; fi
	@cd tests/node && if ! cmp -s package-lock.json node_modules/.installed-lock.json; then \
	  echo "installing the JavaScript client libraries of the protocol tests"; \
	  npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.installed-lock.json; fi
	@cd tests/python && if ! cmp -s requirements.txt .venv/installed-requirements.txt; then \
	  echo "installing the Python client libraries of the protocol tests"; \
	  python3 -m venv .venv && .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt && \
	  cp requirements.txt .venv/installed-requirements.txt; fi

site-debug: ## The WASM bundle and CSS, debug build (quick to rebuild while developing)
	$(CARGO) build -p frontend --lib --target $(WASM_TARGET)
	$(MAKE) --no-print-directory bindgen WASM=target/$(WASM_TARGET)/debug/frontend.wasm

site-release: wasm-opt ## The WASM bundle and CSS as shipped: size-optimised, wasm-opt, hashed names, .br/.gz copies
	$(CARGO) build -p frontend --lib --target $(WASM_TARGET) --profile wasm-release
	$(MAKE) --no-print-directory bindgen WASM=target/$(WASM_TARGET)/wasm-release/frontend.wasm \
	  BINDGEN_FLAGS="--remove-name-section --remove-producers-section"
	$(WASM_OPT) -Oz $(WASM_FEATURES) --strip-debug --strip-producers \
	  -o $(PKG)/$(LEPTOS_OUTPUT_NAME).opt.wasm $(PKG)/$(LEPTOS_OUTPUT_NAME).wasm
	mv $(PKG)/$(LEPTOS_OUTPUT_NAME).opt.wasm $(PKG)/$(LEPTOS_OUTPUT_NAME).wasm
	$(MAKE) --no-print-directory finish-site

.PHONY: bindgen finish-site wasm-opt
wasm-opt:
	@if [ "$$(node -p 'require("./$(TOOLS)/node_modules/binaryen/package.json").version' 2>/dev/null)" != "$(BINARYEN_VERSION)" ]; then \
	  echo "installing wasm-opt (npm binaryen $(BINARYEN_VERSION))"; \
	  npm install --prefix $(TOOLS) --no-save --no-audit --no-fund --loglevel=error binaryen@$(BINARYEN_VERSION); fi

bindgen:
	@# A debug build must not inherit a release build's hashed files.
	rm -rf $(PKG)
	mkdir -p $(PKG)
	wasm-bindgen --target web --no-typescript $(BINDGEN_FLAGS) --out-dir $(PKG) --out-name $(LEPTOS_OUTPUT_NAME) $(WASM)
	@# Leptos' hydration script loads pkg/<name>.wasm (cargo-leptos renames it too).
	mv $(PKG)/$(LEPTOS_OUTPUT_NAME)_bg.wasm $(PKG)/$(LEPTOS_OUTPUT_NAME).wasm
	@# The design system, one file per area (style/NN-*.css), bundled in order.
	cat style/[0-9][0-9]-*.css > $(PKG)/$(LEPTOS_OUTPUT_NAME).css

# Names each file after its content (<name>.<16 hex of sha256>.<ext>, listed in
# pkg/hash.txt, which the server reads at start) so browsers may cache it for
# good, and writes .br and .gz copies for the server to send as they are.
finish-site:
	@cd $(PKG) && : > hash.txt.new && for ext in js wasm css; do \
	  file=$(LEPTOS_OUTPUT_NAME).$$ext; hash=$$(sha256sum $$file | cut -c1-16); \
	  hashed=$(LEPTOS_OUTPUT_NAME).$$hash.$$ext; mv $$file $$hashed; \
	  gzip -9 -k -f $$hashed; brotli -q 11 -k -f $$hashed; \
	  echo "$$ext: $$hash" >> hash.txt.new; \
	  printf '%-36s %9d raw %9d gzip %9d br\n' $$hashed $$(stat -c %s $$hashed $$hashed.gz $$hashed.br); \
	done && mv hash.txt.new hash.txt

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
