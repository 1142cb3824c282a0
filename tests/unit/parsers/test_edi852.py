"""X12 852 → InventoryCounted per item; other activity listed as ignored."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest

from schemas.events import InventoryCounted
from streams.ingest.parsers.edi852 import REASONS, ParsedActivity, parse_852, parse_852_all
from streams.ingest.parsers.x12 import X12Error
from tests.unit.parsers.conftest import RECEIVED_AT, SAMPLES
from tests.unit.parsers.edi_builder import interchange

HEADER = ["XQ*H*20260330*20260405*INV-W14", "N1*DS*ACME*91*DIST-001"]
END = datetime(2026, 4, 5, 23, 59, 59, tzinfo=UTC)


def parse(body: list[str], distributor_id: str | None = None) -> ParsedActivity:
    data = interchange(body, functional_id="PD", set_id="852")
    return parse_852(io.BytesIO(data), received_at=RECEIVED_AT, distributor_id=distributor_id)


def test_weekly_sample() -> None:
    with (SAMPLES / "852_weekly.edi").open("rb") as stream:
        report = parse_852(stream, received_at=RECEIVED_AT)
    assert report.accepted
    assert (report.handling, report.report_id) == ("H", "INVRPT-2026-W14")
    assert (report.period_start, report.period_end) == (date(2026, 3, 30), date(2026, 4, 5))
    assert report.distributor_id == "DIST-001"  # N1*DS preferred over N1*RL
    counts = [(c.sku, c.on_hand, c.unit, c.counted_at) for c in report.counts]
    assert counts == [
        ("WIDGET-100", 120, "EA", END),
        ("012345678912", 48, "EA", END),  # OH wins over QA
        ("GADGET-200", 10, "CA", END),  # QA from SDQ locations 6 + 4
        ("GADGET-200", 9, "CA", datetime(2026, 4, 2, 23, 59, 59, tzinfo=UTC)),  # its own date
        ("CABLE-300", 310, None, END),  # QE wins over QA
    ]
    for count in report.counts:
        assert isinstance(count, InventoryCounted)
        assert count.source == "edi852" and count.distributor_id == "DIST-001"
        assert count.occurred_at == count.counted_at and count.recorded_at == RECEIVED_AT
    ignored = [(i.segment_index, i.sku, i.code, i.quantity) for i in report.ignored]
    assert ignored == [
        (12, "WIDGET-100", "QS", "30"),
        (13, "WIDGET-100", "QR", "50"),
        (16, "012345678912", "QA", "40"),
        (17, "012345678912", "QP", "24"),
        (24, "CABLE-300", "QA", "300"),
        (25, "CABLE-300", "QU", "2"),
    ]
    assert report.ignored[0].description == "quantity sold"
    assert "superseded by ZA*OH" in report.ignored[2].description
    assert [(e.segment_index, e.element, e.reason) for e in report.line_errors] == [
        (27, "ZA02", "negative_on_hand"),
        (28, "LIN02", "missing_item"),  # LIN**SN*SER-1: a qualifier not known
    ]


def test_same_file_gives_same_ids() -> None:
    data = (SAMPLES / "852_weekly.edi").read_bytes()
    first = parse_852(io.BytesIO(data), received_at=RECEIVED_AT)
    again = parse_852(io.BytesIO(data), received_at=datetime(2026, 5, 1, tzinfo=UTC))
    assert [c.event_id for c in first.counts] == [c.event_id for c in again.counts]
    assert len({c.event_id for c in first.counts}) == len(first.counts)


def test_period_end_defaults_to_the_reporting_date() -> None:
    report = parse(["XQ*G*20260405", HEADER[1], "LIN**VP*A", "ZA*QA*3*EA"])
    assert report.counts[0].counted_at == END


def test_za_dtm_with_a_time() -> None:
    report = parse([*HEADER, "LIN**VP*A", "ZA*QA*3*EA", "DTM*007*20260403*1700*CS"])
    assert report.counts[0].counted_at == datetime(2026, 4, 3, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("activity", "reason", "element", "index"),
    [
        (["ZA*QA*abc*EA"], "bad_quantity", "ZA02", 7),
        (["ZA*QA*1.5*EA"], "bad_quantity", "ZA02", 7),
        (["ZA*QA*-1*EA"], "negative_on_hand", "ZA02", 7),
        (["ZA*QA*1000000000001*EA"], "bad_quantity", "ZA02", 7),
        (["ZA*QA*1*EACH"], "bad_unit", "ZA03", 7),
        (["ZA*QA**EA"], "missing_quantity", "ZA02", 7),
        (["ZA*QA*1*EA*007*2026133"], "bad_date", "ZA05", 7),
        (["ZA*QA*1*EA", "DTM*007*20260431"], "bad_date", "DTM02", 8),
        (["ZA*QA**EA", "SDQ*CA*92*A*1"], "unit_mismatch", "SDQ01", 8),
        (["ZA*QA**EA", "SDQ*EA*92*A*x"], "bad_quantity", "SDQ04", 8),
        (["ZA*QA*1*EA", "ZA*QA*2*EA"], "duplicate_count", "ZA01", 8),
    ],
)
def test_each_bad_activity_gives_its_specific_error(
    activity: list[str], reason: str, element: str, index: int
) -> None:
    report = parse([*HEADER, "LIN**VP*A", *activity, "LIN**VP*GOOD", "ZA*QA*5*EA"])
    assert [c.sku for c in report.counts][-1] == "GOOD"
    assert len(report.line_errors) == 1, report.line_errors
    error = report.line_errors[0]
    assert (error.reason, error.element, error.segment_index) == (reason, element, index)
    assert error.reason in REASONS


def test_an_item_id_the_wire_schema_refuses_is_an_invalid_field() -> None:
    report = parse([*HEADER, "LIN**VP*A\u200bB", "ZA*QA*1*EA", "LIN**VP*GOOD", "ZA*QA*5*EA"])
    assert [c.sku for c in report.counts] == ["GOOD"]
    error = report.line_errors[0]
    assert (error.reason, error.element, error.segment_index) == ("invalid_field", "sku", 7)
    assert "contains U+200B" in error.message


def test_za_before_any_lin_is_an_orphan() -> None:
    report = parse([*HEADER, "ZA*QA*1*EA", "LIN**VP*A", "ZA*QA*2*EA"])
    assert [e.reason for e in report.line_errors] == ["orphan_segment"]
    assert [c.on_hand for c in report.counts] == [2]


@pytest.mark.parametrize(
    ("header", "reason", "element"),
    [
        (["N1*DS*ACME*91*DIST-001"], "missing_xq", None),
        (["XQ*Z*20260330*20260405", HEADER[1]], "unsupported_handling", "XQ01"),
        (["XQ*H*2026033*20260405", HEADER[1]], "bad_date", "XQ02"),
        (["XQ*H*20260330*20260230", HEADER[1]], "bad_date", "XQ03"),
        (["XQ*H*20260405*20260330", HEADER[1]], "bad_period", "XQ03"),
        ([HEADER[0]], "missing_distributor", None),
        ([HEADER[0], "N1*RL*WAREHOUSE"], "missing_distributor", "N104"),
    ],
)
def test_each_bad_header_gives_its_report_error(
    header: list[str], reason: str, element: str | None
) -> None:
    report = parse([*header, "LIN**VP*A", "ZA*QA*1*EA"])
    assert [(e.reason, e.element) for e in report.report_errors] == [(reason, element)]
    assert report.counts == [] and not report.accepted


def test_reporting_location_names_the_distributor_without_n1_ds() -> None:
    report = parse([HEADER[0], "N1*RL*DC*92*DIST-009", "LIN**VP*A", "ZA*QA*1*EA"])
    assert report.counts[0].distributor_id == "DIST-009"


def test_uploader_must_match() -> None:
    report = parse([*HEADER, "LIN**VP*A", "ZA*QA*1*EA"], distributor_id="DIST-002")
    assert [e.reason for e in report.report_errors] == ["distributor_mismatch"]
    report = parse([HEADER[0], "LIN**VP*A", "ZA*QA*1*EA"], distributor_id="DIST-002")
    assert report.counts[0].distributor_id == "DIST-002"


@pytest.mark.parametrize("uploader", [None, "DIST-001"])
def test_a_second_n1_ds_naming_another_distributor_is_a_report_error(uploader: str | None) -> None:
    second = "N1*DS*OTHER*91*DIST-002"
    for body in (
        [*HEADER, second, "LIN**VP*A", "ZA*QA*1*EA"],
        [*HEADER, "LIN**VP*A", second, "ZA*QA*1*EA"],  # in an item's loop, too
    ):
        report = parse(body, distributor_id=uploader)
        errors = [(e.reason, e.element, e.segment_index) for e in report.report_errors]
        assert errors == [("distributor_mismatch", "N104", body.index(second) + 4)]
        assert "'DIST-002'" in report.report_errors[0].message and report.counts == []
    same = parse([*HEADER, HEADER[1], "LIN**VP*A", "ZA*QA*1*EA"], distributor_id=uploader)
    assert same.accepted and same.counts[0].distributor_id == "DIST-001"


def test_ctt_counts_lin_loops() -> None:
    assert parse([*HEADER, "LIN**VP*A", "ZA*QA*1*EA", "CTT*1"]).accepted
    report = parse([*HEADER, "LIN**VP*A", "ZA*QA*1*EA", "CTT*2"])
    assert [(e.reason, e.element) for e in report.report_errors] == [("ctt_mismatch", "CTT01")]


def test_a_rejected_report_withholds_each_count_it_would_have_given() -> None:
    """Its lines are rejected with it: each on-hand ZA that would be a count, dated or not
    (with no period, an undated one has no time), in segment order; line errors keep
    their own reason and superseded or other activities stay ignored."""
    body = [
        "LIN**VP*A", "ZA*QA*1*EA", "ZA*OH*2*EA", "ZA*QS*5*EA",
        "LIN**VP*B", "ZA*QA*3*EA*007*20260402", "ZA*QA*-1*EA",
    ]  # fmt: skip
    for header in (["XQ*H*2026XX30", HEADER[1]], [*HEADER]):
        report = parse([*header, *body, "CTT*9"])
        assert not report.accepted and report.counts == []
        at = {text: index for index, text in enumerate(body, start=len(header) + 4)}
        if header[0] == HEADER[0]:  # with a period: OH supersedes QA at the same time
            expected = ["ZA*OH*2*EA", "ZA*QA*3*EA*007*20260402"]
        else:
            expected = ["ZA*QA*1*EA", "ZA*OH*2*EA", "ZA*QA*3*EA*007*20260402"]
        assert report.withheld == [(at[text], text + "~") for text in expected]
        assert [e.reason for e in report.line_errors] == ["negative_on_hand"]
    assert parse([*HEADER, *body]).withheld == []  # a report that stands withholds nothing


def test_unknown_activity_codes_are_listed_not_dropped() -> None:
    report = parse([*HEADER, "LIN**VP*A", "ZA*Q9*4*EA"])
    assert report.counts == []
    assert [(i.code, i.description) for i in report.ignored] == [("Q9", "activity code not used")]


def test_an_867_is_refused_and_structure_is_checked() -> None:
    data = interchange(["BPT*00*R*20260401"])
    with pytest.raises(X12Error, match="expected an 852"):
        parse_852(io.BytesIO(data), received_at=RECEIVED_AT)
    data = interchange(HEADER, HEADER, functional_id="PD", set_id="852")
    assert len(parse_852_all(io.BytesIO(data), received_at=RECEIVED_AT)) == 2
    with pytest.raises(X12Error, match="exactly one 852"):
        parse_852(io.BytesIO(data), received_at=RECEIVED_AT)
    truncated = data[: data.index(b"SE*")]
    with pytest.raises(X12Error, match="without SE"):
        parse_852(io.BytesIO(truncated), received_at=RECEIVED_AT)
