"""Settings from environment variables, each overridable by a CLI flag, with working defaults."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from domain.business_time import TimeRules


@dataclass(frozen=True)
class Settings:
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = "channelflow"
    #: 12 spreads a few dozen distributors evenly over 2, 3, 4 or 6 workers (keys are
    #: hashed: with 4, 50 distributors split 6/7/16/21)
    partitions: int = 12
    app_id: str = "channelflow"
    eventstore_url: str = "sqlite:///channelflow-audit.db"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    #: the worker's static membership in its consumer group: a worker restarted under the
    #: same id takes its partitions straight back instead of waiting for the broker to
    #: time its previous self out ("" = this host's name and the web port)
    instance_id: str = ""
    #: how many other workers keep a standby copy of each state partition (faust's standby
    #: replicas, kept up to date from the changelog): with workers - 1, every worker holds
    #: the whole channel, answers every read for all of it, and takes over a stopped
    #: worker's partitions without restoring them
    standby_replicas: int = 1
    batch_size: int = 2000
    batch_seconds: float = 0.2
    data_dir: str = "channelflow-data"
    #: RocksDB memory per state partition: block cache and write buffer (MiB each)
    state_cache_mb: int = 8
    state_write_buffer_mb: int = 8
    #: a batch that cannot be stored (PostgreSQL or Kafka away) is retried, waiting up to
    #: this long between attempts
    retry_max_seconds: float = 30.0
    claims_interval_seconds: float = 10.0
    #: a rebate period closes by itself this long after its end (business time)
    rebate_grace_days: int = 15
    #: ingest request limits (docs/INGEST.md): a JSON event batch is read whole, a
    #: report upload (CSV, X12) is streamed to disk
    max_json_bytes: int = 10 * 1024 * 1024
    max_report_bytes: int = 512 * 1024 * 1024
    #: how long a request body may keep the server waiting for its next bytes (408 then)
    body_timeout_seconds: float = 30.0
    #: PostgreSQL read models (docs/READ_MODELS.md): "" = the event store when it is
    #: PostgreSQL, "off" = none
    readmodel_url: str = ""
    readmodel_schema: str = "channelflow"
    readmodel_interval_seconds: float = 5.0
    #: business-date plausibility (domain/business_time.py): how far past its receipt a
    #: business time may lie, and the earliest date taken (a UTC date)
    future_tolerance_hours: float = 24.0
    date_floor: str = "2000-01-01"

    def time_rules(self) -> TimeRules:
        """The business-date rules these settings give."""
        if not 0 <= self.future_tolerance_hours < 24 * 366:
            raise SystemExit(
                f"CHANNELFLOW_FUTURE_TOLERANCE_HOURS={self.future_tolerance_hours:g}: give 0 or "
                "more hours, under a year"
            )
        try:
            floor = datetime.combine(date.fromisoformat(self.date_floor), time(), UTC)
        except ValueError:
            raise SystemExit(
                f"CHANNELFLOW_DATE_FLOOR={self.date_floor!r} is not a date like 2000-01-01"
            ) from None
        rules = TimeRules(tolerance=timedelta(hours=self.future_tolerance_hours), floor=floor)
        if rules.floor >= rules.horizon:
            raise SystemExit(
                f"CHANNELFLOW_DATE_FLOOR={self.date_floor!r} is not before the horizon "
                f"({rules.horizon.date()})"
            )
        return rules

    def group_instance_id(self) -> str:
        return self.instance_id or f"{socket.gethostname()}-{self.web_port}"

    def readmodel_dsn(self) -> str | None:
        """Where read models are written, or None."""
        if self.readmodel_url == "off":
            return None
        if self.readmodel_url:
            return self.readmodel_url
        if self.eventstore_url.startswith(("postgresql://", "postgres://")):
            return self.eventstore_url
        return None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Read CHANNELFLOW_<FIELD> variables, then apply non-None overrides (CLI flags)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for item in fields(cls):
            raw = env.get(f"CHANNELFLOW_{item.name.upper()}")
            if raw is not None:
                values[item.name] = _convert(item.name, raw, item.type)
        settings = cls(**values)
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def _convert(name: str, raw: str, kind: object) -> Any:
    try:
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
    except ValueError:
        raise SystemExit(f"CHANNELFLOW_{name.upper()}={raw!r} is not a number") from None
    return raw
