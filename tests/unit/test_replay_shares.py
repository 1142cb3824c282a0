"""A file's lines split among a parallel replay's jobs (streams/runners/replay_shares.py):
each distributor's movement lines to one job, the jobs about equally loaded, everything
else to every job."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from schemas.codec import bundle_bytes, encode_event
from streams.runners.replay_shares import (
    SHARED,
    Share,
    file_owners,
    file_share,
    line_distributor,
)
from tests.parallel_channel import awkward_history, late_sale


def test_each_distributors_lines_go_to_one_job_and_the_jobs_get_about_as_many(
    tmp_path: Path,
) -> None:
    lines = awkward_history(weeks=3)
    sizes = {"D01": 40, "D02": 30, "D03": 20, "D04": 10}
    extra = [
        encode_event(late_sale(distributor, n, 1))
        for distributor, count in sizes.items()
        for n in range(count)
    ]
    mixed = bundle_bytes([encode_event(late_sale("D01", 90, 1)), extra[-1]])
    path = tmp_path / "history.jsonl"
    path.write_bytes(b"\n".join([*lines, b"", *extra, b"{not json", mixed]) + b"\n")
    owners = file_owners(path, 2)
    shares = {
        job: [(shared, item) for shared, item in file_share(path, Share(job, 2), owners)]
        for job in (0, 1)
    }
    shared = {job: [item.offset for s, item in share if s] for job, share in shares.items()}
    assert shared[0] == shared[1]  # every job reads every shared line, in file order
    number = len(lines) + 1  # the blank line's
    assert owners.jobs[number + len(extra) + 1] == SHARED  # unreadable
    assert owners.jobs[number + len(extra) + 2] == SHARED  # two distributors' bundle
    own = {job: [item for s, item in share if not s] for job, share in shares.items()}
    lines_of: dict[str, Counter[int]] = {}
    for job, items in own.items():
        for item in items:
            distributor = line_distributor(item.raw)
            assert distributor is not None
            lines_of.setdefault(distributor, Counter())[job] += 1
    assert all(len(jobs) == 1 for jobs in lines_of.values())  # each in one job
    assert set(sizes) <= set(lines_of)
    # the greedy split: the jobs' loads differ by at most the biggest distributor's lines
    loads = [len(own[0]), len(own[1])]
    assert max(loads) - min(loads) <= max(sum(jobs.values()) for jobs in lines_of.values())
    every = sorted(item.offset or 0 for share in shares.values() for _, item in share)
    assert sorted(set(every)) == [n for n in range(1, number + len(extra) + 3) if n != number]
