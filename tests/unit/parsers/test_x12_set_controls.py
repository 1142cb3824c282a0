"""A transaction set whose ST02 an earlier set of its functional group used is rejected
as a whole, by every X12 door's parser alike: its report error names ST02, its lines are
not taken, and the 997 answers it AK5 R / 23 (Transaction Set Control Number Not Unique
within the Functional Group)."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.ingest.formats.upload import Format, ReportClosed
from streams.ingest.parsers.common import LineError
from streams.ingest.parsers.edi844 import parse_844_all
from streams.ingest.parsers.edi852 import parse_852_all
from streams.ingest.parsers.edi867 import parse_867_all
from streams.ingest.parsers.x12_ack import Finding
from tests.unit.parsers.conftest import RECEIVED_AT
from tests.unit.parsers.edi_builder import interchange
from tests.unit.parsers.test_edi844 import HEADER as CLAIM_HEADER
from tests.unit.parsers.test_edi844 import LINE as CLAIM_LINE
from tests.unit.parsers.test_edi852 import HEADER as COUNT_HEADER
from tests.unit.parsers.test_x12_ack import HEADER, LINE, ack_of, texts
from tests.unit.parsers.test_x12_ack_headings import uploaded

#: one valid set of each kind, and its group's GS01
VALID: dict[Format, tuple[str, list[str]]] = {
    "867": ("PT", [*HEADER, *LINE, "UIT*EA*2.50", "CTT*1*2"]),
    "852": ("PD", [*COUNT_HEADER, "LIN**VP*A", "ZA*QA*3*EA"]),
    "844": ("CF", [*CLAIM_HEADER, *CLAIM_LINE]),
}


def sent(fmt: Format, controls: list[str]) -> bytes:
    functional_id, body = VALID[fmt]
    sets = [body] * len(controls)
    return interchange(*sets, functional_id=functional_id, set_id=fmt, controls=controls)


def taken(fmt: Format, data: bytes) -> list[tuple[bool, list[tuple[str | None, str]]]]:
    """Per set: whether the parser took it, and its report (claim) errors."""
    stream, at = io.BytesIO(data), RECEIVED_AT
    if fmt == "867":
        reports = parse_867_all(stream, received_at=at, distributor_id="DIST-001")
        return [(r.submitted is not None, pairs(r.report_errors)) for r in reports]
    if fmt == "852":
        counts = parse_852_all(stream, received_at=at, distributor_id="DIST-001")
        return [(bool(r.counts), pairs(r.report_errors)) for r in counts]
    claims = parse_844_all(stream, received_at=at, distributor_id="DIST-001")
    return [(c.claim is not None, pairs(c.claim_errors)) for c in claims]


def pairs(errors: list[LineError]) -> list[tuple[str | None, str]]:
    return [(error.element, error.reason) for error in errors]


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(sorted(VALID)),
    st.lists(st.sampled_from(["0001", "0002", "7"]), min_size=1, max_size=4),
)
def test_a_repeated_control_number_rejects_that_set_alone_at_every_door(
    fmt: Format, controls: list[str]
) -> None:
    data = sent(fmt, controls)
    repeated = [control in controls[:at] for at, control in enumerate(controls)]
    sets = taken(fmt, data)
    assert [ok for ok, _ in sets] == [not again for again in repeated]
    for (_, errors), again in zip(sets, repeated, strict=True):
        assert (errors[:1] == [("ST02", "duplicate_control_number")]) == again
        assert again or errors == []

    items, ack = uploaded(fmt, data)
    answers = texts(ack, "AK2", "AK5")
    assert answers[0::2] == [f"AK2*{fmt}*{control}~" for control in controls]
    assert answers[1::2] == ["AK5*R*23~" if again else "AK5*A~" for again in repeated]
    first = len(set(controls))
    status = "A" if first == len(controls) else "P"
    assert texts(ack, "AK9") == [f"AK9*{status}*{len(controls)}*{len(controls)}*{first}~"]
    if fmt != "844":  # a report's answer says why it was rejected whole
        closed = [item for item in items if isinstance(item, ReportClosed)]
        answered = [[(p["element"], p["reason"]) for p in c.info["report_errors"]] for c in closed]
        expected = [("ST02", "duplicate_control_number")]
        assert answered == [expected if again else [] for again in repeated]


def test_control_numbers_are_unique_per_group_not_per_interchange() -> None:
    text = sent("867", ["0001"]).decode()
    start, end = text.index("GS*"), text.index("IEA*")
    second = text[start:end].replace("*101*X*", "*102*X*").replace("GE*1*101", "GE*1*102")
    data = (text[:end] + second + text[end:].replace("IEA*1*", "IEA*2*")).encode()
    assert [ok for ok, _ in taken("867", data)] == [True, True]


def test_a_set_finding_has_no_ak3_and_comes_before_the_segments_code() -> None:
    """AK5 R 23 alone; with a segment in error too, 23 then 5 (AK502, AK503)."""
    data = sent("867", ["0001", "0001"])
    st2 = 3 + len(VALID["867"][1]) + 2  # ISA 1, GS 2, the first set's ST 3 … SE
    repeated = Finding(st2, "ST02", "duplicate_control_number", whole=True)
    assert texts(ack_of(data, [repeated]), "AK2", "AK3", "AK5") == [
        "AK2*867*0001~",
        "AK5*A~",
        "AK2*867*0001~",
        "AK5*R*23~",
    ]
    also = Finding(st2 + 1, "BPT02", "missing_report_number", whole=True)
    assert texts(ack_of(data, [repeated, also]), "AK3", "AK5")[-2:] == [
        "AK3*BPT*2**8~",
        "AK5*R*23*5~",
    ]
