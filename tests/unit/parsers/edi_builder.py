"""Build X12 interchanges for tests: control numbers and counts are computed."""

from __future__ import annotations

from collections.abc import Sequence


def isa(
    control: str = "000000101",
    *,
    element: str = "*",
    component: str = ">",
    terminator: str = "~",
    sender: str = "ACMEDIST",
    receiver: str = "VENDORCO",
) -> str:
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        sender.ljust(15),
        "ZZ",
        receiver.ljust(15),
        "260406",
        "0830",
        "U",
        "00401",
        control,
        "0",
        "P",
        component,
    ]
    text = element.join(fields) + terminator
    assert len(text) == 106, len(text)
    return text


def interchange(
    *sets: list[str],
    functional_id: str = "PT",
    set_id: str = "867",
    element: str = "*",
    component: str = ">",
    terminator: str = "~",
    newline: str = "\n",
    controls: Sequence[str] = (),
) -> bytes:
    """An interchange with one group holding one transaction set per list of segments.

    Segments are written with "*" and ">" and converted to the requested delimiters; the
    sets' control numbers (ST02, SE02) are `controls`, else 0001, 0002, ...
    """
    out = [isa(element=element, component=component, terminator=terminator)]

    def seg(text: str) -> str:
        return text.replace("*", "\x00").replace(">", component).replace("\x00", element)

    out.append(seg(f"GS*{functional_id}*ACMEDIST*VENDORCO*20260406*0830*101*X*004010"))
    numbers = controls or [f"{number:04d}" for number in range(1, len(sets) + 1)]
    for control, body in zip(numbers, sets, strict=True):
        out.append(seg(f"ST*{set_id}*{control}"))
        out.extend(seg(s) for s in body)
        out.append(seg(f"SE*{len(body) + 2}*{control}"))
    out.append(seg(f"GE*{len(sets)}*101"))
    out.append(seg("IEA*1*000000101"))
    return (out[0] + newline + (terminator + newline).join(out[1:]) + terminator + newline).encode()
