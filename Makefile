# Faultline — the two commands that set everything up: `make run` and `make test`.
SWIFT ?= swift
BIN := .build/release/faultline
BENCH := .build/release/faultline-bench
LITMUS ?= $(or $(FAULTLINE_LITMUS_DIR),../shared/litmus/linux)
export FAULTLINE_LITMUS_DIR := $(LITMUS)

.PHONY: all build release run test stress check corpus bench fuzz clean

all: release

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

# The main job: run the race catalogue against its expectations.
run: release
	$(BIN) check races/

# Every unit and end-to-end test (front end, machine, explorer incl. the DPOR-vs-DFS property
# test, CLI goldens, the kernel litmus corpus verdicts), then the catalogue gate: every race in
# every configuration against its expectations, and the benchmark races of Tests/Bench against theirs
# (JUnit report in .build/catalogue.xml).
test: release
	$(SWIFT) test --disable-swift-testing
	$(BIN) check races/ Tests/Bench/nfault-pte-alloc.litmus --jobs 2 --junit .build/catalogue.xml

# The slow half of the bounds regression suite (Tests/FaultlineCLITests/BoundsTests.swift): --timeout
# for every strategy with --jobs 1 and 2, the macro and include bombs; make test runs the fast half.
stress: release
	FAULTLINE_STRESS=1 $(SWIFT) test --disable-swift-testing --filter BoundsTests

check: run

# All kernel litmus tests with per-file limits: verdict / unsupported / limit / crash counts.
corpus: release
	scripts/corpus.sh $(BIN)

# Measurements (not a test): docs/benchmarks.md, one row per race configuration and litmus group.
bench: release
	scripts/bench.sh $(BENCH) docs/benchmarks.md

# Coverage-guided fuzzing of the front end and a bounded exploration (libFuzzer, `swiftc
# -sanitize=fuzzer`; not part of `make test`): builds .build/fuzz/faultline-fuzz and runs it for
# FUZZ_SECONDS (default 600), seeded from races/ and the kernel litmus corpus. Crashes land in
# .build/fuzz/crashes/; `scripts/fuzz.sh run FILE` replays one.
fuzz:
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),600) nice -n 19 scripts/fuzz.sh

clean:
	rm -rf .build
