"""The auditor's tools: `verify` (a replay against the live system and the audit store),
`trail` (a record's history and lineage) and `pack` (a period's audit pack)."""
