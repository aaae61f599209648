#!/bin/sh
# Runs the pinned mdatagen on metadata.yaml (go generate, from the repository root).
# mdatagen names the package of the tests it generates after the folder that
# holds metadata.yaml, so it is run through a link named like the package,
# whatever the checkout's folder is called.
set -eu
go -C internal/tools build -o ../../bin/mdatagen go.opentelemetry.io/collector/cmd/mdatagen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ln -s "$(pwd)" "$tmp/auditprocessor"
./bin/mdatagen "$tmp/auditprocessor/metadata.yaml"
