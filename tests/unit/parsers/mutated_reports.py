"""Valid CSV, X12 867 and 852 reports, generated, then broken the way real files break:
lines deleted, repeated (as sent, or changed), swapped, a field corrupted, a delimiter
changed in one line or segment, the file cut short, a total left stale.

Fuzzing with random bytes ends almost every example at the first parse error; these
files get past the header, so the properties about lines run on realistic inputs. Each
example says what the tests can know without the parsers: the input lines the file
holds, and whether a mutation broke the file as a whole (then it may be refused).
"""

from __future__ import annotations

from hypothesis import strategies as st

from tests.unit.parsers.mutated_common import Mutated
from tests.unit.parsers.mutated_csv import mutated_csv
from tests.unit.parsers.mutated_x12 import mutated_852, mutated_867


def mutated_reports() -> st.SearchStrategy[Mutated]:
    return st.one_of(mutated_csv(), mutated_867(), mutated_852())
