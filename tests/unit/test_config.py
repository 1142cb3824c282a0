"""Settings from CHANNELFLOW_* variables: names, defaults, types, and typos that are told."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from streams import config
from streams.config import Settings, unknown_variables

README = Path(__file__).resolve().parents[2] / "README.md"


def test_a_given_environment_is_read_alone(monkeypatch):
    monkeypatch.setenv("CHANNELFLOW_PARTITIONS", "9")
    assert Settings.from_env({}).partitions == 12  # the default
    assert Settings.from_env().partitions == 9
    assert Settings().partitions == 9  # pydantic-settings reads the process's environment


def test_values_are_typed_and_flags_win():
    env = {"CHANNELFLOW_REPLICATION_FACTOR": "3", "CHANNELFLOW_BATCH_SECONDS": "0.5"}
    settings = Settings.from_env(env, replication_factor=None, partitions=2)
    assert (settings.replication_factor, settings.batch_seconds) == (3, 0.5)
    assert settings.partitions == 2
    assert Settings.from_env(env, replication_factor=2).replication_factor == 2


def test_settings_given_to_another_process_read_back_equal():
    """What a worker started by the tests or the bench receives: every field, none left to
    that process's defaults (a field passed by hand once was not)."""
    given = Settings.from_env(
        {},
        claims_interval_seconds=1.0,
        decisions_relay=False,
        batch_seconds=0.25,
        score_weeks_band="4-8",
        eventstore_url="postgresql://u:p@127.0.0.1:5433/db",
    )
    environment = given.environment()
    assert set(environment) == {f"CHANNELFLOW_{n.upper()}" for n in Settings.model_fields}
    assert environment["CHANNELFLOW_DECISIONS_RELAY"] == "false"
    assert Settings.from_env(environment) == given
    assert Settings.from_env(Settings.from_env({}).environment()) == Settings.from_env({})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CHANNELFLOW_PARTITIONS", "four"),
        ("CHANNELFLOW_REPLICATION_FACTOR", "0"),
        # each of these was taken: a batch of 0 events, a busy loop, a negative wait
        ("CHANNELFLOW_BATCH_SIZE", "0"),
        ("CHANNELFLOW_BATCH_SECONDS", "-1"),
        ("CHANNELFLOW_STATE_CACHE_MB", "-1"),
        ("CHANNELFLOW_STATE_WRITE_BUFFER_MB", "0"),
        ("CHANNELFLOW_RETRY_MAX_SECONDS", "-1"),
        ("CHANNELFLOW_CLAIMS_INTERVAL_SECONDS", "0"),
        ("CHANNELFLOW_REBATE_GRACE_DAYS", "-1"),
        ("CHANNELFLOW_MAX_JSON_BYTES", "0"),
        ("CHANNELFLOW_MAX_REPORT_BYTES", "0"),
        ("CHANNELFLOW_MAX_CLAIM_BYTES", "-5"),
        ("CHANNELFLOW_BODY_TIMEOUT_SECONDS", "0"),
        ("CHANNELFLOW_READMODEL_INTERVAL_SECONDS", "0"),
    ],
)
def test_a_value_that_does_not_fit_names_its_variable(variable, value):
    with pytest.raises(SystemExit, match=f"{variable}='{value}'"):
        Settings.from_env({variable: value})


def test_the_rate_wait_is_days_of_recorded_time():
    assert Settings.from_env({}).time_rules().rate_wait == timedelta(days=30)
    waited = Settings.from_env({"CHANNELFLOW_RATE_WAIT_DAYS": "1.5"}).time_rules()
    assert waited.rate_wait == timedelta(hours=36)
    with pytest.raises(SystemExit, match="CHANNELFLOW_RATE_WAIT_DAYS='0'"):
        Settings.from_env({"CHANNELFLOW_RATE_WAIT_DAYS": "0"})


def test_the_replication_factor_defaults_to_one_broker():
    assert Settings.from_env({}).replication_factor == 1


def test_unknown_variables_are_named_with_the_closest_known_one():
    env = {
        "CHANNELFLOW_PARTITONS": "8",
        "CHANNELFLOW_SOMETHING_ELSE": "x",
        "CHANNELFLOW_KAFKA_BOOTSTRAP": "k:9092",
        "CHANNELFLOW_TOKENS_FILE": "tokens.json",
        "CHANNELFLOW_TEST_PG_DSN": "postgresql://x",
        "PATH": "/bin",
    }
    assert unknown_variables(env) == {
        "CHANNELFLOW_PARTITONS": "CHANNELFLOW_PARTITIONS",
        "CHANNELFLOW_SOMETHING_ELSE": None,
    }


def test_an_unknown_variable_is_logged_once(monkeypatch, caplog):
    monkeypatch.setattr(config, "_warned", set())
    env = {"CHANNELFLOW_BATCH_SIZ": "10"}
    with caplog.at_level(logging.WARNING, logger="channelflow.config"):
        Settings.from_env(env)
        Settings.from_env(env)
    assert [r.getMessage() for r in caplog.records] == [
        "unknown environment variable CHANNELFLOW_BATCH_SIZ is ignored "
        "(did you mean CHANNELFLOW_BATCH_SIZE?)"
    ]


def test_the_readme_lists_every_setting():
    """Each field's variable is in the README's settings table (a row may name two:
    `CHANNELFLOW_WEB_HOST` / `_WEB_PORT`, `CHANNELFLOW_READMODEL_SCHEMA` / `_INTERVAL_SECONDS`)."""
    documented: set[str] = set()
    for row in README.read_text().splitlines():
        if row.startswith("| `CHANNELFLOW_"):
            first, *others = re.findall(r"`(CHANNELFLOW_\w+|_\w+)`", row.split("|")[1])
            words = first.split("_")
            documented.add(first)
            documented |= {"_".join(words[:n]) + o for o in others for n in range(1, len(words))}
    missing = {f"CHANNELFLOW_{name.upper()}" for name in Settings.model_fields} - documented
    assert not missing, f"README.md does not list {sorted(missing)}"
