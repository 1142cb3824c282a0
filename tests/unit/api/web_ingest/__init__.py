"""HTTP ingest over the embedded runner: access, JSON events, reports, dates, limits."""
