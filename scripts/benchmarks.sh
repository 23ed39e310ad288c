#!/usr/bin/env bash
# Regenerates BENCHMARKS.md from the benchmarks' own output: runs the Go benchmarks
# (internal/bench), the 10-minute bounded load run (scripts/load.sh) and renders the file with
# cmd/benchreport, against internal/bench/testdata/before.txt (the benchmarks before issue 14).
# Loopback only. Takes about 15 minutes on 2 cores (measured: 40 s, 4 min, 10 min load).
#
#   scripts/benchmarks.sh              everything
#   SKIP_LOAD=1 scripts/benchmarks.sh  keep the last load run's output (testdata/load.txt)
#
# BENCHTIME (default 200x) applies to the per-operation benchmarks; the ones over 10,000
# records (names with List or 10k) run SLOW_BENCHTIME (default 1x: one run is already 10,000
# tables, and BulkPush10k takes about 4 minutes) times.
set -euo pipefail
cd "$(dirname "$0")/.."
data=internal/bench/testdata
after=$data/after.txt
{
	nice go test -run '^$' -bench . -skip 'List|10k' -benchtime "${BENCHTIME:-200x}" -count 1 ./internal/bench/
	nice go test -run '^$' -bench 'List|10k' -benchtime "${SLOW_BENCHTIME:-1x}" -count 1 ./internal/bench/
} | tee "$after"
if [ -z "${SKIP_LOAD:-}" ]; then
	scripts/load.sh 10m "$data/load.txt"
fi
go run ./cmd/benchreport -before "$data/before.txt" -after "$after" -load "$data/load.txt" > BENCHMARKS.md
echo "BENCHMARKS.md regenerated"
