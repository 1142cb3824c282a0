#!/usr/bin/env bash
# The whole test suite on a fresh machine: install (also chromium and promtool), start
# Kafka and PostgreSQL, lint, type-check, run pytest. Exits with pytest's status (or the
# first failure). Arguments go to one pytest run as they are; without any, the unit tests
# run in CHANNELFLOW_TEST_JOBS processes (2), then the others.
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
if [ "$#" -gt 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi
# The pure unit tests in parallel (one process per core); then the tests that start
# servers (workers, browsers), also two at a time: most of their time is waiting on the
# broker, PostgreSQL and the workers. The busiest of them (tests/integration/conftest.py,
# HEAVY) run one after the other in one process while the other takes the rest. Both
# always run, and either failing fails.
jobs=${CHANNELFLOW_TEST_JOBS:-2}
status=0
.venv/bin/python -m pytest -n "$jobs" tests/unit || status=$?
.venv/bin/python -m pytest -n "$jobs" --dist loadgroup tests --ignore=tests/unit || status=$?
exit "$status"
