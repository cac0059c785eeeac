# gflab's everyday commands.
#   make e2e    images, the 2x2 lab, the example suite, teardown (the main job)
#   make test   unit and integration tests (needs the Docker engine for the lab's tests)
#   make check  formatting, clippy, tests
# Override on the command line: make up TOPOLOGY=topologies/6x2.toml LAB=6x2

CARGO    ?= cargo
TARGET   ?= $(or $(CARGO_TARGET_DIR),target)
GFLAB    := $(TARGET)/debug/gflab
AGENT    := $(TARGET)/x86_64-unknown-linux-gnu/release/gflab-agent
TOPOLOGY ?= topologies/2x2.toml
LAB      ?= 2x2
SUITE    ?= example

.PHONY: build images up test e2e down check realhosts

## build: the workspace, and the static agent that goes into nodes and onto real hosts
build:
	$(CARGO) build --workspace
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --release -p gflab-agent \
		--target x86_64-unknown-linux-gnu

## images: the base, server and client images (offline; a no-op when up to date)
images: build
	$(GFLAB) images

## up: the lab described by $(TOPOLOGY)
up: build
	$(GFLAB) up $(TOPOLOGY) --name $(LAB)

## test: unit and integration tests of every crate
test: build
	$(CARGO) test --workspace

## e2e: images, up, the $(SUITE) suite, down (down also when the suite fails)
e2e: images
	$(GFLAB) up $(TOPOLOGY) --name $(LAB)
	$(GFLAB) test --lab $(LAB) -d $(SUITE); rc=$$?; $(GFLAB) down $(LAB); exit $$rc

## down: tear down the lab $(LAB)
down:
	$(GFLAB) down $(LAB)

## check: formatting, lints, tests
check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(MAKE) test

## realhosts: the example suite on network-namespace hosts over ssh (root; no Docker)
realhosts: build
	GFLAB=$(abspath $(GFLAB)) GFLAB_AGENT_BIN=$(abspath $(AGENT)) .ci/realhosts/run.sh
