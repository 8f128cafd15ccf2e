#!/usr/bin/env bash
# A real local SPaR cluster on 127.0.0.1: redis-server (membership), Azurite (grain state), 1 gpu + 2 cpu silos
# (`spar silo`), then a tiny run end to end through `spar run --cluster`. Everything stops when the script ends.
#   infra/cluster.sh                    tiny run, 1 iteration
#   infra/cluster.sh --iterations 2     extra arguments go to `spar run`
#   KEEP=1 infra/cluster.sh             leave the cluster up after the run, until Ctrl-C
#   CLUSTER=azure infra/cluster.sh      membership and reminders in Azurite's Table service instead of Redis
# Ports (override by environment): REDIS_PORT 6390, AZURITE_PORT 10010 (blobs), AZURITE_TABLE_PORT 10012, silos
# 11111-11113, gateways 30000-30002.
# Needs redis-server (Debian: apt-get install -y redis-server; not with CLUSTER=azure) and Azurite (npm ci in infra/).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
source "$here/env.sh"
redis_port="${REDIS_PORT:-6390}"
azurite_port="${AZURITE_PORT:-10010}"
azurite_table_port="${AZURITE_TABLE_PORT:-10012}"
mode="${CLUSTER:-redis}"
[ "$mode" = redis ] || [ "$mode" = azure ] || { echo "error: CLUSTER=$mode: give redis or azure" >&2; exit 2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/spar-cluster.XXXXXX")"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "cluster stopped; logs were in $work" >&2
}
trap cleanup EXIT

[ "$mode" = azure ] || command -v redis-server > /dev/null || { echo "error: redis-server not found (apt-get install -y redis-server)" >&2; exit 2; }
[ -x "$here/node_modules/.bin/azurite-blob" ] || { echo "error: Azurite not installed: run npm ci in infra/" >&2; exit 2; }

wait_port() { # host port what
  for _ in $(seq 1 150); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "error: $3 did not listen on $1:$2" >&2; exit 1
}

wait_ready() { # log what
  for _ in $(seq 1 600); do
    grep -q '^ready ' "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "error: $2 did not join; its log:" >&2; tail -20 "$1" >&2; exit 1
}

echo "building spar..." >&2
dotnet build "$repo/client/SparOrleans.Client.csproj" -c Release -v quiet -nologo > "$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
spar=(dotnet "$repo/client/bin/Release/net10.0/linux-x64/spar.dll")

"$here/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$azurite_port" --location "$work/azurite" \
  --skipApiVersionCheck --loose > "$work/azurite.log" 2>&1 &
pids+=($!)
wait_port 127.0.0.1 "$azurite_port" Azurite
if [ "$mode" = azure ]; then
  "$here/node_modules/.bin/azurite-table" --tableHost 127.0.0.1 --tablePort "$azurite_table_port" --location "$work/azurite" \
    --skipApiVersionCheck --loose > "$work/azurite-table.log" 2>&1 &
  pids+=($!)
  wait_port 127.0.0.1 "$azurite_table_port" "Azurite tables"
  cluster="azurite:$azurite_table_port"
else
  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no > "$work/redis.log" 2>&1 &
  pids+=($!)
  wait_port 127.0.0.1 "$redis_port" redis-server
  cluster="127.0.0.1:$redis_port"
fi
echo "membership on $cluster, grain state in Azurite blobs on 127.0.0.1:$azurite_port" >&2

roles=(gpu cpu cpu)
for i in 0 1 2; do
  "${spar[@]}" silo --role "${roles[$i]}" --cluster "$cluster" --storage "azurite:$azurite_port" \
    --port $((11111 + i)) --gateway $((30000 + i)) > "$work/silo-$i.log" 2>&1 &
  pids+=($!)
done
for i in 0 1 2; do wait_ready "$work/silo-$i.log" "silo $i (${roles[$i]})"; done
echo "silos up: gpu on 11111, cpu on 11112 and 11113" >&2

"${spar[@]}" run --cluster "$cluster" --preset tiny --iterations 1 --run-id "cluster-$(date +%Y%m%d-%H%M%S)" \
  --home "$work/home" "$@"

if [ "${KEEP:-0}" = 1 ]; then
  echo "cluster left running (--cluster $cluster --storage azurite:$azurite_port); Ctrl-C stops it" >&2
  wait "${pids[0]}"
fi
