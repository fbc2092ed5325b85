#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (unit tests, then the
# integration tests against two throwaway PostgreSQL servers that ctest starts and stops).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The servers run as the postgres user, which must be able to reach the scratch directory.
ctest --test-dir build --output-on-failure --timeout 900 "$@"
