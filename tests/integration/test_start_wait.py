"""A worker started while Kafka or PostgreSQL cannot be reached waits for it: one log line
a try, then, once the server answers, it starts and applies what was published meanwhile
as the replay does; with `--start-wait` passed, it exits with status 3 and one line, no
traceback (streams/worker/start_wait.py)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from schemas.envelope import Envelope
from schemas.events import PriceChanged
from streams.config import Settings
from tests.faults import CuttableProxy, proxied
from tests.integration.audit_db import fresh_database
from tests.integration.conftest import REPO, ApiProcess, WorkerProcess, http_json, wait_until
from tests.integration.helpers import catalog, matches_replay, numbered_sales, publish
from tests.integration.test_outage import violations_recorded

pytestmark = [pytest.mark.kafka]

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
LINES = 200

#: the worker with its topics checked on the broker directly (argv[1]) and every other Kafka
#: client on its settings' address: the broker answered the check and is gone when faust
#: starts (what a cut between the two looks like)
FAUST_ALONE = """
import sys
import streams.kafka.io as io
checked = io.ensure_topics
async def direct(settings, **options):
    return await checked(settings.model_copy(update={"kafka_bootstrap": sys.argv[1]}), **options)
io.ensure_topics = direct
from streams.cli.main import main
sys.exit(main(["worker", "--loglevel", "info", *sys.argv[2:]]))
"""


def below_floor() -> list[Envelope]:
    price = PriceChanged(
        event_id=uuid.uuid4(), occurred_at=T0, source="erp", sku="SKU-W", published_at=T0,
        distributor_cost=Decimal("8.00"), floor_price=Decimal("10.00"), currency="USD",
        effective_from=T0 - timedelta(days=30),
    )  # fmt: skip
    return [*catalog("SKU-W"), price, *numbered_sales(0, LINES, sku="SKU-W", distributors=4, at=T0)]


@pytest.fixture
def kafka_away(kafka_bootstrap: str) -> Iterator[CuttableProxy]:
    """A path to the broker, cut: nothing answers on its port until `restore()`."""
    host, port = kafka_bootstrap.rsplit(":", 1)
    proxy = CuttableProxy(host, int(port))
    yield proxy
    proxy.cut()


def waits(worker: WorkerProcess, server: str) -> None:
    """The worker logs that it waits for `server` and is still running."""
    wait_until(lambda: f"waiting for {server} at" in worker.log_tail(200), 90, f"{server}'s wait")
    assert worker.running(), worker.log_tail()


def gives_up(worker: WorkerProcess, server: str) -> str:
    """The worker's exit with status 3 and one line naming `server`; its log."""
    assert worker.proc is not None
    assert worker.proc.wait(120) == 3
    log = worker.log_path.read_text()
    assert log.splitlines()[-1].startswith(f"channelflow: error: {server}: "), log[-2000:]
    assert "Traceback" not in log
    return log


def faust_alone(worker: WorkerProcess, direct: str, *flags: str) -> WorkerProcess:
    """`worker` run with its topics checked on the broker at `direct` (`FAUST_ALONE`)."""
    worker.proc = subprocess.Popen(
        [sys.executable, "-c", FAUST_ALONE, direct, *flags],
        cwd=REPO,
        env=worker.env(),
        stdout=worker.log_path.open("ab"),
        stderr=subprocess.STDOUT,
    )
    return worker


def answers(worker: WorkerProcess) -> None:
    wait_until(lambda: http_json(f"{worker.url}/health"), 120, "the worker's /health")


def test_worker_waits_for_kafka_then_applies_what_came(settings, worker_factory, kafka_away):
    worker = worker_factory(kafka_bootstrap=f"127.0.0.1:{kafka_away.port}").launch()
    waits(worker, "Kafka")
    publish(settings, below_floor())  # on the broker itself: the worker's path is cut

    kafka_away.restore()
    answers(worker)
    live = matches_replay(settings, worker)
    assert len(live["violations"]) == LINES


def test_worker_waits_for_kafka_during_faust_start(
    settings: Settings, worker_factory, kafka_away: CuttableProxy
) -> None:
    worker = worker_factory(kafka_bootstrap=f"127.0.0.1:{kafka_away.port}")
    faust_alone(worker, settings.kafka_bootstrap)
    waits(worker, "Kafka")
    kafka_away.restore()
    answers(worker)
    assert "Traceback" not in worker.log_path.read_text()


def test_faust_start_gives_up_after_start_wait(settings, worker_factory, kafka_away) -> None:
    worker = worker_factory(kafka_bootstrap=f"127.0.0.1:{kafka_away.port}")
    log = gives_up(faust_alone(worker, settings.kafka_bootstrap, "--start-wait", "2"), "Kafka")
    assert f"waiting for Kafka at 127.0.0.1:{kafka_away.port}" in log


def test_worker_gives_up_on_kafka_after_start_wait(worker_factory, kafka_away) -> None:
    worker = worker_factory(kafka_bootstrap=f"127.0.0.1:{kafka_away.port}")
    log = gives_up(worker.launch("--start-wait", "2"), "Kafka")
    assert "CHANNELFLOW_KAFKA_BOOTSTRAP" in log.splitlines()[-1]


def test_api_process_waits_for_kafka(settings, tmp_path, kafka_away) -> None:
    publish(settings, catalog("SKU-W"))  # what it reads before it answers
    mine = settings.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{kafka_away.port}"})
    api = ApiProcess(mine, tmp_path / "api.log").launch()
    try:
        waits(api, "Kafka")
        kafka_away.restore()
        answers(api)
        assert [row["sku"] for row in api.get("/api/products")["rows"]] == ["SKU-W"]
    finally:
        api.kill()


def test_api_process_gives_up_on_kafka_in_one_line(settings, tmp_path, kafka_away) -> None:
    """Its replica's consumers, its publisher and its health start side by side: the one
    that gives up ends the others, and none of them leaves aiokafka's bootstrap lines or
    "Unclosed AIOKafkaConsumer" / "Unclosed AIOKafkaProducer" after the command's line."""
    mine = settings.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{kafka_away.port}"})
    for wait in ("0", "2"):
        api = ApiProcess(mine, tmp_path / f"api-{wait}.log").launch("--start-wait", wait)
        try:
            log = gives_up(api, "Kafka")
        finally:
            api.kill()
        assert "Unclosed" not in log and "Unable connect to" not in log, log


@pytest.mark.postgres
def test_worker_waits_for_postgres_then_records_what_came(settings, worker_factory, pg_dsn):
    with fresh_database(pg_dsn) as dsn, proxied(dsn) as (proxy, through_proxy):
        proxy.cut()
        worker = worker_factory(eventstore_url=through_proxy).launch()
        waits(worker, "PostgreSQL")
        publish(settings, below_floor())

        proxy.restore()
        answers(worker)
        wait_until(lambda: violations_recorded(dsn) == LINES, 120, "every violation recorded")
        assert len(matches_replay(settings, worker)["violations"]) == LINES


@pytest.mark.postgres
def test_worker_gives_up_on_postgres_after_start_wait(worker_factory, pg_dsn) -> None:
    with proxied(pg_dsn) as (proxy, through_proxy):
        proxy.cut()
        worker = worker_factory(eventstore_url=through_proxy)
        log = gives_up(worker.launch("--start-wait", "2"), "PostgreSQL")
        assert f"waiting for PostgreSQL at 127.0.0.1:{proxy.port}/" in log


@pytest.mark.postgres
def test_worker_refused_by_postgres_for_its_password_exits_at_once(worker_factory, pg_dsn):
    """A server that answers and refuses the credentials is no server away: no wait of
    the default 300 s mends a wrong password."""
    wrong = pg_dsn.replace("channelflow:channelflow@", "channelflow:wrong@", 1)
    assert wrong != pg_dsn
    log = gives_up(worker_factory(eventstore_url=wrong).launch(), "PostgreSQL")
    assert "password authentication failed" in log
    assert "waiting for PostgreSQL" not in log


@pytest.mark.postgres
@pytest.mark.parametrize("once", [False, True])
def test_decisions_relay_waits_unless_once(settings, worker_factory, pg_dsn, once) -> None:
    """Running on, the relay waits as a worker does; `--once` is a one-shot command."""
    with proxied(pg_dsn) as (proxy, through_proxy):
        proxy.cut()
        relay = worker_factory(eventstore_url=through_proxy)
        relay.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "decisions", "relay", "--start-wait", "2",
             *(["--once"] if once else [])],
            cwd=REPO, env=relay.env(), stdout=relay.log_path.open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        log = gives_up(relay, "PostgreSQL")
        assert ("waiting for PostgreSQL at" in log) is not once
