"""Ship-and-debit: how one claim line is decided, pure (docs/CLAIMS.md).

A claim line asks for (book cost − authorized cost) × quantity for a POS line sold under a
special price authorization. `decide_line` takes everything the decision needs, already
looked up (the authorization's terms, the POS line, the price book's cost in effect, how
many units of the POS line and of the cap are left), and checks in this order, the first
failing check deciding:

1. `unknown_authorization`; 2. `wrong_distributor`, `wrong_sku` (not covered);
3. no POS line yet: `pending_pos` (re-decided when it arrives); 4. `sku_mismatch` (the
POS line sold another sku); 5. `not_yet_valid` / `expired` (`sold_at`'s UTC date outside
the inclusive validity); 6. `wrong_reseller` (the
authorization names neither the POS line's reseller nor the master it meant when the sale
was judged) / `wrong_end_customer`; 7. `return_line`;
8. `currency_mismatch` (the line's or the POS line's currency is not the authorization's);
9. `no_book_cost` (no price-book cost in effect at `sold_at` in that currency).

Then the quantity: at most the POS line's units not accepted on other claim lines (none:
`already_claimed`; fewer: `quantity_reduced`), then at most the cap left (none:
`cap_exhausted`; fewer: `cap_partial`). The amount is recomputed from the system's
figures, (book − authorized) × accepted quantity, rounded half-up to the minor unit of
the authorization's currency (`domain.currency.round_money`); ≤ 0 is
`no_debit_due`. A line is `accepted` when quantity and amount are as claimed, else
`adjusted` with its reasons (`quantity_reduced` / `cap_partial`, then `cost_corrected`
when a claimed cost differs from the system's, or `amount_corrected` when only the
arithmetic was off).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal, localcontext
from functools import lru_cache
from typing import Final, Literal
from uuid import UUID

from domain.currency import minor_unit, round_money
from domain.frozen import quick_init
from domain.identity import derived_id
from domain.timeutil import utc
from schemas.claims import ClaimLine, DebitClaimSubmitted

LineStatus = Literal["accepted", "adjusted", "rejected", "pending_pos"]

#: rejection reasons, in the order they are checked (docs/CLAIMS.md)
REJECTIONS: Final = (
    "unknown_authorization",
    "wrong_distributor",
    "wrong_sku",
    "no_pos_line",
    "sku_mismatch",
    "expired",
    "not_yet_valid",
    "wrong_reseller",
    "wrong_end_customer",
    "return_line",
    "currency_mismatch",
    "no_book_cost",
    "already_claimed",
    "cap_exhausted",
    "no_debit_due",
)
#: why an accepted quantity or amount differs from the claimed one
ADJUSTMENTS: Final = ("quantity_reduced", "cap_partial", "cost_corrected", "amount_corrected")
PENDING: Final = "pending_pos"


@dataclass(frozen=True, slots=True)
class AuthorizationTerms:
    """An authorization's terms as they stand (amendments and expiry applied)."""

    authorization_id: str
    distributor_ids: frozenset[str]
    skus: frozenset[str]
    reseller_id: str | None
    end_customer: str | None
    authorized_cost: Decimal
    floor_price: Decimal | None
    valid_from: date
    valid_to: date
    quantity_cap: int | None
    currency: str
    #: the event that set the terms last (the authorization or its latest amendment)
    event_id: UUID

    def covers(
        self,
        distributor_id: str,
        sku: str,
        reseller_id: str,
        end_customer: str | None,
        sold_at: datetime,
        currency: str,
        master_id: str | None = None,
        customer_master: str | None = None,
    ) -> bool:
        """Whether a sale is within the authorization (for the price rules). An
        authorization naming a master covers the sales to each alias mapped to it:
        `master_id` is the master the sale's reseller means, `customer_master` the one its
        end customer means (None: unmapped)."""
        return (
            distributor_id in self.distributor_ids
            and sku in self.skus
            and self.valid_from <= utc(sold_at).date() <= self.valid_to
            and self.reseller_id in (None, reseller_id, master_id)
            and self.end_customer in (None, end_customer, customer_master)
            and currency == self.currency
        )


@quick_init
@dataclass(frozen=True, slots=True)
class PosLine:
    """What a claim line is checked against of the POS line it names."""

    distributor_id: str
    transaction_id: str
    sku: str
    quantity: int
    reseller_id: str
    end_customer: str | None
    sold_at: datetime
    currency: str
    event_id: UUID
    #: the master its reseller meant when the sale was judged (None: unmapped); a claim
    #: line is checked by identity as the sale was priced, whatever the mapping is now
    master_id: str | None = None
    #: the master its end customer meant when the sale was judged (None: unmapped, or none)
    customer_master: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class BookCost:
    """The price book's distributor_cost in effect at the sale, the price that set it, and
    the agreement version whose terms priced it (bound its named list or discounted its
    list price; None: none did)."""

    cost: Decimal
    currency: str
    price_event_id: UUID
    agreement_event_id: UUID | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class LineInputs:
    """Everything one line's decision reads, looked up by the caller."""

    distributor_id: str
    claim_id: str
    line: ClaimLine
    terms: AuthorizationTerms | None
    pos: PosLine | None
    book: BookCost | None
    #: units of the POS line already accepted on other claim lines
    pos_units_taken: int
    #: units the authorization's cap has left (None: no cap)
    cap_left: int | None


@quick_init
@dataclass(frozen=True, slots=True)
class LineDecision:
    """The answer on one claim line, with the figures and what it was decided against."""

    distributor_id: str
    claim_id: str
    line_no: int
    transaction_id: str
    sku: str
    authorization_id: str
    status: LineStatus
    #: the rejection reason, or the adjustments made (empty when accepted as claimed)
    reasons: tuple[str, ...]
    quantity_claimed: int
    quantity_accepted: int
    amount_claimed: Decimal
    amount_accepted: Decimal
    currency: str
    book_cost: Decimal | None = None
    authorized_cost: Decimal | None = None
    pos_event_id: UUID | None = None
    price_event_id: UUID | None = None
    authorization_event_id: UUID | None = None
    #: the agreement version that priced the book cost (`BookCost.agreement_event_id`)
    agreement_event_id: UUID | None = None

    @property
    def reason(self) -> str | None:
        return self.reasons[0] if self.reasons else None

    @property
    def takes_units(self) -> bool:
        return self.status in ("accepted", "adjusted")


def claim_key(distributor_id: str, claim_id: str) -> str:
    """The idempotency key of a claim: a resend under it is a duplicate."""
    return f"claim|{distributor_id}|{claim_id}"


def claim_fingerprint(claim: DebitClaimSubmitted) -> str:
    """Digest of what a claim claims (distributor, claim id, its lines by line_no): the same
    claim sent again, at another time or in another file, has the same one."""
    lines = sorted(claim.lines, key=lambda line: line.line_no)
    text = "\n".join([f"{claim.distributor_id}|{claim.claim_id}", *map(_line_text, lines)])
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _line_text(line: ClaimLine) -> str:
    """A line's fields joined by "|" (no id holds one), amounts written alike however they
    were sent ("25.5" and "25.50")."""
    return (
        f"{line.line_no}|{line.transaction_id}|{line.sku}|{line.quantity}|"
        f"{line.authorization_id}|{line.cost_paid.normalize():f}|"
        f"{line.authorized_cost.normalize():f}|{line.amount_claimed.normalize():f}|"
        f"{line.currency}"
    )


def claim_aggregate_id(distributor_id: str, claim_id: str) -> UUID:
    """The id of a claim's audit aggregate, derived from its key."""
    return derived_id("debit-claim", distributor_id, claim_id)


@lru_cache(maxsize=4096)  # a few (book, authorized, quantity)s, asked once a line decided
def debit_amount(
    book_cost: Decimal, authorized_cost: Decimal, quantity: int, currency: str
) -> Decimal:
    """(book − authorized) × quantity in `currency`, rounded half-up to its minor unit
    (equal figures give the same amount, to that unit, however they are written: a
    remembered one is the same)."""
    return round_money((book_cost - authorized_cost) * quantity, currency)


@lru_cache(maxsize=4096)  # a few (book, authorized) pairs, asked once a line
def fewest_debited_units(book_cost: Decimal, authorized_cost: Decimal, currency: str) -> int | None:
    """The fewest units whose `debit_amount` is above zero (None: no quantity has one,
    the authorized cost is not below the book cost). The amount only grows with the
    units, so a line granted fewer takes none (`no_debit_due`); the cap's ledger is told,
    so it never gives out units a line would give back."""
    difference = book_cost - authorized_cost
    if difference <= 0:
        return None
    with localcontext() as context:
        context.prec = 50
        half_unit = minor_unit(currency) / 2
        units = max(int((half_unit / difference).to_integral_value(ROUND_CEILING)), 1)
    while units > 1 and debit_amount(book_cost, authorized_cost, units - 1, currency) > 0:
        units -= 1
    while debit_amount(book_cost, authorized_cost, units, currency) <= 0:
        units += 1
    return units


def decide_line(inputs: LineInputs) -> LineDecision:
    """The decision on one claim line (the module docstring gives the order)."""
    wanted = units_wanted(inputs)
    if isinstance(wanted, LineDecision):
        return wanted
    return finish_line(inputs, wanted, inputs.cap_left)


def units_wanted(inputs: LineInputs) -> LineDecision | int:
    """Checks 1. to 10.: the decision when one fails (rejected, or pending), else the units
    of its POS line the line may take, before the cap is asked (`inputs.cap_left` unread).

    Deciding in two phases (docs/CLAIMS.md, the cap shared across partitions) runs this
    where the POS line lives and `finish_line` when the cap's ledger has answered.
    """
    reason = _coverage(inputs)
    if reason in NOT_COVERED:
        # decided by the authorization alone: what its POS line and price are, or whether
        # they have arrived yet, is no part of it (nor of its lineage)
        return _closed(replace(inputs, pos=None, book=None), "rejected", reason)
    if reason is not None:
        return _closed(inputs, "pending_pos" if reason == PENDING else "rejected", reason)
    assert inputs.pos is not None
    quantity = min(inputs.line.quantity, inputs.pos.quantity - inputs.pos_units_taken)
    if quantity <= 0:
        return _closed(inputs, "rejected", "already_claimed")
    return quantity


def finish_line(inputs: LineInputs, wanted: int, cap_left: int | None) -> LineDecision:
    """Checks 11. and 12. for a line that passed 1. to 10. wanting `wanted` units, with
    `cap_left` units of the cap for it (None: no cap)."""
    assert inputs.terms is not None and inputs.book is not None
    line = inputs.line
    adjustments: list[str] = []
    quantity = wanted
    if quantity < line.quantity:
        adjustments.append("quantity_reduced")
    if cap_left is not None and quantity > cap_left:
        if cap_left <= 0:
            return _closed(inputs, "rejected", "cap_exhausted")
        quantity = cap_left
        adjustments.append("cap_partial")
    amount = debit_amount(
        inputs.book.cost, inputs.terms.authorized_cost, quantity, inputs.terms.currency
    )
    if amount <= 0:
        return _closed(inputs, "rejected", "no_debit_due")
    costs = (line.cost_paid, line.authorized_cost)
    if costs != (inputs.book.cost, inputs.terms.authorized_cost):
        adjustments.append("cost_corrected")
    elif amount != line.amount_claimed and not adjustments:
        adjustments.append("amount_corrected")
    changed = quantity != line.quantity or amount != line.amount_claimed
    status: LineStatus = "adjusted" if changed else "accepted"
    reasons = adjustments if changed else []
    return _closed(inputs, status, *reasons, quantity=quantity, amount=amount)


def no_pos_line(
    distributor_id: str, claim_id: str, line: ClaimLine, terms: AuthorizationTerms | None
) -> LineDecision:
    """A pending line whose POS line did not arrive within the wait: rejected."""
    inputs = LineInputs(distributor_id, claim_id, line, terms, None, None, 0, None)
    return _closed(inputs, "rejected", "no_pos_line")


#: checks 1. and 2.: the line is not the authorization's to claim
NOT_COVERED: Final = frozenset({"unknown_authorization", "wrong_distributor", "wrong_sku"})


def _coverage(inputs: LineInputs) -> str | None:
    """The first failing check before the quantity (1. to 9.), or None."""
    terms, pos, line = inputs.terms, inputs.pos, inputs.line
    if terms is None:
        return "unknown_authorization"
    if inputs.distributor_id not in terms.distributor_ids:
        return "wrong_distributor"
    if line.sku not in terms.skus:
        return "wrong_sku"
    if pos is None:
        return PENDING
    if pos.sku != line.sku:
        return "sku_mismatch"
    sold_on = utc(pos.sold_at).date()
    if sold_on > terms.valid_to:  # checked first: an authorization may expire before it began
        return "expired"
    if sold_on < terms.valid_from:
        return "not_yet_valid"
    if terms.reseller_id not in (None, pos.reseller_id, pos.master_id):
        return "wrong_reseller"
    if terms.end_customer not in (None, pos.end_customer, pos.customer_master):
        return "wrong_end_customer"
    if pos.quantity <= 0:
        return "return_line"
    if line.currency != terms.currency or pos.currency != terms.currency:
        return "currency_mismatch"
    if inputs.book is None or inputs.book.currency != terms.currency:
        return "no_book_cost"
    return None


def _closed(
    inputs: LineInputs,
    status: LineStatus,
    *reasons: str,
    quantity: int = 0,
    amount: Decimal | None = None,
) -> LineDecision:
    """The line's decision; `amount` None: nothing accepted (zero in the line's currency)."""
    line, terms, pos, book = inputs.line, inputs.terms, inputs.pos, inputs.book
    return LineDecision(
        distributor_id=inputs.distributor_id,
        claim_id=inputs.claim_id,
        line_no=line.line_no,
        transaction_id=line.transaction_id,
        sku=line.sku,
        authorization_id=line.authorization_id,
        status=status,
        reasons=tuple(reasons),
        quantity_claimed=line.quantity,
        quantity_accepted=quantity,
        amount_claimed=line.amount_claimed,
        amount_accepted=round_money(Decimal(0), line.currency) if amount is None else amount,
        currency=line.currency,
        book_cost=None if book is None else book.cost,
        authorized_cost=None if terms is None else terms.authorized_cost,
        pos_event_id=None if pos is None else pos.event_id,
        price_event_id=None if book is None else book.price_event_id,
        authorization_event_id=None if terms is None else terms.event_id,
        agreement_event_id=None if book is None else book.agreement_event_id,
    )
