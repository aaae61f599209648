# Benchmarks of the audit processor (bench/, a Go module of its own, so that
# contrib's OTTL never enters the processor's go.mod). No benchmark runs in
# make test; make test-bench, which does run there, only vets and tests.
#
#   make test-bench     (part of make test) go vet on the whole bench module
#                       and the load generator's tests, which need no
#                       collector: bench/cmd/loadgen runs its collectors with
#                       e2e/harness (bench requires the e2e module), so a
#                       change to the harness that breaks it fails make test
#   make bench          in-process benchmarks: ours, the pdata floor and the
#                       OTTL peer on one input, the matcher and compile times
#                       at several catalog sizes; prints benchstat's summary
#                       and the table of ns/record, allocs/record and ratios,
#                       and redraws bench/ns-per-record.png (see BENCHMARKS.md)
#   make bench-profile  CPU profile of the processor on the benchmark input
#   make bench-dists    builds the benchmark's collectors: otelcol-audit (make
#                       dist), otelcol-floor (bench/floor-dist: the same release
#                       with bench/floorprocessor) and otelcol-ottl
#                       (bench/ottl-dist: contrib transform and filter at
#                       v0.161.0, built with the pinned OCB v0.161.0)
#   make bench-e2e      end to end: builds them and runs each without any
#                       processor, with the audit processor (and connector),
#                       the floor processor (and connector) and the OTTL
#                       peer under the same fixed-rate OTLP load on loopback
#                       (bench/cmd/loadgen):
#                       CPU per 100k spans, overhead, highest sustained rate;
#                       the table goes to bench/results/e2e.md, the plot to
#                       bench/e2e-cpu-per-span.png (cmd/benchtable -e2e)
#
# Only Go is needed: benchstat is pinned by the bench module's tool directive.
# Raw results go to bench/results/ (ignored by git). A run takes about 5
# minutes on 2 cores: BENCH_COUNT and BENCH_TIME trade time for noise.
# bench-e2e takes about 10 minutes with the defaults below (up to 8 steps x 8
# configurations x E2E_STEP; a configuration stops at its first step not
# sustained); E2E_REPEAT=3 gives medians of three runs. E2E_CONFIGS picks
# others (audit-default, without-tagged, audit-tagged, ...); E2E_FLAGS passes
# more flags: -protocol grpc, -batch ... (go run ./cmd/loadgen -h in bench/).
# The first bench-dists builds two more collectors (several minutes each on
# 2 cores; later runs rebuild only what changed).

BENCH_COUNT ?= 5
BENCH_TIME  ?= 20x
# The floor and ours-core (nothing dropped, three fields) are compared on
# longer runs of their own: 20 iterations of a sub-millisecond benchmark
# are mostly its cold start (the first one to run paid for it).
BENCH_CORE_TIME ?= 300x
BENCH_OUT   := bench/results

E2E_RATES  ?= 10000,20000,40000,80000,160000,240000,320000,400000
E2E_STEP   ?= 10s
E2E_REPEAT ?= 1
E2E_CONFIGS ?= without,audit,audit-core,audit-connector,floor,floor-connector,ottl-without,ottl
E2E_FLAGS  ?=

# The peer's collector: contrib's transform and filter processors build here
# only at v0.161.0, so its distribution is built with that release's OCB,
# installed beside the distribution's own (bin/builder, build/dist.mk).
OCB_PEER_VERSION := v0.161.0
OCB_PEER  := bin/ocb-$(OCB_PEER_VERSION)/builder
OTTL_BIN  := bench/ottl-dist/build/otelcol-ottl
FLOOR_BIN := bench/floor-dist/build/otelcol-floor

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

.PHONY: bench bench-profile bench-e2e bench-dists test-bench

test-bench:
	cd bench && go vet ./...
	cd bench && go test ./cmd/loadgen/...

bench:
	@mkdir -p $(BENCH_OUT)
	$(call tee_status,results/fast.txt,go test -run '^$$' -bench . -benchmem -benchtime $(BENCH_TIME) -count $(BENCH_COUNT) .)
	@echo "--- slow benchmarks, once each: the peer on 10,000 routes, the 10,000-route shared-prefix catalog"
	$(call tee_status,results/slow.txt,go test -run '^$$' -bench 'Traces|Compile|Matcher' -bench.slow -benchmem -benchtime 1x -count 1 -timeout 30m .)
	@echo "--- the floor and ours-core again, $(BENCH_CORE_TIME) each (these runs replace the ones above in the table)"
	$(call tee_status,results/core.txt,go test -run '^$$' -bench '(Traces|Logs)/contender=(floor|ours-core)' -benchmem -benchtime $(BENCH_CORE_TIME) -count $(BENCH_COUNT) .)
	$(call tee_status,results/benchstat.txt,go tool benchstat results/fast.txt && go tool benchstat results/slow.txt && go tool benchstat results/core.txt)
	$(call tee_status,results/table.md,go run ./cmd/benchtable -png ns-per-record.png results/fast.txt results/slow.txt results/core.txt)

bench-profile:
	@mkdir -p $(BENCH_OUT)
	cd bench && go test -run '^$$' -bench 'Traces/contender=ours/catalog=builtin$$' -benchtime 3000x -count 1 \
	  -cpuprofile results/ours.cpu -o results/bench.test .
	$(call tee_status,results/ours-top.txt,go tool pprof -top -cum -nodecount 45 -focus processTraces results/bench.test results/ours.cpu)

$(OCB_PEER): build/bench.mk
	GOBIN=$(CURDIR)/bin/ocb-$(OCB_PEER_VERSION) go install go.opentelemetry.io/collector/cmd/builder@$(OCB_PEER_VERSION)
	@touch $@

$(OTTL_BIN): $(OCB_PEER) bench/ottl-dist/builder-config.yaml
	$(OCB_PEER) --config=bench/ottl-dist/builder-config.yaml
	@touch $@

# The floor collector is of the distribution's release: the same OCB.
$(FLOOR_BIN): $(OCB) bench/floor-dist/builder-config.yaml $(wildcard bench/floorprocessor/*.go bench/floorprocessor/floorconnector/*.go) bench/floorprocessor/go.mod bench/floorprocessor/go.sum
	$(OCB) --config=bench/floor-dist/builder-config.yaml
	@touch $@

bench-dists: $(DIST_BIN) $(FLOOR_BIN) $(OTTL_BIN)

# go vet first: the load generator is not covered by the root module's vet.
bench-e2e: bench-dists
	@mkdir -p $(BENCH_OUT)
	cd bench && go vet ./cmd/loadgen ./cmd/benchtable
	cd bench && go run ./cmd/loadgen -collector $(CURDIR)/$(DIST_BIN) -floor-collector $(CURDIR)/$(FLOOR_BIN) \
	  -ottl-collector $(CURDIR)/$(OTTL_BIN) -configs $(E2E_CONFIGS) -rates $(E2E_RATES) \
	  -step $(E2E_STEP) -repeat $(E2E_REPEAT) -out results/e2e.md -csv results/e2e.csv $(E2E_FLAGS)
	cd bench && go run ./cmd/benchtable -e2e results/e2e.csv -png e2e-cpu-per-span.png
