#!/usr/bin/env bash
# The bounded memory-flatness load run of BENCHMARKS.md: the real server on loopback with the
# lakeFS stand-in and a SQL remote, driven by cmd/loadgen (64 clients mixing push, pull and
# the tables listing). Prints loadgen's result with the server's resident memory and
# goroutines after the first minute and at the end (also those outside idle pooled
# connections, from the goroutine profile on the server's admin listener), and fails when
# memory grew by more than 50 MB or the goroutines outside the pools changed. Loopback only,
# bounded in time.
#
#   scripts/load.sh [duration] [output file]     (defaults: 10m, internal/bench/testdata/load.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10m}
out=${2:-internal/bench/testdata/load.txt}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/loadgen" ./cmd/loadgen
mkdir -p "$(dirname "$out")"
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
ICEBERG_REMOTES_LOAD_DURATION=$duration ICEBERG_REMOTES_LOADGEN=$bin/loadgen ICEBERG_REMOTES_LOAD_OUT=$out \
	nice go test -count 1 -run '^TestLoad$' -timeout "$(( ${duration%m} + 15 ))m" -v ./internal/bench/ | grep -v '^=== RUN'
cat "$out"
