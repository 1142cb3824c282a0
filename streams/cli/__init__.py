"""The `channelflow` command line: `main` builds the parser, `audit` and `ingest` add their
command groups, `support` holds what every command shares."""
