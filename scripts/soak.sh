#!/usr/bin/env bash
# Soak test of issue 4's compaction acceptance: stream sensors records at a
# steady rate for a while with 2-second lake commits and scheduled
# maintenance, then check that compaction leaves at most 2 data files per
# day partition and that query results are the same before and after it.
#
#   scripts/soak.sh [MINUTES] [RATE]        (defaults: 20 minutes, 2000 records/s)
set -euo pipefail
minutes=${1:-20}
rate=${2:-2000}
bin=${BIN:-./bin/streamlake}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
records=$((minutes * 60 * rate))
port=$((20000 + RANDOM % 20000))
cat > "$dir/soak.yml" <<YML
etl:
  interval: 2s
  maintenance: {interval: 1m, snapshot_retention: 1m, retain_last: 5, orphan_grace: 10m}
metrics:
  listen: ""
YML
sl() { "$bin" --data-dir "$dir" --config "$dir/soak.yml" --log-level warn "$@"; }
# Background processes exec, so that $! is streamlake itself and SIGTERM
# reaches it (a function in the background is a subshell that would pass
# on nothing, leaving run loading while the checks below run).
slbg() { exec "$bin" --data-dir "$dir" --config "$dir/soak.yml" --log-level warn "$@"; }
slbg broker --listen 127.0.0.1:$port &
sleep 1
slbg run --brokers 127.0.0.1:$port --topics sensors &
run=$!
start=$(date +%s)
sl produce --brokers 127.0.0.1:$port --topic sensors --dataset sensors --records "$records" --rate "$rate"
sleep 10
kill -TERM $run; wait $run || true
echo "streamed $records records in $(( $(date +%s) - start )) s"
q="SELECT count(*), count(DISTINCT id), round(sum(temperature), 2), min(ts), max(ts) FROM lake.sensors"
before=$(sl query --format csv "$q")
echo "before: $before"
compacted=$(sl compact sensors --format csv)
echo "$compacted"
after=$(sl query --format csv "$q")
echo "after:  $after"
days=$(sl query --format csv "SELECT count(DISTINCT date_trunc('day', ts)) FROM lake.sensors" | tail -1)
files_after=$(echo "$compacted" | awk -F, '$1 == "sensors" { print $3 }')
echo "day partitions: $days, data files after compaction: $files_after"
[ "$before" = "$after" ] || { echo "FAIL: results changed by compaction"; exit 1; }
[ "$files_after" -le $((2 * days)) ] || { echo "FAIL: more than 2 files per day partition"; exit 1; }
echo "$before" | tail -1 | awk -F, -v n="$records" '$1 != n || $2 != n { print "FAIL: " $1 " rows, " $2 " distinct ids, want " n; exit 1 }'
echo PASS
