"""Plain-text tables for the commands that print one (`simulate`, the list commands)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from streams.cli.support import print_json


def print_table(lines: Sequence[Sequence[str]], left: int = 1) -> None:
    """Rows of cells in aligned columns: the first `left` to the left (names), the rest to
    the right (figures). The first row is the header."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        cells = [
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())


def print_rows(
    rows: list[dict[str, Any]],
    as_json: bool,
    lines: Callable[[list[dict[str, Any]]], Sequence[Sequence[str]]],
    left: int,
    empty: str,
) -> int:
    """A list command's answer: the rows as JSON, else as a table (`lines`: its header
    first), or `empty` when there are none. Returns the exit status."""
    if as_json:
        print_json(rows)
    elif rows:
        print_table(lines(rows), left=left)
    else:
        print(empty)
    return 0
