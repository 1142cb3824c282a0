"""Settings from CHANNELFLOW_* environment variables (pydantic-settings), each overridable by
a CLI flag, with working defaults. An unknown CHANNELFLOW_* variable is logged once: a typo
must not pass silently."""

from __future__ import annotations

import difflib
import logging
import os
import socket
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Final

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from domain.business_time import TimeRules
from domain.scorecard_score import ScoreConfig, configured_score

PREFIX = "CHANNELFLOW_"
#: the settings of the scorecard's score, each CHANNELFLOW_SCORE_<NAME>
SCORE_SETTINGS: Final = (
    "weights",
    "severity_weights",
    "violation_tolerance",
    "late_credit",
    "weeks_band",
)
#: CHANNELFLOW_* variables read outside `Settings`: API tokens (streams/auth.py, the CLI) and
#: the server scripts' cache and Python (infra/kafka.sh, infra/postgres.sh)
OTHER_VARIABLES = frozenset({"TOKEN", "TOKENS", "TOKENS_FILE", "CACHE", "PYTHON"})
#: the test suite's own variables (CHANNELFLOW_TEST_PG_DSN, ...)
TEST_VARIABLES = "TEST_"

#: a TCP port to listen on (0: one the system picks)
Port = Annotated[int, Field(ge=0, le=65535)]

log = logging.getLogger("channelflow.config")
_warned: set[str] = set()


class Settings(BaseSettings):
    """Every field is read from CHANNELFLOW_<FIELD> (`Settings()` reads the process's
    environment, as pydantic-settings does; `from_env` a given one)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True, extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = "channelflow"
    #: 12 spreads a few dozen distributors evenly over 2, 3, 4 or 6 workers (keys are
    #: hashed: with 4, 50 distributors split 6/7/16/21)
    partitions: int = Field(default=12, ge=1)
    #: replication factor of the topics the system creates (1 suits one broker)
    replication_factor: int = Field(default=1, ge=1)
    app_id: str = "channelflow"
    eventstore_url: str = "sqlite:///channelflow-audit.db"
    web_host: str = "127.0.0.1"
    web_port: Port = 6066
    #: the port of `channelflow api`, the API process beside a worker
    api_port: Port = 6067
    #: the API process shares an answer between the requests asking the same question: as
    #: it is while younger than this (s), and at once, while a new one is computed, while
    #: younger than `api_stale_seconds` (streams/api/answer_cache.py); 0 and 0: never
    api_fresh_seconds: float = Field(default=1.0, ge=0)
    api_stale_seconds: float = Field(default=5.0, ge=0)
    #: the worker's static membership in its consumer group: a worker restarted under the
    #: same id takes its partitions straight back instead of waiting for the broker to
    #: time its previous self out ("" = this host's name and the web port)
    instance_id: str = ""
    #: how many other workers keep a standby copy of each state partition (faust's standby
    #: replicas, kept up to date from the changelog): with workers - 1, every worker holds
    #: the whole channel and answers every read for all of it. Experimental, off by
    #: default: a takeover was seen to stall and a standby to lag (docs/OPERATIONS.md)
    standby_replicas: int = Field(default=0, ge=0)
    batch_size: int = Field(default=2000, ge=1)
    #: how long the agent waits for a batch to fill: short, so a line at a moderate rate is
    #: applied within tens of ms; under load a batch fills while the one before is applied
    batch_seconds: float = Field(default=0.05, gt=0)
    #: how long a partition's inputs may wait for the next fetch of a caught-up topic, to be
    #: applied in broker-time order (docs/DESIGN.md, "Broker-time order in the worker"); a
    #: topic behind (data on the broker not fetched yet) is waited for however long it
    #: takes; 0: no waiting at all
    order_wait_seconds: float = Field(default=1.0, ge=0)
    #: how long a topic partition behind may have no leader before its partition's inputs
    #: are applied past it anyway (the liveness valve of the broker-time order)
    order_stall_seconds: float = Field(default=30.0, gt=0)
    #: events a topic partition may have held for the broker-time order (waiting for another
    #: topic of its partition) before the worker stops fetching it, until its held inputs
    #: drain to this again (Kafka Streams' `buffered.records.per.partition`, in events)
    order_held_max_events: int = Field(default=10_000, ge=1)
    data_dir: str = "channelflow-data"
    #: the data directories of the workers on this machine whose state `channelflow api`
    #: reads, comma-separated ("" = `data_dir`, the worker's beside it): all of a
    #: deployment's workers, and it answers for the whole channel (docs/OPERATIONS.md)
    api_data_dirs: str = ""
    #: RocksDB memory per state partition: block cache and write buffer (MiB each)
    state_cache_mb: int = Field(default=8, ge=0)
    state_write_buffer_mb: int = Field(default=8, ge=1)
    #: a batch that cannot be stored (PostgreSQL or Kafka away) is retried, waiting up to
    #: this long between attempts
    retry_max_seconds: float = Field(default=30.0, gt=0)
    #: how long a worker or API process started while Kafka or PostgreSQL cannot be reached
    #: tries again before it gives up (exit status 3); 0: give up at once
    #: (streams/worker/start_wait.py)
    start_wait_seconds: float = Field(default=300.0, ge=0)
    #: seconds the reference replica may read nothing while behind (batches waiting for
    #: it) before /health reports the worker degraded (docs/OPERATIONS.md)
    reference_stall_seconds: float = Field(default=60.0, gt=0)
    claims_interval_seconds: float = Field(default=10.0, gt=0)
    #: a rebate period closes by itself this long after its end (business time)
    rebate_grace_days: int = Field(default=15, ge=0)
    #: ingest request limits (docs/INGEST.md): a JSON event batch is read whole, a
    #: report upload (CSV, X12) is streamed to disk
    #: processes `channelflow ingest` checks a large CSV report on (0: the cores available;
    #: 1: this process alone); docs/INGEST.md
    check_processes: int = Field(default=0, ge=0)
    max_json_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    #: events (elements, JSON Lines) a JSON batch may hold: each is answered and spooled in
    #: memory, so ten MiB of `1,` (five million elements) would take gigabytes
    max_json_events: int = Field(default=50_000, ge=1)
    max_report_bytes: int = Field(default=512 * 1024 * 1024, ge=1)
    #: a claim file (CSV or 844) is read whole, its lines grouped by claim: about 30 times
    #: its size in memory, so it has a limit of its own
    max_claim_bytes: int = Field(default=8 * 1024 * 1024, ge=1)
    #: how long a request body may keep the server waiting for its next bytes (408 then)
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    #: how long an HTTP connection may stay open with no whole request read (a client
    #: sending its headers a byte at a time, or nothing) or idle between two: then closed
    keepalive_seconds: float = Field(default=75.0, gt=0)
    #: PostgreSQL read models (docs/READ_MODELS.md): "" = the event store when it is
    #: PostgreSQL, "off" = none
    readmodel_url: str = ""
    readmodel_schema: str = "channelflow"
    readmodel_interval_seconds: float = Field(default=5.0, gt=0)
    #: the decisions relay (docs/DECISIONS.md): a worker on a PostgreSQL event store runs
    #: it unless this is off; it looks for new audit events this often when caught up
    decisions_relay: bool = True
    decisions_interval_seconds: float = Field(default=1.0, gt=0)
    #: the data subjects' keys (docs/PRIVACY.md): "" = the event store when it is
    #: PostgreSQL, "off" = none (personal fields are then dropped at the door)
    subject_keys_url: str = ""
    #: the register of X12 interchanges received (docs/INGEST.md, "A resent
    #: interchange"): "" = the event store when it is PostgreSQL, "off" = none
    interchanges_url: str = ""
    #: days an interchange's control number is remembered: one received again after longer
    #: is a first receipt (translators restart or wrap their numbering)
    interchange_window_days: float = Field(default=365.0, gt=0)
    #: business-date plausibility (domain/business_time.py): how far past its receipt a
    #: business time may lie, and the earliest date taken (a UTC date)
    future_tolerance_hours: float = 24.0
    date_floor: str = "2000-01-01"
    #: days of recorded time a claim line waits for its POS line before `no_pos_line`
    claim_pending_days: float = Field(default=30.0, gt=0)
    #: days of recorded time a sale waits for its floor's exchange rate before it is final
    #: as unpriced (docs/DESIGN.md, "Late rates")
    rate_wait_days: float = Field(default=30.0, gt=0)
    #: an authorization is flagged near its cap from this share of it given out (%), and
    #: near its expiry from this many days before its last valid day (docs/CLAIMS.md)
    cap_near_percent: float = Field(default=80.0, gt=0, le=100)
    expiry_near_days: int = Field(default=14, ge=0)
    #: the distributor scorecard's score (docs/SCORECARD.md, "Configuration"): empty keeps
    #: a default; weights as "pricing=0.3,rebates=0" (the parts not named keep theirs)
    score_weights: str = ""
    score_severity_weights: str = ""
    score_violation_tolerance: str = ""
    score_late_credit: str = ""
    #: the healthy weeks of supply where a distributor's targets set none, as "4-8"
    score_weeks_band: str = ""

    @field_validator("kafka_bootstrap")
    @classmethod
    def _servers(cls, text: str) -> str:
        """Comma-separated host[:port] (an IPv6 address in brackets before a port): a
        typo is one line as the process starts, not a Kafka client's traceback."""
        for server in text.split(","):
            if (problem := _server_problem(server.strip())) is not None:
                raise ValueError(problem)
        return text

    def environment(self) -> dict[str, str]:
        """These settings as the CHANNELFLOW_* variables that give them to another process
        (`from_env` there reads them back to equal settings)."""
        return {
            f"{PREFIX}{name.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in self.model_dump().items()
        }

    def score_config(self) -> ScoreConfig:
        """The scorecard's weights and constants these settings give; a mistake exits with
        one line naming the variable."""
        given = {name: getattr(self, f"score_{name}") for name in SCORE_SETTINGS}
        for name, text in given.items():
            try:
                configured_score(**{name: text})
            except ValueError as exc:
                raise SystemExit(f"{PREFIX}SCORE_{name.upper()}={text!r}: {exc}") from None
        return configured_score(**given)

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
        rules = TimeRules(
            tolerance=timedelta(hours=self.future_tolerance_hours),
            floor=floor,
            claim_wait=timedelta(days=self.claim_pending_days),
            rate_wait=timedelta(days=self.rate_wait_days),
        )
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
        return self._postgres(self.readmodel_url)

    def subject_keys_dsn(self) -> str | None:
        """Where the data subjects' keys are kept, or None."""
        return self._postgres(self.subject_keys_url)

    def interchanges_dsn(self) -> str | None:
        """Where the X12 interchanges received are registered, or None."""
        return self._postgres(self.interchanges_url)

    def _postgres(self, url: str) -> str | None:
        """A PostgreSQL URL setting: "off" none, "" the event store's when it is PostgreSQL."""
        if url == "off":
            return None
        if url:
            return url
        if self.eventstore_url.startswith(("postgresql://", "postgres://")):
            return self.eventstore_url
        return None

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        flags: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> Settings:
        """Read CHANNELFLOW_<FIELD> variables of `environ` (default: the process's), then
        apply non-None overrides (CLI flags: `flags` names each field's flag). A value that
        does not fit its field exits with one line naming where it came from: the flag, or
        the variable."""
        env = os.environ if environ is None else environ
        warn_unknown_variables(env)
        # every field given, so the process's environment cannot fill one `environ` lacks
        values = {name: field.get_default() for name, field in cls.model_fields.items()}
        values.update(_EnvironSource(cls, env)())
        values.update({k: v for k, v in overrides.items() if v is not None})
        given = {k: (flags or {}).get(k) for k, v in overrides.items() if v is not None}
        try:
            return cls(**values)
        except ValidationError as exc:
            raise SystemExit(_problem(exc, given)) from None


class _EnvironSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name.lower(): value for name, value in self._environ.items()}  # as its own


def _server_problem(server: str) -> str | None:
    """What is wrong with one bootstrap server, "host", "host:port" or "[ipv6]:port"; None:
    nothing (as the Kafka client reads it, a bare IPv6 address takes the default port)."""
    if not server:
        return "a server is empty: give host:port, comma-separated"
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else rest or "9092"
    elif server.count(":") > 1:
        host, port = server, "9092"
        try:
            socket.inet_pton(socket.AF_INET6, server)
        except OSError:
            return f"{server!r} is not host:port (an IPv6 address with a port goes in brackets)"
    else:
        host, colon, port = server.partition(":")
        port = port if colon else "9092"
    if not host:
        return f"{server!r} has no host: give host:port"
    if not (port.isascii() and port.isdigit() and 0 < int(port) <= 65535):
        return f"{server!r} has no port from 1 to 65535 after its host"
    return None


def _problem(exc: ValidationError, given: Mapping[str, str | None]) -> str:
    """The first error, named as it was given: `--flag VALUE` when a flag of `given`
    (field -> flag) set the field, else the variable."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "?"
    value = error.get("input")
    said = str(error["ctx"]["error"]) if error["type"] == "value_error" else error["msg"].lower()
    flag = given.get(name)
    if flag is not None:
        return f"{flag} {value!r}: {said}"
    return f"{PREFIX}{name.upper()}={value!r}: {said}"


def unknown_variables(environ: Mapping[str, str]) -> dict[str, str | None]:
    """The CHANNELFLOW_* variables nothing reads, each with the known name it is closest
    to (None when nothing is close)."""
    known = {name.upper() for name in Settings.model_fields} | OTHER_VARIABLES
    found: dict[str, str | None] = {}
    for variable in environ:
        if not variable.startswith(PREFIX):
            continue
        name = variable.removeprefix(PREFIX)
        if name in known or name.startswith(TEST_VARIABLES):
            continue
        close = difflib.get_close_matches(name, known, n=1)
        found[variable] = PREFIX + close[0] if close else None
    return found


def warn_unknown_variables(environ: Mapping[str, str]) -> None:
    """Log each unknown CHANNELFLOW_* variable once per process."""
    for variable, close in unknown_variables(environ).items():
        if variable in _warned:
            continue
        _warned.add(variable)
        hint = f" (did you mean {close}?)" if close else ""
        log.warning("unknown environment variable %s is ignored%s", variable, hint)
