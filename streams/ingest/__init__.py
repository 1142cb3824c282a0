"""The ingest gateway: distributor input (JSON events, CSV, X12 867/852) → raw topics.

`formats` turns each format into lines and report ends (the report parsers are in
`parsers`); `gateway` checks an upload line by line into a `spool` on disk (bounded memory),
answers each line and publishes its messages (streams/kafka/messages.py) in order; `kafka`
publishes straight to the broker (the CLI), `deadletters` reads the dead-letter topic. The
HTTP routes (streams/api/ingest.py) and the CLI (streams/cli/ingest.py) drive it;
docs/INGEST.md describes it for its users.
"""
