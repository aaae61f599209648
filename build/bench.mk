# Benchmarks of the audit processor (bench/, a Go module of its own, so that
# contrib's OTTL never enters the processor's go.mod). Not part of make test.
#
#   make bench          in-process benchmarks: ours, the pdata floor and the
#                       OTTL peer on one input, the matcher and compile times
#                       at several catalog sizes; prints benchstat's summary
#                       and the table of ns/record, allocs/record and ratios,
#                       and redraws bench/ns-per-record.png (see BENCHMARKS.md)
#   make bench-profile  CPU profile of the processor on the benchmark input
#   make bench-e2e      not implemented yet (see BENCHMARKS.md)
#
# Only Go is needed: benchstat is pinned by the bench module's tool directive.
# Raw results go to bench/results/ (ignored by git). A run takes about 5
# minutes on 2 cores: BENCH_COUNT and BENCH_TIME trade time for noise.

BENCH_COUNT ?= 5
BENCH_TIME  ?= 20x
BENCH_OUT   := bench/results

.PHONY: bench bench-profile bench-e2e

bench:
	@mkdir -p $(BENCH_OUT)
	cd bench && go test -run '^$$' -bench . -benchmem -benchtime $(BENCH_TIME) -count $(BENCH_COUNT) . | tee results/fast.txt
	@echo "--- slow benchmarks, once each: the peer on 10,000 routes, the 10,000-route shared-prefix catalog"
	cd bench && go test -run '^$$' -bench 'Traces|Compile|Matcher' -bench.slow -benchmem -benchtime 1x -count 1 -timeout 30m . | tee results/slow.txt
	cd bench && { go tool benchstat results/fast.txt; go tool benchstat results/slow.txt; } | tee results/benchstat.txt
	cd bench && go run ./cmd/benchtable -png ns-per-record.png results/fast.txt results/slow.txt | tee results/table.md

bench-profile:
	@mkdir -p $(BENCH_OUT)
	cd bench && go test -run '^$$' -bench 'Traces/contender=ours/catalog=builtin$$' -benchtime 3000x -count 1 \
	  -cpuprofile results/ours.cpu -o results/bench.test .
	cd bench && go tool pprof -top -cum -nodecount 45 -focus processTraces results/bench.test results/ours.cpu | tee results/ours-top.txt

bench-e2e:
	@echo "bench-e2e: not implemented yet (see BENCHMARKS.md, 'End to end')" >&2; exit 1
