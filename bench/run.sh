#!/usr/bin/env bash
# Builds the workspace and runs every benchmark with its defaults (`npm run bench` calls this).
# Each script starts and removes its own nats-server, services and databases; a failing one does
# not stop the others, but makes this script exit non-zero.
set -uo pipefail
cd "$(dirname "$0")/.."

npx tsc -b || { echo "bench: build failed" >&2; exit 1; }

status=0
for script in verify replay propagation; do
  echo "== bench/${script}.mjs"
  node "bench/${script}.mjs" || { echo "bench: ${script} failed" >&2; status=1; }
done
exit "$status"
