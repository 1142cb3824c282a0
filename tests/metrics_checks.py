"""Checks of a /metrics text shared by the embedded and the worker tests: Prometheus's own
linter, and the metric names the Grafana dashboard and the alerting rules query."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

INFRA = Path(__file__).resolve().parents[1] / "infra"
GRAFANA = INFRA / "grafana" / "channelflow.json"
ALERTS = INFRA / "prometheus" / "alerts.yml"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


#: the mark of a test that runs promtool: skipped, saying why, only where it is missing
#: (`make test` installs it: infra/test-tools.sh). A test runs promtool for nothing else,
#: so a missing promtool never skips the other checks of a test half-way.
needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is not installed (bash infra/test-tools.sh installs Debian's `prometheus`)",
)


def promtool(*args: str, text: str = "", cwd: Path | None = None) -> tuple[int, str]:
    """(exit status, output) of `promtool ARGS` with the text on stdin. Only in a test
    marked `needs_promtool`: elsewhere a missing promtool is a failure, not a skip."""
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is not installed: mark the test @needs_promtool")
    done = subprocess.run(
        [found, *args], input=text, capture_output=True, text=True, timeout=60, cwd=cwd
    )
    return done.returncode, (done.stdout + done.stderr).strip()


def promtool_problems(text: str) -> tuple[int, str]:
    """(exit status, output) of `promtool check metrics` on the text."""
    return promtool("check", "metrics", text=text)


def metric_names(exprs: list[str]) -> set[str]:
    return {name for expr in exprs for name in re.findall(r"\bchannelflow_\w+", expr)}


def grafana_metric_names() -> set[str]:
    """Every channelflow series name a panel of the Grafana dashboard queries."""
    dashboard = orjson.loads(GRAFANA.read_bytes())
    return metric_names(
        [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    )


def alert_metric_names() -> set[str]:
    """Every channelflow series name an alerting rule queries."""
    return metric_names(re.findall(r"^\s*expr:(.*(?:\n\s{10,}.*)*)", ALERTS.read_text(), re.M))


def metric_series(text: str) -> dict[str, set[str]]:
    """Each metric the exposition declares (# TYPE), by the name it is defined with (a
    counter's with `_total`), and the names of its series."""
    return {
        family.name + ("_total" if family.type == "counter" else ""): {
            family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))
        }
        for family in text_string_to_metric_families(text)
    }


def declared_names(text: str) -> set[str]:
    """Series names the exposition declares (# TYPE), whether or not a sample exists yet."""
    return set().union(*metric_series(text).values())


def sampled_names(text: str) -> set[str]:
    """Series names with at least one sample in the exposition."""
    return {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }
