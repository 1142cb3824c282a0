"""Each upload format as one stream of lines (`Parsed`) and report ends (`ReportClosed`).

The report parsers in streams/ingest/parsers do the reading; this package says, per format, what
an upload's lines and reports are: which report a line belongs to, whose it is, what
its `source_ref` is, and the `ReportSubmitted` that heads a CSV or JSON report.

`read` here; the upload and what reading yields in `upload.py`; one module per kind of
input (`json_events.py`, `csv_reports.py`, `x12_reports.py`, `claims.py`: debit claims as
CSV or 844); the header made for a CSV or JSON report in `report_header.py`.
"""

from __future__ import annotations

from collections.abc import Iterator

from streams.ingest.formats.claims import read_844, read_claim_csv
from streams.ingest.formats.csv_reports import read_csv
from streams.ingest.formats.json_events import batch_of, read_events
from streams.ingest.formats.upload import Item, Stored, Upload
from streams.ingest.formats.x12_reports import read_852, read_867


def read(upload: Upload, file: Stored) -> Iterator[Item]:
    """The lines and reports of an uploaded file."""
    if upload.format == "events":
        with file.open() as stream:
            return read_events(upload, batch_of(stream.read())[0])
    if upload.format == "csv":
        return read_csv(upload, file)
    if upload.format == "867":
        return read_867(upload, file)
    if upload.format == "claim-csv":
        return read_claim_csv(upload, file)
    if upload.format == "844":
        return read_844(upload, file)
    return read_852(upload, file)
