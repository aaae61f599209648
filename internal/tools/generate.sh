#!/bin/sh
# Runs the pinned mdatagen on a component's metadata.yaml (go generate):
#   sh internal/tools/generate.sh [DIR]   DIR: the component's folder, default the repository root
# mdatagen names the package of the tests it generates after the folder that
# holds metadata.yaml, so the root (whose folder may have any name in a
# checkout) is run through a link named like its package.
set -eu
cd "$(dirname "$0")/../.."
go -C internal/tools build -o ../../bin/mdatagen go.opentelemetry.io/collector/cmd/mdatagen
dir=${1:-.}
if [ "$dir" != . ]; then
	./bin/mdatagen "$dir/metadata.yaml"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ln -s "$(pwd)" "$tmp/auditprocessor"
./bin/mdatagen "$tmp/auditprocessor/metadata.yaml"
