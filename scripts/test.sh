#!/usr/bin/env bash
# Runs every test of the workspace. The end-to-end tests use the real embedding model, which
# scripts/fetch-model.sh installs (called here, idempotent). The orchestrator's tests use a
# real Redis, which scripts/redis.sh installs and starts (idempotent), the storage crate's
# PostgreSQL suite a real PostgreSQL 15 + pgvector (scripts/postgres.sh, idempotent too);
# LIGHTRAG_TEST_SERVICES=1 tells tests that the services are up, so a test whose server does
# not answer fails.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/fetch-model.sh
scripts/redis.sh start
scripts/postgres.sh start
scripts/nginx.sh install  # tests start their own balancers with scripts/nginx.sh start
scripts/promtool.sh  # the server's metrics test runs `promtool check metrics`
scripts/validate-deploy.sh install  # checkers of crates/cli/tests/deploy_manifests.rs
export LIGHTRAG_TEST_SERVICES=1
export LIGHTRAG_TEST_REDIS_URL="$(scripts/redis.sh url)"
# The storage crate's PostgreSQL suite (cargo feature `postgres`, on in every workspace build
# because the cli enables it by default).
export LIGHTRAG_TEST_PG_URL="$(scripts/postgres.sh url)"
cargo test --workspace "$@"
