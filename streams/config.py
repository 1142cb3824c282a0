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
    claims_interval_seconds: float = 10.0
    #: a rebate period closes by itself this long after its end (business time)
    rebate_grace_days: int = 15

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
