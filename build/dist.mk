# Building, running and testing the otelcol-audit distribution.
#
# The top-level Makefile includes this file; it also works on its own, from
# the repository root: make -f build/dist.mk dist
#
#   make dist      install the pinned OCB into ./bin and build ./dist/otelcol-audit
#                  (rebuilt only when the processor's sources or the manifest change)
#   make dist-gateway
#                  build ./dist/gateway/otelcol-audit-gateway, the front tier of a
#                  gateway (builder-config-gateway.yaml: OTLP in, load_balancing out,
#                  no audit processor); only TestGateway and a gateway tier need it
#   make run       build if needed, run the collector on examples/collector.yaml
#   make demo      build if needed, run the demo (e2e/cmd/auditdemo) against it; it
#                  records what the collector received and exported in $(DEMO_RECORDING);
#                  DEMO_FORMAT=ocsf shows the events as OCSF API Activity events
#   make test-e2e  build if needed, run the end-to-end test in e2e/
#   make image     build the container image (Dockerfile) with docker or podman
#   make victoria-logs
#                  install the pinned VictoriaLogs into ./bin: the log store that
#                  TestVictoriaLogs (e2e/victorialogs_test.go) sends events to and
#                  verifies from
#
# Only Go is needed: OCB and every component are fetched from the Go module proxy.

# OCB release; builder-config.yaml says which module versions the distribution uses and why.
OCB_VERSION ?= v0.164.0
OCB         := bin/builder
DIST_BIN    := dist/otelcol-audit
GATEWAY_BIN := dist/gateway/otelcol-audit-gateway
DIST_CONFIG ?= examples/collector.yaml
# Where make demo records OTLP JSON for auditcatalog coverage (input/, output/).
DEMO_RECORDING ?= bin/demo-recording
# The connector's event.format in make demo: provider, or ocsf (make demo DEMO_FORMAT=ocsf).
DEMO_FORMAT ?= provider

# What the binary is built from: the manifest and the processor module's
# non-test Go files, YAML (embedded catalogs, metadata.yaml) and go.mod/go.sum.
# The distribution, the e2e module, the tools module and the examples do not
# go into the binary; nor do the deployment files and the gateway's manifest. This errs on the safe side: a change to a package the
# processor does not import (a command under cmd/, say) rebuilds too, which
# takes seconds once the caches are warm.
DIST_SOURCES := builder-config.yaml $(shell find . \
	\( -path ./dist -o -path ./bin -o -path ./e2e -o -path ./bench -o -path ./.git -o -path ./internal/tools \
	   -o -path ./examples -o -path ./deploy -o -name builder-config-gateway.yaml -o -name testdata \) -prune -o -type f \
	\( -name '*.go' ! -name '*_test.go' -o -name '*.yaml' -o -name '*.yml' -o -name go.mod -o -name go.sum \) -print)

# VictoriaLogs (Apache-2.0), from the Go module proxy like OCB. A cold build
# takes about 2 minutes on two shared cores (75 CPU-seconds, 520 MB peak RSS,
# 170 MB of build cache); then it is not built again.
VICTORIALOGS_VERSION ?= v1.52.2
VICTORIALOGS         := bin/victoria-logs

.PHONY: dist dist-gateway run demo test-e2e clean-dist victoria-logs

dist: $(DIST_BIN)
dist-gateway: $(GATEWAY_BIN)
victoria-logs: $(VICTORIALOGS)

# build/dist.mk is a prerequisite so that changing VICTORIALOGS_VERSION reinstalls it.
$(VICTORIALOGS): build/dist.mk
	GOBIN=$(CURDIR)/bin go install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$(VICTORIALOGS_VERSION)
	@touch $@

# build/dist.mk is a prerequisite so that changing OCB_VERSION reinstalls OCB.
$(OCB): build/dist.mk
	GOBIN=$(CURDIR)/bin go install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)
	@touch $@

$(DIST_BIN): $(OCB) $(DIST_SOURCES)
	$(OCB) --config=builder-config.yaml
	@touch $@

# Nothing of this repository is in the gateway: only its manifest rebuilds it.
# OCB makes output_path's last directory only, not ./dist above it.
$(GATEWAY_BIN): $(OCB) builder-config-gateway.yaml
	@mkdir -p $(dir $(GATEWAY_BIN))
	$(OCB) --config=builder-config-gateway.yaml
	@touch $@

# The example keeps its sending queue in AUDIT_QUEUE_DIR (default
# $HOME/.local/state/otelcol-audit/queue); make run keeps it in ./bin/queue unless set.
run: $(DIST_BIN)
	AUDIT_QUEUE_DIR=$${AUDIT_QUEUE_DIR:-$(CURDIR)/bin/queue} $(DIST_BIN) --config=$(DIST_CONFIG)

demo: $(DIST_BIN)
	cd e2e && go run ./cmd/auditdemo -collector $(CURDIR)/$(DIST_BIN) -record $(abspath $(DEMO_RECORDING)) -format $(DEMO_FORMAT)

# e2e/ is a module of its own, so the root's go vet does not cover it.
# TestGateway builds dist-gateway itself when it runs (a cold build of the
# gateway adds minutes: see builder-config-gateway.yaml); AUDIT_GATEWAY_COLLECTOR
# names another binary.
# -count=1: the test runs a binary that go test's cache knows nothing about.
test-e2e: $(DIST_BIN) $(VICTORIALOGS)
	cd e2e && go vet ./...
	cd e2e && AUDIT_COLLECTOR=$(CURDIR)/$(DIST_BIN) AUDIT_VICTORIALOGS=$(CURDIR)/$(VICTORIALOGS) go test -count=1 -timeout 30m ./...

clean-dist:
	rm -rf dist $(OCB) $(VICTORIALOGS)

# make image: the container image of the distribution (Dockerfile), with
# docker or else podman; IMAGE names it. The image's build runs `make dist`
# itself, from the Go module proxy: it needs no ./dist here.
IMAGE          ?= otelcol-audit:0.1.0
CONTAINER_TOOL ?= $(shell command -v docker 2>/dev/null || command -v podman 2>/dev/null)

.PHONY: image
image:
	@test -n "$(CONTAINER_TOOL)" || { echo "make image needs docker or podman (or CONTAINER_TOOL=...)" >&2; exit 1; }
	$(CONTAINER_TOOL) build -t $(IMAGE) .
