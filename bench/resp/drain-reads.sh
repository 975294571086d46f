#!/usr/bin/env bash
# Reads during a drain, with real processes: 3 nodes (defaults: N=3, R=W=2) on loopback, KEYS keys
# loaded with redis-benchmark, then 10 redis-benchmark clients reading at the default consistency
# while `shoal drain n3` runs. Prints the drain's own summary line, its wall time, the reads that
# answered CLUSTERDOWN and the read rate. Needs redis-benchmark (redis-tools) and a build
# (`npm run build`).
#
#   bash bench/resp/drain-reads.sh [KEYS=200000] [BASE_PORT=39510] [SHOAL=packages/server/bin/shoal.js]
set -u
KEYS=${1:-200000}
P=${2:-39510}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
S=${3:-$ROOT/packages/server/bin/shoal.js}
DIR=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
start() { # name port [seed]
  node "$S" start --name "$1" --port "$2" --data-dir "$DIR/$1" --log-format json ${3:+--seeds $3} > "$DIR/$1.log" 2>&1 &
  PIDS+=($!)
}
start n1 "$P"; sleep 1
start n2 $((P + 10)) 127.0.0.1:$((P + 1)); start n3 $((P + 20)) 127.0.0.1:$((P + 1))
for _ in $(seq 1 60); do
  [ "$(grep -l '"members":3' "$DIR"/n*.log 2>/dev/null | wc -l)" = 3 ] && break
  sleep 1
done
[ "$(grep -l '"members":3' "$DIR"/n*.log 2>/dev/null | wc -l)" = 3 ] || { echo "the 3 nodes did not form a cluster within 60 s; logs in $DIR" >&2; trap - EXIT; exit 1; }
sleep 3
redis-benchmark -p $((P + 2)) --cluster -t set -r "$KEYS" -n $((KEYS * 3)) -c 20 -P 16 -d 100 -q > "$DIR/load.out" 2>&1
redis-benchmark -p $((P + 2)) --cluster -t get -r "$KEYS" -n 100000000 -c 10 -q > "$DIR/get.out" 2>&1 &
BENCH=$!
PIDS+=("$BENCH")
sleep 3
t0=$(date +%s.%N)
timeout 900 node "$S" drain n3 --node 127.0.0.1:"$P" 2>&1 | tail -1
t1=$(date +%s.%N)
echo "drain wall seconds: $(echo "$t1 - $t0" | bc)"
sleep 2
kill "$BENCH"
echo "reads answered CLUSTERDOWN during the drain: $(grep -o 'CLUSTERDOWN' "$DIR/get.out" | wc -l)"
tr '\r' '\n' < "$DIR/get.out" | grep 'overall' | tail -1
