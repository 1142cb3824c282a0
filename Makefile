.PHONY: demo test chaos unit lint format setup kafka-up kafka-down pg-up pg-down bench bench-history bench-scale bench-claims clean

demo: setup            ## run the embedded demo (no servers needed)
	.venv/bin/channelflow demo

test:                  ## everything: install, start Kafka + PostgreSQL, lint, types, all tests
	bash scripts/test.sh

chaos:                 ## the fault suite alone (also part of `make test`): outages, kill -9, poison
	bash scripts/test.sh -m chaos

unit: setup            ## fast tests of the pure core, no servers
	.venv/bin/python -m pytest tests/unit -q

lint: setup            ## ruff lint + format check, mypy
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

format: setup
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

setup:
	bash scripts/setup.sh

kafka-up:
	bash infra/kafka.sh start
kafka-down:
	bash infra/kafka.sh stop
pg-up:
	bash infra/postgres.sh start
pg-down:
	bash infra/postgres.sh stop

bench: setup kafka-up  ## issue 14: every throughput figure in one table beside the raw baseline (ARGS=--quick: a smoke run)
	.venv/bin/python -m bench.throughput $(ARGS)

bench-history: setup kafka-up pg-up  ## issue 12: a worker over 1M then 5M events (ARGS=--quick: 100k, 300k)
	.venv/bin/python -m bench.history_scaling $(ARGS)

bench-claims: setup  ## issue 16: claim lines a second over 1M POS lines, in process (ARGS=--quick: 50k)
	.venv/bin/python -m bench.claims_throughput $(ARGS)

bench-scale: setup kafka-up  ## issue 14: one worker, then two in one group (ARGS: --events, --workers)
	.venv/bin/python -m bench.scale_out $(ARGS)

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache channelflow-data
