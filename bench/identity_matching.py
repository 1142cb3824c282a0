"""Matching resellers against a master: the blocking index against the naive all-pairs scorer.

One run, pure CPU (no servers):

1. draw a master of `--masters` resellers (seeded names, legal forms, countries, postal
   codes) and index it (`projections.party_index.BlockingIndex`);
2. blocked: match `--aliases` resellers as distributors send them (70 % the master's
   written otherwise: case, legal form, a typo, a ZIP+4; 30 % new), read one at a time
   (`match_stream`), counting the candidates scored and each outcome;
3. bulk: the same aliases as CSV rows through `projections.bulk_matching.match_rows` (what
   `channelflow resellers match FILE` runs: validation, the reasons of the candidates and
   the automatic mapping events on top of matching);
4. baseline, in the same run: the naive scorer, every master for each of the first
   `--sample` aliases (`decide` over the whole master), and how often the blocked outcome
   agrees with it on that sample;
5. print one table: aliases/s and candidates/s of both, the ratio, the naive n × m time
   extrapolated, resident memory after indexing and after matching, and the target
   (≥ 5,000 aliases matched/s) as PASS/MISS, printed, never asserted: by the clock, and
   per CPU second of this process (what the code costs, whatever else the machine runs).

    .venv/bin/python -m bench.identity_matching                 # 100,000 against 100,000
    .venv/bin/python -m bench.identity_matching --masters 20000 --aliases 20000 --sample 50
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.common import machine, positive_int, progress, rate, verdict
from domain.party_matching import MatchDecision, PartyRecord, decide, party_record
from projections.bulk_matching import match_rows
from projections.party_index import BlockingIndex, match_stream

TARGET = 5_000.0  # aliases matched per second
PROGRESS_SECONDS = 10.0

COUNTRIES = ("US", "DE", "FR", "GB", "NL")
FORMS = {
    "US": ("Inc.", "LLC", "Corp."),
    "DE": ("GmbH", "AG", "GmbH & Co. KG"),
    "FR": ("S.A.", "SARL", "SAS"),
    "GB": ("Ltd", "PLC", "Limited"),
    "NL": ("B.V.", "N.V."),
}
FIRST = (
    "Acme", "Byte", "Nordic", "Pixel", "Summit", "Delta", "Blue", "Orbit", "Vector", "Cedar",
    "Apex", "Lumen", "Harbor", "Quartz", "Falcon", "Maple", "Iron", "Solar", "Metro", "Nova",
)  # fmt: skip
CORE = (
    "Systems", "Computers", "Networks", "Data", "Office", "Tech", "Solutions", "Digital",
    "Electronics", "Supply", "Micro", "Cloud", "Devices", "Telecom", "Storage", "Software",
)  # fmt: skip


@dataclass(frozen=True)
class Drawn:
    """A party as a distributor writes it."""

    name: str
    country: str
    postal: str


def draw_master(rng: random.Random, n: int) -> Drawn:
    country = rng.choice(COUNTRIES)
    words = [rng.choice(FIRST), rng.choice(CORE), f"{rng.choice(FIRST)[:3]}{n % 9973}"]
    name = f"{' '.join(words)} {rng.choice(FORMS[country])}"
    return Drawn(name, country, f"{rng.randrange(10_000, 99_999)}")


def written_otherwise(rng: random.Random, party: Drawn) -> Drawn:
    """The same party with what distributors change: case, legal form, a typo, ZIP+4."""
    words = party.name.split()
    core = words[:3]
    kind = rng.randrange(4)
    if kind == 0:
        core = [word.upper() for word in core]
    elif kind == 1:
        word = rng.randrange(3)
        text = core[word]
        cut = rng.randrange(1, len(text))
        core[word] = text[:cut] + text[cut + 1 :]  # one letter dropped
    postal = f"{party.postal}-{rng.randrange(1000, 9999)}" if kind == 2 else party.postal
    form = rng.choice(FORMS[party.country])
    return Drawn(f"{' '.join(core)} {form}", party.country, postal)


def master_records(seed: int, count: int) -> list[Drawn]:
    rng = random.Random(seed)
    return [draw_master(rng, n) for n in range(count)]


def drawn_aliases(seed: int, master: list[Drawn], count: int) -> Iterator[Drawn]:
    """Aliases drawn lazily (never held together): 70 % of the master, 30 % new."""
    rng = random.Random(seed + 1)
    for n in range(count):
        if rng.random() < 0.7:
            yield written_otherwise(rng, rng.choice(master))
        else:
            yield draw_master(rng, 1_000_003 + n)


def aliases(seed: int, master: list[Drawn], count: int) -> Iterator[PartyRecord]:
    for n, drawn in enumerate(drawn_aliases(seed, master, count)):
        yield party_record(f"A{n}", drawn.name, drawn.country, drawn.postal)


def csv_rows(seed: int, master: list[Drawn], count: int) -> Iterator[dict[str, str | None]]:
    """The same aliases as `channelflow resellers match` reads them: a CSV's rows."""
    for n, drawn in enumerate(drawn_aliases(seed, master, count)):
        yield {"distributor_id": "D01", "reseller_id": f"A{n}", "name": drawn.name,
               "country": drawn.country, "postal_code": drawn.postal}  # fmt: skip


def rss_mib() -> float:
    """Peak resident memory of this process so far (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Pass:
    aliases: int
    candidates: int
    seconds: float
    outcomes: Counter[str]
    #: the CPU time this process spent on the pass (on a shared machine, a fraction of
    #: `seconds`: the rest went to the other processes)
    cpu_seconds: float = 0.0


def blocked(index: BlockingIndex, records: Iterator[PartyRecord], total: int) -> Pass:
    outcomes: Counter[str] = Counter()
    candidates = done = 0
    began = last = time.perf_counter()
    cpu = time.process_time()
    for decision, scored in match_stream(index, records):
        outcomes[decision.outcome] += 1
        candidates += scored
        done += 1
        if time.perf_counter() - last >= PROGRESS_SECONDS:
            last = time.perf_counter()
            progress(f"blocked: {done:,} of {total:,} ({rate(done, last - began):,.0f}/s)")
    return Pass(done, candidates, time.perf_counter() - began, outcomes, time.process_time() - cpu)


def bulk(index: BlockingIndex, rows: Iterator[dict[str, str | None]]) -> Pass:
    """The bulk CLI's path (`match_rows`): each row validated and normalised, matched, the
    candidates' reasons and the automatic mapping events built."""
    outcomes: Counter[str] = Counter()
    began, cpu = time.perf_counter(), time.process_time()
    for outcome in match_rows(index, rows, datetime.now(UTC), "bench.csv"):
        outcomes[outcome.outcome] += 1
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
    return Pass(sum(outcomes.values()), 0, seconds, outcomes, cpu_seconds)


def naive(master: list[PartyRecord], sample: list[PartyRecord]) -> tuple[Pass, list[MatchDecision]]:
    outcomes: Counter[str] = Counter()
    found: list[MatchDecision] = []
    began = time.perf_counter()
    for record in sample:
        decision = decide(record, master)
        outcomes[decision.outcome] += 1
        found.append(decision)
    seconds = time.perf_counter() - began
    return Pass(len(sample), len(sample) * len(master), seconds, outcomes), found


def compare(naive: list[MatchDecision], blocked: list[MatchDecision]) -> Counter[str]:
    """How the blocked decisions differ from the naive ones on the same aliases."""
    found: Counter[str] = Counter()
    for one, other in zip(naive, blocked, strict=True):
        if (one.outcome, one.master_id) == (other.outcome, other.master_id):
            found["same"] += 1
        elif one.outcome in ("exact", "automatic"):
            found["mapping missed"] += 1
        else:
            found["proposal missed" if one.outcome == "review" else "other"] += 1
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--masters", type=positive_int, default=100_000)
    parser.add_argument("--aliases", type=positive_int, default=100_000)
    parser.add_argument(
        "--sample", type=positive_int, default=50, help="aliases for the naive baseline"
    )
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)

    progress(f"drawing and indexing a master of {args.masters:,}")
    drawn = master_records(args.seed, args.masters)
    master = [party_record(f"M{n}", d.name, d.country, d.postal) for n, d in enumerate(drawn)]
    began = time.perf_counter()
    index = BlockingIndex()
    for record in master:
        index.add(record)
    index_seconds = time.perf_counter() - began
    rss_indexed = rss_mib()

    progress(f"matching {args.aliases:,} aliases through the blocking index")
    run = blocked(index, aliases(args.seed, drawn, args.aliases), args.aliases)
    rss_matched = rss_mib()
    progress(f"bulk: {args.aliases:,} CSV rows through match_rows (the CLI's path)")
    bulk_run = bulk(index, csv_rows(args.seed, drawn, args.aliases))

    sample = [
        record
        for record, _ in zip(
            aliases(args.seed, drawn, args.sample), range(args.sample), strict=False
        )
    ]
    progress(f"baseline: the naive scorer, {len(sample):,} aliases × {len(master):,} masters")
    base, naive_found = naive(master, sample)
    blocked_found = [decision for decision, _ in match_stream(index, sample)]
    agree = compare(naive_found, blocked_found)

    report(args, index_seconds, rss_indexed, rss_matched, run, bulk_run, base, agree, len(sample))
    return 0


def report(
    args: argparse.Namespace,
    index_seconds: float,
    rss_indexed: float,
    rss_matched: float,
    run: Pass,
    bulk_run: Pass,
    base: Pass,
    agree: Counter[str],
    sampled: int,
) -> None:
    blocked_rate = rate(run.aliases, run.seconds)
    bulk_rate = rate(bulk_run.aliases, bulk_run.seconds)
    blocked_cpu = rate(run.aliases, run.cpu_seconds)
    bulk_cpu = rate(bulk_run.aliases, bulk_run.cpu_seconds)
    naive_rate = rate(base.aliases, base.seconds)
    full_naive = args.aliases / naive_rate if naive_rate else float("inf")
    print(machine())
    print(f"master {args.masters:,}, aliases {args.aliases:,}, seed {args.seed}")
    differences = ", ".join(f"{k} {v}" for k, v in sorted(agree.items()) if k != "same")
    outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(run.outcomes.items()))
    ratio = f"{blocked_rate / naive_rate:,.0f}x" if naive_rate else "—"
    per_alias = run.candidates / max(run.aliases, 1)
    rows = [
        ("index build", f"{index_seconds:.1f} s", f"{rate(args.masters, index_seconds):,.0f}/s"),
        ("blocked: aliases matched", f"{blocked_rate:,.0f}/s", f"{run.seconds:.1f} s in all"),
        ("blocked: candidates scored", f"{rate(run.candidates, run.seconds):,.0f}/s",
         f"{per_alias:.1f} per alias"),
        ("blocked: aliases per CPU second", f"{blocked_cpu:,.0f}/s",
         f"{run.cpu_seconds:.1f} s of CPU ({share(run):.0%} of the time)"),
        ("bulk CSV rows (match_rows)", f"{bulk_rate:,.0f}/s",
         f"{bulk_run.seconds:.1f} s; reasons, mapping and proposal events built"),
        ("bulk CSV rows per CPU second", f"{bulk_cpu:,.0f}/s",
         f"{bulk_run.cpu_seconds:.1f} s of CPU ({share(bulk_run):.0%} of the time)"),
        ("naive all-pairs: aliases matched", f"{naive_rate:,.2f}/s", f"sample of {base.aliases:,}"),
        ("naive all-pairs: candidates scored", f"{rate(base.candidates, base.seconds):,.0f}/s",
         f"{args.masters:,} per alias"),
        ("blocked ÷ naive, aliases/s", ratio, ""),
        ("naive for every alias (extrapolated)", f"{full_naive / 3600:,.1f} h", ""),
        ("same outcome as the naive scorer", f"{agree['same']} of {sampled}", differences),
        ("peak RSS after indexing / matching", f"{rss_indexed:,.0f} / {rss_matched:,.0f} MiB", ""),
        ("outcomes (blocked)", outcomes, ""),
    ]  # fmt: skip
    width = max(len(row[0]) for row in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>22}  {note}")
    print(
        f"target: >= {TARGET:,.0f} aliases matched/s: {verdict(blocked_rate >= TARGET)}"
        f" (per CPU second: {verdict(blocked_cpu >= TARGET)})"
    )
    print(
        f"target, bulk CSV rows: >= {TARGET:,.0f}/s: {verdict(bulk_rate >= TARGET)}"
        f" (per CPU second: {verdict(bulk_cpu >= TARGET)})"
    )


def share(run: Pass) -> float:
    """How much of the pass's time this process was on a CPU."""
    return run.cpu_seconds / run.seconds if run.seconds > 0 else 1.0


if __name__ == "__main__":
    sys.exit(main())
