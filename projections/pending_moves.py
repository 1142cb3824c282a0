"""The moves of one message's lines, recorded together when the message ends.

A bundle's 500 sale lines of one distributor touch the same day totals, weeks, rebate
buckets and resellers again and again; recorded line by line, each of those values would
be read, changed and written 500 times. Kept here until the message ends (or until an
event that reads them comes), they are added up and each value is written once, under
the position of the last line.

Only one message's lines are ever added up: a message is delivered again whole after a
crash, so the lines a value took under one position are always the same ones. (Lines of
several messages could be split differently by the next delivery, and a value that took
some of them under the last one's position would skip the rest.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from projections.inventory import Move
from projections.movements import record_moves
from projections.positions import Position
from projections.resellers import ResoldLine, record_lines
from projections.stores import ChannelStores


@dataclass
class PendingMoves:
    distributor_id: str | None = None
    moves: list[tuple[str, datetime, Move]] = field(default_factory=list)
    #: reseller -> its lines
    resold: dict[str, list[ResoldLine]] = field(default_factory=dict)
    position: Position | None = None

    def add(
        self,
        stores: ChannelStores,
        distributor_id: str,
        move: tuple[str, datetime, Move],
        position: Position | None,
        resold: tuple[str, ResoldLine] | None = None,
    ) -> None:
        """Keep one line's move (sku, business time, move) and, for a sale, its reseller's
        line; the lines of another distributor first record what is kept."""
        if self.distributor_id != distributor_id:
            self.flush(stores)
            self.distributor_id = distributor_id
        self.moves.append(move)
        if resold is not None:
            reseller_id, line = resold
            self.resold.setdefault(reseller_id, []).append(line)
        self.position = position

    def flush(self, stores: ChannelStores) -> None:
        """Record what is kept, each value once, under the last line's position."""
        distributor_id = self.distributor_id
        if distributor_id is None:
            return
        if self.moves:
            record_moves(stores, distributor_id, self.moves, self.position)
        for reseller_id, lines in self.resold.items():
            record_lines(
                stores.resellers, stores.reseller_days, distributor_id, reseller_id, lines,
                self.position,
            )  # fmt: skip
        self.distributor_id = None
        self.moves = []
        self.resold = {}
        self.position = None
