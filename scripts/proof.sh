#!/usr/bin/env bash
# `npm run proof`: every harness of test/harness (determinism, chaos, BDD, metrics contract) into
# one proof bundle, then its one-screen summary. The bundle lands in $LLORCH_PROOF_DIR, default
# .proof_bundle/<UTC timestamp>-<git short sha>/. With LLAMA_SERVER_BIN set (a source-built
# llama-server, `llama-orch provision --config examples/llamacpp-source.yaml`), the determinism
# suite also compares engine builds.
set -uo pipefail
cd "$(dirname "$0")/.."
export LLORCH_PROOF_RUN_ID="${LLORCH_PROOF_RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)-$(git rev-parse --short HEAD 2>/dev/null || echo nogit)}"
npx tap --disable-coverage --timeout 900 test/harness/*/*.test.ts
rc=$?
node --import ./node_modules/@tapjs/typescript/dist/esm/import.mjs test/harness/summary.ts || rc=1
exit "$rc"
