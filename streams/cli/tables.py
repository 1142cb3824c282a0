"""Plain-text tables for the commands that print one (`simulate`)."""

from __future__ import annotations

from collections.abc import Sequence


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
