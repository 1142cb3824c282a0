"""The Faust worker (`app`): its RocksDB-backed state table, changelog packs and the
contiguous progress gate."""
