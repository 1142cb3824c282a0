"""Tests of the HTTP API, CLI and audit tools over the embedded runner: no servers needed."""
