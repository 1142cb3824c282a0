from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

#: the sample files the tests read (written by hand from real-world layouts)
SAMPLES = Path(__file__).parents[2] / "samples"
#: when the files were "uploaded": becomes recorded_at / submitted_at
RECEIVED_AT = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
