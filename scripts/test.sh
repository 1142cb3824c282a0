#!/usr/bin/env bash
# The whole test suite on a fresh machine: install (also chromium and promtool), start
# Kafka and PostgreSQL, lint, type-check, run pytest. Exits with pytest's status (or the
# first failure).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash infra/test-tools.sh  # chromium, chromium-driver, promtool
bash infra/kafka.sh start
CHANNELFLOW_TEST_PG_DSN=$(bash infra/postgres.sh start | tail -n 1)
export CHANNELFLOW_TEST_PG_DSN
export CHANNELFLOW_TEST_KAFKA=${CHANNELFLOW_TEST_KAFKA:-127.0.0.1:9092}
echo "test: ruff" >&2
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "test: mypy" >&2
.venv/bin/mypy
echo "test: pytest" >&2
exec .venv/bin/python -m pytest "$@"
