"""Telling the garbage collector which objects live long.

`gc.freeze()` moves every tracked object into a generation the collector never walks
again: right for what a process has loaded by then (reference data, recovered caches),
which would otherwise be walked by every full collection. But garbage present at that
moment is frozen too and never freed: a reference cycle holding a RocksDB database (a
committed-state reader kept alive by an exception's traceback, say) would keep that
database open, and its lock would refuse the partition when a rebalance gives it back
to this process ("lock hold by current process"). So collect first, then freeze.
"""

from __future__ import annotations

import gc


def keep_long_lived() -> None:
    """Free what is garbage now, then exempt everything still alive from collection."""
    gc.collect()
    gc.freeze()
