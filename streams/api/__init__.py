"""The HTTP API (JSON), the dashboard, /metrics and the events' schemas, for worker and demo.

`app` builds the aiohttp application and its read routes; `ingest`, `audit`, `schemas`,
`openapi` and `dashboard` add theirs.
"""
