#!/usr/bin/env bash
# Runs every test of the workspace. The end-to-end tests use the real embedding model, which
# scripts/fetch-model.sh installs (called here, idempotent). The orchestrator's tests use a
# real Redis, which scripts/redis.sh installs and starts (idempotent); LIGHTRAG_TEST_SERVICES=1
# tells tests that the services are up, so a test whose server does not answer fails.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/fetch-model.sh
scripts/redis.sh start
scripts/promtool.sh  # the server's metrics test runs `promtool check metrics`
export LIGHTRAG_TEST_SERVICES=1
export LIGHTRAG_TEST_REDIS_URL="$(scripts/redis.sh url)"
cargo test --workspace "$@"
