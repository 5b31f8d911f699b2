# Faultline — the two commands that set everything up: `make run` and `make test`.
SWIFT ?= swift
BIN := .build/release/faultline
LITMUS ?= $(or $(FAULTLINE_LITMUS_DIR),../shared/litmus/linux)
export FAULTLINE_LITMUS_DIR := $(LITMUS)

.PHONY: all build release run test check corpus bench clean

all: release

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

# The main job: run the race catalogue against its expectations.
run: release
	$(BIN) check races/

# Every unit and end-to-end test, then the catalogue gate.
test: release
	$(SWIFT) test
	$(BIN) check races/

check: run

# All kernel litmus tests with per-file limits: verdict / unsupported / limit / crash counts.
corpus: release
	scripts/corpus.sh $(BIN)

clean:
	rm -rf .build
