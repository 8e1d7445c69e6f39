#!/usr/bin/env bash
# Builds the workspace, runs every benchmark with its defaults (`npm run bench` calls this), and
# prints one table of every figure beside its goal and baseline; the table and each bench's
# output go to bench/RESULTS.md. Each script starts and removes its own nats-server, services and
# databases; a failing one does not stop the others, but makes this script exit non-zero.
set -uo pipefail
cd "$(dirname "$0")/.."

npx tsc -b || { echo "bench: build failed" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
for script in http propagation replay memory verify client; do
  echo "== bench/${script}.mjs"
  args=()
  [ "$script" = replay ] && args=(--events 100000)
  node "bench/${script}.mjs" "${args[@]}" 2>&1 | tee "$out/${script}.out"
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "bench: ${script} failed" >&2; status=1; }
done
echo "== summary"
node bench/summary.mjs "$out" --results bench/RESULTS.md || status=1
exit "$status"
