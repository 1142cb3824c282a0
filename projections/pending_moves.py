"""The moves and counts of one message's lines, recorded together when the message ends.

A bundle's 500 sale lines of one distributor touch the same day totals, weeks, rebate
buckets, resellers, quality and flag counts again and again; recorded line by line, each
of those values would be read, changed and written 500 times. Kept here until the message
ends (or until an event that reads them comes), they are added up and each value is
written once, under the position of the last line that changed it.

Only one message's lines are ever added up: a message is delivered again whole after a
crash, so the lines a value took under one position are always the same ones. (Lines of
several messages could be split differently by the next delivery, and a value that took
some of them under the last one's position would skip the rest.)

Inputs without a position (a file's lines, the embedded runner's) are never delivered
again, so there a run of them is kept together (`PendingRun`): each message's kept lines
join those of its distributor, other distributors' lines in between or not, and are
recorded when the run ends or an event that may read them comes. Nothing changes for it:
what is kept is written under keys of its own distributor only (its moves, days,
periods, rebate buckets, resellers, quality, flag counts and cards), which another
distributor's line neither reads nor writes, and a distributor's lines kept together are
recorded as one bundle of them would be.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from projections.dedup import Verdict
from projections.inventory import Move
from projections.movements import record_moves
from projections.positions import Position
from projections.price_rules import recount
from projections.quality import QualityState, record_verdicts
from projections.resellers import ResoldLine, record_lines
from projections.scorecard import ScorecardInput
from projections.scorecard_feed import record_cards
from projections.stores import ChannelStores


@dataclass
class PendingMoves:
    distributor_id: str | None = None
    moves: list[tuple[str, datetime, Move]] = field(default_factory=list)
    #: reseller -> its lines
    resold: dict[str, list[ResoldLine]] = field(default_factory=dict)
    position: Position | None = None
    #: the distributor's verdicts counted (a redelivery is not): accepted, duplicates,
    #: conflicts; None: no line judged
    verdicts: list[int] | None = None
    verdicts_at: Position | None = None
    #: flag count label -> lines moved in (negative: out), in the order first touched
    flags: dict[str, int] = field(default_factory=dict)
    flags_at: Position | None = None
    #: the lines' scorecard inputs (projections/scorecard_feed.py)
    cards: list[ScorecardInput] = field(default_factory=list)
    cards_at: Position | None = None
    #: the run of inputs without positions this message's lines join when it ends; None:
    #: they are recorded then
    run: PendingRun | None = None

    def count_verdict(
        self,
        stores: ChannelStores,
        distributor_id: str,
        verdict: Verdict,
        position: Position | None,
    ) -> None:
        """Count one line's verdict in its distributor's quality (never a redelivery)."""
        self._switch(stores, distributor_id)
        if self.verdicts is None:
            self.verdicts = [0, 0, 0]
        if verdict is not Verdict.REDELIVERY:
            self.verdicts[_VERDICT_SLOT[verdict]] += 1
            self.verdicts_at = position

    def move_flag(
        self,
        stores: ChannelStores,
        distributor_id: str,
        before: str | None,
        after: str | None,
        position: Position | None,
    ) -> None:
        """Move one flagged line from count `before` (None: new) to `after` (None: no
        longer flagged)."""
        self._switch(stores, distributor_id)
        flags = self.flags
        if before is not None:
            flags[before] = flags.get(before, 0) - 1
        if after is not None:
            flags[after] = flags.get(after, 0) + 1
        self.flags_at = position

    def score(
        self,
        stores: ChannelStores,
        distributor_id: str,
        facts: list[ScorecardInput],
        position: Position | None,
    ) -> None:
        """Keep one line's scorecard inputs."""
        self._switch(stores, distributor_id)
        self.cards.extend(facts)
        self.cards_at = position

    def _switch(self, stores: ChannelStores, distributor_id: str) -> None:
        if self.distributor_id != distributor_id:
            if self.distributor_id is not None:  # (a message's first line keeps the run's)
                self.flush(stores)
            self.distributor_id = distributor_id

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
        self._switch(stores, distributor_id)
        self.moves.append(move)
        if resold is not None:
            reseller_id, line = resold
            self.resold.setdefault(reseller_id, []).append(line)
        self.position = position

    def end(self, stores: ChannelStores) -> None:
        """The message ended: record what is kept, or let it join its run's."""
        if self.run is None:
            self.flush(stores)
        elif self.distributor_id is not None:
            self.run.keep(self)

    def flush(self, stores: ChannelStores) -> None:
        """Record what is kept (first what the run keeps), each value once, under the last
        line's position."""
        if self.run is not None:
            self.run.flush(stores)
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
        if self.verdicts is not None:
            self._record_verdicts(stores, distributor_id, self.verdicts)
        if self.flags:
            counts = recount(stores.flag_counts.get(distributor_id), self.flags, self.flags_at)
            if counts is not None:
                stores.flag_counts.put(distributor_id, counts)
        record_cards(stores, self.cards, self.cards_at)
        self.distributor_id = None
        self.moves = []
        self.resold = {}
        self.position = None
        self.verdicts = None
        self.verdicts_at = None
        self.flags = {}
        self.flags_at = None
        self.cards = []
        self.cards_at = None

    def _record_verdicts(
        self, stores: ChannelStores, distributor_id: str, verdicts: list[int]
    ) -> None:
        quality = stores.quality.get(distributor_id) or QualityState(distributor_id)
        accepted, duplicates, conflicts = verdicts
        counted = record_verdicts(quality, accepted, duplicates, conflicts, self.verdicts_at)
        stores.quality.put(distributor_id, counted)

    def join(self, later: PendingMoves) -> None:
        """Add a later message's kept lines of the same distributor, as if they had been
        kept here line by line (the run's inputs have no positions to carry)."""
        self.moves += later.moves
        for reseller_id, lines in later.resold.items():
            self.resold.setdefault(reseller_id, []).extend(lines)
        if later.verdicts is not None:
            verdicts = self.verdicts or [0, 0, 0]
            self.verdicts = [
                mine + theirs for mine, theirs in zip(verdicts, later.verdicts, strict=True)
            ]
        for label, moved in later.flags.items():
            self.flags[label] = self.flags.get(label, 0) + moved
        self.cards += later.cards


class PendingRun:
    """Kept lines of a run of inputs without positions, by distributor: recorded together
    when the run ends, or before an event that may read them (any flush of a message of
    the run).

    What an input did to the run can be taken back (`begin`, `undo`): a message's lines
    join the run as it ends, its last step, so an input that fails has kept none; a flush
    records copies, so the lines it recorded can be kept again when its writes are
    undone."""

    def __init__(self) -> None:
        self.kept: dict[str, PendingMoves] = {}
        #: messages since the last flush
        self.messages = 0
        #: the run as the input being applied found it (`begin`)
        self._found = (self.kept, self.messages)

    def begin(self) -> None:
        """An input begins: note the run as it is, for `undo`."""
        self._found = (self.kept, self.messages)

    def undo(self) -> None:
        """The input begun last failed: the run as it found it, what a flush it caused
        recorded kept again (the flush's writes are undone with the input's)."""
        self.kept, self.messages = self._found

    def message(self) -> PendingMoves:
        """What a message of the run keeps its lines in."""
        self.messages += 1
        return PendingMoves(run=self)

    def keep(self, ended: PendingMoves) -> None:
        """Let a message's kept lines join its distributor's."""
        assert ended.distributor_id is not None and ended.position is None  # none to carry
        kept = self.kept.get(ended.distributor_id)
        if kept is None:
            ended.run = None
            self.kept[ended.distributor_id] = ended
        else:
            kept.join(ended)

    def flush(self, stores: ChannelStores) -> None:
        kept, self.kept = self.kept, {}
        self.messages = 0
        for pending in kept.values():
            replace(pending).flush(stores)  # a copy: `kept` stays as it was (`undo`)


_VERDICT_SLOT = {Verdict.ACCEPTED: 0, Verdict.DUPLICATE: 1, Verdict.CONFLICT: 2}
