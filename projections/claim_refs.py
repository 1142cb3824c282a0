"""A claim line as its claim's partition and its cap's ledger name it (docs/CLAIMS.md,
"Deciding in two phases"): in the state of both and on the `claim-caps` and
`claim-grants` logs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.frozen import quick_init
from domain.identity import sale_key
from schemas.claims import ClaimLine


@quick_init
@dataclass(frozen=True, slots=True)
class LineRef:
    """A claim line as submitted, with what orders it: when its claim was recorded."""

    distributor_id: str
    claim_id: str
    recorded_at: datetime
    line: ClaimLine

    @property
    def order(self) -> tuple[datetime, str, str, int]:
        """Decision order: recorded time, claim id (then distributor: two distributors may
        use one claim id), line number."""
        return (self.recorded_at, self.claim_id, self.distributor_id, self.line.line_no)

    @property
    def sale_key(self) -> str:
        return sale_key(self.distributor_id, self.line.transaction_id)

    def to_json(self) -> list[Any]:
        line = self.line.model_dump(mode="json")
        return [self.distributor_id, self.claim_id, self.recorded_at.isoformat(), line]

    @classmethod
    def from_json(cls, data: list[Any]) -> LineRef:
        distributor_id, claim_id, recorded_at, line = data
        at = datetime.fromisoformat(recorded_at)
        return cls(distributor_id, claim_id, at, ClaimLine.model_validate(line))
