"""The HTTP API (JSON), the dashboard, /metrics and the events' schemas, for worker and demo.

`app` builds the aiohttp application and its read routes; `ingest`, `audit`, `schemas`,
`openapi` and `dashboard` add theirs; `context` is what they all share (the request context,
the caller's principal, JSON answers); `documents` renders audit records as JSON, for the
API and the CLI alike.
"""
