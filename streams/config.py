"""Settings from environment variables, each overridable by a CLI flag, with working defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Settings:
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = "channelflow"
    partitions: int = 4
    app_id: str = "channelflow"
    eventstore_url: str = "sqlite:///channelflow-audit.db"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    batch_size: int = 2000
    batch_seconds: float = 0.2
    data_dir: str = "channelflow-data"
    #: RocksDB memory per state partition: block cache and write buffer (MiB each)
    state_cache_mb: int = 32
    state_write_buffer_mb: int = 16
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
    #: PostgreSQL read models (docs/READ_MODELS.md): "" = the event store when it is
    #: PostgreSQL, "off" = none
    readmodel_url: str = ""
    readmodel_schema: str = "channelflow"
    readmodel_interval_seconds: float = 5.0

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
