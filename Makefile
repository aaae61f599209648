# auditprocessor: the two commands a newcomer needs are `make demo` and `make test`.

GO ?= go

.PHONY: all test test-unit generate check-generated catalogs fmt vet lint
all: test

# make test: unit tests with the race detector, then the end-to-end test
# through a real collector (see build/dist.mk), then go vet and the load
# generator's tests in bench/, which shares e2e's harness (build/bench.mk).
test: vet test-unit test-e2e test-bench

test-unit:
	$(GO) test -race -count=1 -timeout 30m ./...

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './dist/*')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Regenerate internal/metadata, the lifecycle tests and documentation.md
# from metadata.yaml with the pinned mdatagen (internal/tools).
generate:
	$(GO) generate ./...

# make catalogs: imports the built-in catalogs (catalog/builtin/*.yaml) again
# from the provider's activity-tracking pages, with the lines of
# catalog/gen.go. The repository does not hold the pages: PAGES is their
# folder, by default ../shared/seeds beside the repository.
# TestBuiltinsAreImported (cmd/auditcatalog) checks the committed catalogs
# against the same pages, and skips when it finds none.
PAGES ?= ../shared/seeds
catalogs:
	@test -d "$(PAGES)" || { echo "make catalogs needs the provider's activity-tracking pages (the *-at-events.md files named in catalog/gen.go) in $(abspath $(PAGES)): set PAGES=DIR" >&2; exit 1; }
	AUDIT_CATALOG_PAGES="$(abspath $(PAGES))" $(GO) generate -tags catalogs ./catalog

# Fails when the committed generated code is not what metadata.yaml gives.
check-generated: generate
	git diff --exit-code -- internal/metadata internal/metadatatest generated_component_test.go generated_package_test.go documentation.md auditconnector/internal auditconnector/generated_component_test.go auditconnector/generated_package_test.go auditconnector/documentation.md extension/mtlsauthextension/internal extension/mtlsauthextension/generated_component_test.go extension/mtlsauthextension/generated_package_test.go

include build/dist.mk

# make fuzz: runs every fuzz target for FUZZTIME each (make test replays
# their seed corpora: the f.Add seeds and testdata/fuzz). TestFuzzTargetsListed
# (makefile_test.go) fails when FUZZ_TARGETS misses one or names one that is gone.
FUZZTIME ?= 30s
FUZZ_TARGETS := .:FuzzConfig .:FuzzProcess .:FuzzServeMuxDifferential ./catalog:FuzzMatch ./catalog:FuzzParseCompile ./internal/httppath:FuzzExtract ./cmd/auditcatalog:FuzzImport ./cmd/auditcatalog:FuzzImportOpenAPI ./internal/integrity:FuzzCanonical ./internal/integrity:FuzzReaderAgrees ./cmd/auditcatalog:FuzzVerifyRead ./auditconnector:FuzzOCSF
.PHONY: fuzz
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; echo "== $$name ($$pkg)"; \
	  $(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	done
-include build/bench.mk
