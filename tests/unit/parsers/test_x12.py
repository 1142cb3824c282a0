"""The X12 tokenizer: delimiters from the ISA, envelope checks, streaming."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.ingest.parsers.x12 import X12Error, tokenize
from tests.unit.parsers.conftest import SAMPLES
from tests.unit.parsers.edi_builder import interchange, isa

BODY = ["BPT*00*R1*20260406", "DTM*090*20260330", "DTM*091*20260405"]


def segments(data: bytes, **kwargs: int) -> list[tuple[int, str, list[str]]]:
    return [(s.index, s.tag, s.elements) for s in tokenize(io.BytesIO(data), **kwargs)]


def error_of(data: bytes) -> X12Error:
    with pytest.raises(X12Error) as caught:
        list(tokenize(io.BytesIO(data)))
    return caught.value


def test_tokenizes_a_sample_interchange() -> None:
    result = list(tokenize((SAMPLES / "867_weekly.edi").open("rb")))
    assert [s.tag for s in result[:4]] == ["ISA", "GS", "ST", "BPT"]
    assert [s.index for s in result] == list(range(1, len(result) + 1))
    assert result[-1].tag == "IEA"
    isa_segment = result[0]
    assert len(isa_segment.elements) == 16
    assert isa_segment.get(6) == "ACMEDIST"  # padded, stripped by get()
    assert isa_segment.elements[5] == "ACMEDIST       "
    lin = next(s for s in result if s.tag == "LIN")
    assert lin.elements == ["1", "VP", "WIDGET-100", "UP", "012345678905"]
    assert lin.get(9) == ""
    assert lin.name(3) == "LIN03"
    assert lin.text == "LIN*1*VP*WIDGET-100*UP*012345678905~"


@pytest.mark.parametrize(
    ("element", "component", "terminator", "newline"),
    [
        ("*", ">", "~", ""),
        ("*", ">", "~", "\n"),
        ("*", ">", "~", "\r\n"),
        ("|", "^", "\x85", "\n"),
        ("\x1d", "\x1f", "\x1c", ""),
        ("*", ":", "\n", ""),
        ("*", ":", "'", "\r\n"),
    ],
)
def test_delimiters_come_from_the_isa(
    element: str, component: str, terminator: str, newline: str
) -> None:
    data = interchange(
        [*BODY, "QTY*39*2*CA>1"],
        element=element,
        component=component,
        terminator=terminator,
        newline=newline,
    )
    if terminator == "\x85":
        data = data.replace(terminator.encode(), b"\x85")
    result = list(tokenize(io.BytesIO(data)))
    tags = [s.tag for s in result]
    assert tags == ["ISA", "GS", "ST", "BPT", "DTM", "DTM", "QTY", "SE", "GE", "IEA"]
    qty = result[6]
    assert qty.elements == ["39", "2", f"CA{component}1"]
    assert qty.components(3) == ["CA", "1"]
    assert qty.delimiters.element == element


def test_crlf_terminator_byte_is_cr_and_lf_is_skipped() -> None:
    data = interchange(BODY, terminator="\r", newline="\n")
    assert [t for _, t, _ in segments(data)][-1] == "IEA"


def test_reading_one_byte_at_a_time_gives_the_same_segments() -> None:
    data = (SAMPLES / "867_weekly.edi").read_bytes()
    assert segments(data, chunk_size=1) == segments(data)
    assert segments(data, chunk_size=7) == segments(data)


def test_leading_bom_and_blank_lines_and_trailing_whitespace_are_accepted() -> None:
    data = b"\xef\xbb\xbf\r\n  \n" + interchange(BODY) + b"\r\n\r\n  "
    assert segments(data)[0][1] == "ISA"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="\x00\x1a \r\n", min_size=1, max_size=600))
def test_a_files_padding_after_the_iea_is_no_segment(padding: str) -> None:
    """NUL blocks (a transfer's fixed-size blocks filled up) and Ctrl-Z (DOS's end of
    file) after the last segment are the file's, not the interchange's: read as if absent."""
    data = interchange(BODY)
    assert segments(data + padding.encode()) == segments(data)


def test_padding_before_a_further_segment_is_still_an_error() -> None:
    error = error_of(interchange(BODY) + b"\x1a\x00IEA*1*000000101~")
    assert error.segment_index == len(segments(interchange(BODY))) + 1
    assert "does not start with a segment tag" in error.message


def test_segment_not_valid_utf8_falls_back_to_latin1() -> None:
    data = interchange([*BODY, "N1*ST*CAF\xc9*91*R1"]).replace("CAFÉ".encode(), b"CAF\xc9")
    n1 = next(s for s in tokenize(io.BytesIO(data)) if s.tag == "N1")
    assert n1.get(2) == "CAFÉ"


# --- structural errors, each with its own message and position ------------------


def test_empty_input() -> None:
    error = error_of(b"")
    assert (error.segment_index, error.element_index) == (1, None)
    assert "empty input" in error.message


def test_a_segment_before_isa() -> None:
    error = error_of(b"GS*PT*A*B~" + interchange(BODY))
    assert error.segment_index == 1
    assert "expected the interchange header ISA first" in error.message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_interchange_is_named_as_such(encoding: str) -> None:
    """It was "expected the interchange header ISA first, found 'ÿþI\\x00S\\x00...'"."""
    error = error_of(interchange(BODY).decode("ascii").encode(encoding))
    assert error.segment_index == 1
    assert error.message.startswith("the file is UTF-16 text: an X12 interchange is ASCII")


def test_input_shorter_than_an_isa() -> None:
    error = error_of(isa().encode()[:60])
    assert "ends inside the ISA segment (60 of its 106" in error.message


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 15), st.data())
def test_an_isa_element_trimmed_is_named_with_its_width(position: int, data: st.DataObject) -> None:
    """An ISA whose element lost characters (an export that strips the blanks of its
    padding) is named by that element and its width, not by whatever character then lands
    where a delimiter stands."""
    values = isa().split("*")
    width = len(values[position])
    cut = data.draw(st.integers(1, width))
    values[position] = values[position][: width - cut]
    error = error_of("*".join(values).encode() + b"GS*PT*A*B*20260406*0830*101*X*004010~" * 3)
    assert (error.segment_index, error.element_index) == (1, position)
    assert f"ISA{position:02d} must be {width} characters, found {width - cut}" in error.message


def test_an_isa_with_its_blanks_trimmed_is_named_by_its_first_short_element() -> None:
    trimmed = "ISA*00**00**ZZ*ACMEDIST*ZZ*VENDORCO*260406*0830*U*00401*000000101*0*P*>~"
    error = error_of(trimmed.encode() + b"GS*PT*ACMEDIST*VENDORCO*20260406*0830*101*X*004010~")
    assert "ISA02 must be 10 characters, found 0 (the ISA is fixed-width: pad" in error.message


def test_alphanumeric_element_separator() -> None:
    data = interchange(BODY).replace(b"*", b"X")
    error = error_of(data)
    assert "element separator 'X'" in error.message


def test_same_character_for_two_delimiters() -> None:
    data = interchange(BODY, component="~")
    error = error_of(data)
    assert "must differ" in error.message


def test_alphanumeric_component_separator() -> None:
    text = isa()
    data = (text[:104] + "A" + text[105:]).encode()
    error = error_of(data + b"GS*PT~")
    assert (error.segment_index, error.element_index) == (1, 16)


def test_isa_element_of_the_wrong_width() -> None:
    text = isa().replace("*00401*000000101*", "*0040*1000000101*")
    error = error_of(text.encode() + b"IEA*0*000000101~")
    assert error.segment_index == 1
    assert error.element_index == 12
    assert "ISA12 must be 5 characters" in error.message


def test_non_numeric_isa13() -> None:
    text = isa(control="00000010A")
    error = error_of(text.encode())
    assert (error.segment_index, error.element_index) == (1, 13)


def test_body_written_with_another_element_separator() -> None:
    data = interchange(BODY).replace(b"BPT*00*R1", b"BPT|00|R1")
    error = error_of(data)
    assert error.segment_index == 4
    assert "does not start with a segment tag" in error.message


def test_unterminated_last_segment() -> None:
    data = interchange(BODY).rstrip(b"~\n")
    error = error_of(data)
    assert "unterminated segment" in error.message
    assert "IEA*1*000000101" in error.message


def test_segments_ending_with_another_terminator_than_the_isa_declares() -> None:
    head, _, body = interchange(BODY).partition(b"\n")
    data = head + b"\n" + body.replace(b"~\n", b"'\n")
    error = error_of(data)
    assert error.segment_index == 2
    assert "the segments here end with \"'\", but the ISA declares '~'" in error.message


def test_segments_ending_with_a_line_break_only() -> None:
    head, _, body = interchange(BODY).partition(b"\n")
    error = error_of(head + b"\n" + body.replace(b"~\n", b"\n"))
    assert "the segments here end with a line break only" in error.message


def test_missing_ge_is_named() -> None:
    data = interchange(BODY).replace(b"GE*1*101~\n", b"")
    error = error_of(data)
    assert "IEA inside functional group '101' (GS at segment 2): missing GE" in error.message


def test_truncated_interchange_missing_trailers() -> None:
    data = interchange(BODY)
    cut = data[: data.index(b"DTM*091")]
    error = error_of(cut)
    assert "input ends without SE" in error.message
    error = error_of(data[: data.index(b"GE*")])
    assert "input ends without GE" in error.message
    error = error_of(data[: data.index(b"IEA*")])
    assert "input ends without IEA" in error.message


def test_se01_must_count_the_segments_of_the_set() -> None:
    data = interchange(BODY).replace(b"SE*5*0001", b"SE*6*0001")
    error = error_of(data)
    assert (error.segment_index, error.element_index) == (7, 1)
    assert "SE01 says 6 segments but transaction set '0001' has 5" in error.message


def test_se02_must_match_st02() -> None:
    error = error_of(interchange(BODY).replace(b"SE*5*0001", b"SE*5*0002"))
    assert (error.segment_index, error.element_index) == (7, 2)


def test_ge01_must_count_the_sets() -> None:
    error = error_of(interchange(BODY, BODY).replace(b"GE*2*101", b"GE*1*101"))
    assert error.element_index == 1
    assert "GE01 says 1 transaction sets but the group has 2" in error.message


def test_ge02_must_match_gs06() -> None:
    error = error_of(interchange(BODY).replace(b"GE*1*101", b"GE*1*102"))
    assert error.element_index == 2


def test_iea01_must_count_the_groups() -> None:
    error = error_of(interchange(BODY).replace(b"IEA*1*", b"IEA*2*"))
    assert error.element_index == 1
    assert "IEA01 says 2 functional groups but the interchange has 1" in error.message


def test_iea02_must_match_isa13() -> None:
    error = error_of(interchange(BODY).replace(b"IEA*1*000000101", b"IEA*1*000000999"))
    assert error.element_index == 2


def test_non_numeric_count() -> None:
    error = error_of(interchange(BODY).replace(b"SE*5*", b"SE*five*"))
    assert "SE01 'five' must be a whole count" in error.message


def test_segment_outside_a_transaction_set() -> None:
    data = interchange(BODY).replace(b"ST*867*0001~", b"BPT*00~ST*867*0001~")
    error = error_of(data)
    assert error.segment_index == 3
    assert "BPT outside a transaction set" in error.message


def test_missing_se_before_the_next_st() -> None:
    data = interchange(BODY, BODY).replace(b"SE*5*0001~\n", b"")
    error = error_of(data)
    assert "ST inside transaction set '0001'" in error.message


def test_data_after_iea() -> None:
    error = error_of(interchange(BODY) + b"BPT*00~")
    assert "after IEA" in error.message


def test_second_isa_inside_the_interchange() -> None:
    data = interchange(BODY)
    data = data.replace(b"GE*", isa().encode() + b"GE*")
    error = error_of(data)
    assert "ISA" in error.message


def test_overlong_segment_is_caught_without_reading_everything() -> None:
    data = isa().encode() + b"GS*" + b"A" * 200_000
    with pytest.raises(X12Error) as caught:
        list(tokenize(io.BytesIO(data), max_segment_bytes=1000))
    assert "longer than 1000 bytes" in caught.value.message
    assert caught.value.segment_index == 2


def test_empty_segments_between_terminators_are_skipped() -> None:
    # regression: an empty segment once made the reader search the same spot forever
    data = interchange(BODY).replace(b"~\n", b"~~\r\n~", 3)
    assert [t for _, t, _ in segments(data)][:4] == ["ISA", "GS", "ST", "BPT"]
    assert segments(data, chunk_size=3) == segments(data)


def test_a_count_of_non_ascii_digits_is_an_x12_error() -> None:
    # "²" (Latin-1 0xB2) passes str.isdigit, but int() refuses it
    data = interchange(BODY).replace(b"SE*5*0001", b"SE*\xb2*0001")
    error = error_of(data)
    assert (error.segment_index, error.element_index) == (7, 1)
    assert "must be a whole count" in error.message
