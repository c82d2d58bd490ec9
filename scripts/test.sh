#!/usr/bin/env bash
# Runs every test of the workspace. The end-to-end tests use the real embedding model, which
# scripts/fetch-model.sh installs (called here, idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/fetch-model.sh
cargo test --workspace "$@"
