"""Reporting and data-quality rows: reports submitted, compliance periods, quality per
distributor, dead letters."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.rows.base import Counts, Day, DistributorId, RowModel, Time


class ReportRow(RowModel):
    """Sell-through reports submitted, one row each."""

    identified_by = ("distributor_id", "report_id")

    distributor_id: DistributorId
    report_id: str = Field(description="The report.")
    period_start: Day = Field(description="First day the report covers.")
    period_end: Day = Field(description="Last day the report covers.")
    submitted_at: Time = Field(description="When it was submitted.")
    due: Time = Field(
        description="Due date of the reporting period holding its last day, on its "
        "distributor's calendar (the agreement's schedule; without one, the week's following "
        "Wednesday 23:59:59 UTC)."
    )
    status: Literal["on_time", "late"] = Field(
        description="`on_time` (before that period's due day plus grace ended) or `late`."
    )
    line_count: int = Field(description="Lines the report declared.")
    replaces: str | None = Field(description="The report this one replaces, as named by it.")
    reversed_report: str | None = Field(
        description="The report whose lines this one reversed: the named one, or its replacement."
    )
    lines_reversed: int = Field(description="Lines of the replaced report this one reversed.")
    replaces_unknown: bool = Field(
        description="The replaced report's header was never received (`lines_reversed` counts "
        "its lines)."
    )
    replaced_by: str | None = Field(description="The report that replaced this one.")


class CompliancePeriod(RowModel):
    """A distributor's reporting period on its own calendar (the schedule of the agreement
    version governing the period's last day, as known when it ended; without an agreement,
    weekly due on the following Wednesday) and its status."""

    identified_by = ("distributor_id", "frequency", "period_start")

    distributor_id: DistributorId
    frequency: Literal["weekly", "monthly"] = Field(description="The period's frequency.")
    period_start: Day = Field(description="First day of the period (a Monday, or a month's 1st).")
    period_end: Day = Field(description="Last day of the period.")
    week: Day = Field(
        description="Deprecated (removed in the next release): the same as `period_start`."
    )
    due: Time = Field(description="When its report is due (the due day, 23:59:59 UTC).")
    late_from: Time = Field(description="The first instant its report is late (after grace).")
    status: Literal["on_time", "late", "missing"] = Field(
        description="`on_time`, `late` or `missing`."
    )
    report_id: str | None = Field(description="The report that decided the period.")
    submitted_at: Time | None = Field(description="When that report was submitted.")
    agreement_event_id: str | None = Field(
        description="The event of the agreement version whose schedule expects the period "
        "(null: no agreement, the seed calendar)."
    )


class QualityRow(RowModel):
    """Data quality per distributor: what happened to every line it sent, and report
    compliance per reporting period on its own calendar."""

    identified_by = ("distributor_id",)

    distributor_id: DistributorId
    accepted: int = Field(description="Lines applied.")
    duplicates: int = Field(description="Resent lines with identical content (not applied again).")
    conflicts: int = Field(
        description="Same key as an accepted line, different content (dead-lettered)."
    )
    rejected: int = Field(description="Lines rejected (all reasons).")
    rejected_by_reason: Counts = Field(
        description='Rejected lines by reason, e.g. `{"unknown_sku": 2}`.'
    )
    reports_on_time: int = Field(
        description="Reporting periods whose report came by the due date (plus grace)."
    )
    reports_late: int = Field(description="Reporting periods whose report came after it.")
    periods_missing: int = Field(
        description="Reporting periods without a report whose due date (plus grace) had "
        "passed at `as_of`."
    )
    missing_by_frequency: Counts = Field(
        description='`periods_missing` by frequency, e.g. `{"weekly": 1, "monthly": 2}`.'
    )
    weeks_missing: int = Field(
        description="Deprecated (removed in the next release): the weekly periods missing."
    )


class DeadLetterRow(RowModel):
    """Dead letters by reason (the read models: per partition of the input; sum over
    partitions for the channel)."""

    identified_by = ("reason",)

    reason: str = Field(description="Why the input could not be applied.")
    count: int = Field(description="Inputs dead-lettered for that reason.")


class DeadLetterLine(RowModel):
    """A rejected line as stored on the dead-letter topic."""

    partition: int = Field(description="Where the dead letter is on the dead-letter topic.")
    offset: int = Field(description="Its offset there.")
    reason: str = Field(
        description="Why it was rejected.",
        examples=["unknown_sku", "bad_quantity", "conflicting_duplicate"],
    )
    detail: str = Field(description="Which line, which field, why.")
    key: str | None = Field(description="The message key: the distributor's id on its topics.")
    source: str = Field(description="The topic it was read from (a file in a replay).")
    door: str | None = Field(
        description="The door the line came in by, its event's `source` (null: the input "
        "was no event, or was dead-lettered before this was kept).",
        examples=["csv", "edi867", "edi852", "api", "kafka"],
    )
    source_ref: str | None = Field(
        description="Where the gateway read the line in its file.",
        examples=["weekly.csv:42", "w14.edi 867 R-17 segment 20", "api[3]"],
    )
    source_partition: int | None = Field(description="Kafka partition it came from.")
    source_offset: int | None = Field(
        description="Kafka offset it came from (a line number in a replayed events file; "
        "null in the embedded demo, which has no Kafka)."
    )
    source_index: int | None = Field(
        description="The event's place in its bundle (null: the message is one event)."
    )
    recorded_at: Time = Field(description="When it was dead-lettered.")
    original: str | None = Field(description="The bytes as received, if UTF-8 text.")
    original_b64: str = Field(description="The bytes as received, base64.")
    personal: dict[str, str] = Field(
        description="What each sealed personal field in the original shows the caller: "
        "token → the clear text, or `erased` (docs/PRIVACY.md).",
    )
