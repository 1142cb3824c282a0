"""A rejected CSV line without its personal cells (docs/PRIVACY.md): the line goes to the
dead letters, which are kept, so the end customer's name and contact are left out of it."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from streams.ingest.parsers.csv_template import within


def without_personal(line: str, width: int, personal: Sequence[int]) -> str:
    """`line` with the cells at `personal` emptied; nothing of it when its cells cannot be
    told apart (another count than the header's `width`: a name could be in any of them)."""
    cells = within(next(csv.reader(io.StringIO(line), strict=False), []), width)
    if len(cells) != width:
        return ""
    for position in personal:
        cells[position] = ""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()
