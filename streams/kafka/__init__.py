"""The raw topics on the wire: events as keyed (bundled) messages, producing and topic
set-up, and the reference data every runner reads whole from its topics."""
