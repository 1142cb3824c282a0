"""Valid CSV reports, generated, then broken the way real files break
(tests/unit/parsers/mutated_reports.py)."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.unit.parsers.mutated_common import (
    JUNK,
    KNOWN_ITEMS,
    OTHER_SEPARATORS,
    Mutated,
    one_in,
    pick,
)

CSV_HEADER = ("distributor_id", "transaction_id", "reseller_id", "sku", "quantity",
              "unit_price", "currency", "sold_at")  # fmt: skip


@st.composite
def _csv_row(draw: st.DrawFn, number: int) -> list[str]:
    return [
        "DIST-001",
        f"T-{number}",
        draw(st.sampled_from(["RES-1", "RES-2"])),
        draw(st.sampled_from([*KNOWN_ITEMS, "WID-100-BLU", "012345678905"])),
        str(draw(st.integers(-3, 25))),
        draw(st.sampled_from(["12.50", "9.99", "140.00"])),
        "USD",
        draw(st.sampled_from(["2026-03-31", "2026-04-02", "2026-04-03T14:30:00Z"])),
    ]


CSV_MUTATIONS = (
    "delete", "resend", "change", "swap", "field", "separator", "blank", "cells", "truncate"
)  # fmt: skip


@st.composite
def mutated_csv(draw: st.DrawFn) -> Mutated:
    """A CSV report of 1 to 12 lines with 0 to 5 mutations; its header is kept (but
    for one example in 20, whose header is corrupted: a structural mutation)."""
    count = draw(st.integers(1, 12))
    rows = [draw(_csv_row(n)) for n in range(1, count + 1)]
    lines = [",".join(row) for row in rows]
    done: list[str] = []
    truncate = False
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(CSV_MUTATIONS))
        at = pick(draw, len(lines))
        cells = lines[at].split(",")
        if kind == "delete" and len(lines) > 1:
            del lines[at]
        elif kind in ("resend", "change"):
            copy = list(cells)
            if kind == "change" and len(copy) == len(CSV_HEADER):
                copy[4] = str(draw(st.integers(1, 9)) + 30)  # same transaction, new content
            lines.insert(draw(st.integers(at + 1, len(lines))), ",".join(copy))
        elif kind == "swap":
            other = pick(draw, len(lines))
            lines[at], lines[other] = lines[other], lines[at]
        elif kind == "field" and cells:
            cells[pick(draw, len(cells))] = draw(st.sampled_from(JUNK))
            lines[at] = ",".join(cells)
        elif kind == "separator":
            lines[at] = lines[at].replace(",", draw(st.sampled_from(OTHER_SEPARATORS)))
        elif kind == "blank":
            blank = draw(st.sampled_from(["", "   ", ",,,,,,,", " , ,"]))
            lines.insert(draw(st.integers(0, len(lines))), blank)
        elif kind == "cells":  # a cell too many, or one missing
            lines[at] = ",".join([*cells, "extra"] if draw(st.booleans()) else cells[:-1])
        elif kind == "truncate":
            truncate = True
        else:
            continue
        done.append(f"{kind}@{at}")
    header = ",".join(CSV_HEADER)
    structural = draw(one_in(20))
    if structural:
        header = header.replace(draw(st.sampled_from(CSV_HEADER)), "colour", 1)
        done.append("header")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join([header, *lines]) + draw(st.sampled_from([newline, ""]))
    if truncate:
        start = len(header) + len(newline)
        text = text[: draw(st.integers(start, len(text)))]
        done.append(f"cut at {len(text)}")
    physical = text.replace("\r\n", "\n").split("\n")
    numbers = tuple(
        number
        for number, line in enumerate(physical, start=1)
        if number > 1 and "".join(line.split(",")).strip()
    )
    return Mutated("csv", text.encode(), tuple(done), structural, csv_lines=numbers)
