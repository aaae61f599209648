# Benchmarks of the audit processor (bench/, a Go module of its own, so that
# contrib's OTTL never enters the processor's go.mod). Not part of make test.
#
#   make bench          in-process benchmarks: ours, the pdata floor and the
#                       OTTL peer on one input, the matcher and compile times
#                       at several catalog sizes; prints benchstat's summary
#                       and the table of ns/record, allocs/record and ratios,
#                       and redraws bench/ns-per-record.png (see BENCHMARKS.md)
#   make bench-profile  CPU profile of the processor on the benchmark input
#   make bench-e2e      end to end: builds the distribution (make dist) and runs
#                       it with and without the audit processor under the same
#                       fixed-rate OTLP load on loopback (bench/cmd/loadgen):
#                       CPU per 100k spans, overhead, highest sustained rate;
#                       the table also goes to bench/results/e2e.md
#
# Only Go is needed: benchstat is pinned by the bench module's tool directive.
# Raw results go to bench/results/ (ignored by git). A run takes about 5
# minutes on 2 cores: BENCH_COUNT and BENCH_TIME trade time for noise.
# bench-e2e takes about 8 minutes with the defaults below (8 steps x 5
# configurations x E2E_STEP: without, audit, audit-default and the pre-tagged
# pair that isolates the processor's own work); E2E_REPEAT=3 gives medians of
# three runs (about 25 minutes). E2E_FLAGS passes more flags: -configs, -protocol grpc, -batch ...
# (go run ./cmd/loadgen -h in bench/).

BENCH_COUNT ?= 5
BENCH_TIME  ?= 20x
BENCH_OUT   := bench/results

E2E_RATES  ?= 10000,20000,40000,80000,160000,240000,320000,400000
E2E_STEP   ?= 10s
E2E_REPEAT ?= 1
E2E_FLAGS  ?=

# bench-e2e needs the distribution's rule: the top Makefile includes
# build/dist.mk before this file; on its own (make -f build/bench.mk), include it.
ifeq ($(origin DIST_BIN),undefined)
include build/dist.mk
endif

# $(call tee_status,FILE,COMMAND) runs COMMAND (in bench/), shows its output
# and writes it to FILE, and fails when COMMAND fails: make runs recipes with
# /bin/sh, which has no pipefail, so a plain `COMMAND | tee FILE` would hide
# the status.
tee_status = cd bench && { $(2); echo $$? > $(1).status; } | tee $(1); \
	status=$$(cat $(1).status); rm -f $(1).status; exit $${status:-1}

.PHONY: bench bench-profile bench-e2e

bench:
	@mkdir -p $(BENCH_OUT)
	$(call tee_status,results/fast.txt,go test -run '^$$' -bench . -benchmem -benchtime $(BENCH_TIME) -count $(BENCH_COUNT) .)
	@echo "--- slow benchmarks, once each: the peer on 10,000 routes, the 10,000-route shared-prefix catalog"
	$(call tee_status,results/slow.txt,go test -run '^$$' -bench 'Traces|Compile|Matcher' -bench.slow -benchmem -benchtime 1x -count 1 -timeout 30m .)
	$(call tee_status,results/benchstat.txt,go tool benchstat results/fast.txt && go tool benchstat results/slow.txt)
	$(call tee_status,results/table.md,go run ./cmd/benchtable -png ns-per-record.png results/fast.txt results/slow.txt)

bench-profile:
	@mkdir -p $(BENCH_OUT)
	cd bench && go test -run '^$$' -bench 'Traces/contender=ours/catalog=builtin$$' -benchtime 3000x -count 1 \
	  -cpuprofile results/ours.cpu -o results/bench.test .
	$(call tee_status,results/ours-top.txt,go tool pprof -top -cum -nodecount 45 -focus processTraces results/bench.test results/ours.cpu)

# go vet first: the load generator is not covered by the root module's vet.
bench-e2e: $(DIST_BIN)
	@mkdir -p $(BENCH_OUT)
	cd bench && go vet ./cmd/loadgen
	cd bench && go run ./cmd/loadgen -collector $(CURDIR)/$(DIST_BIN) -rates $(E2E_RATES) \
	  -step $(E2E_STEP) -repeat $(E2E_REPEAT) -out results/e2e.md $(E2E_FLAGS)
