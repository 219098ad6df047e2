"""Ingest throughput: documents per second and peak memory for N generated ~2 KB documents.

    python bench/ingest.py 20000 [--full] [--stream] [--per-day 1000] [--db URL]

Generates N ~2 KB documents in English, French, Russian and Ukrainian (sentences of
the demo corpus shuffled, so every document is unique; one in ten is a light rewrite
of an earlier one, so stories form), published in time order, ``--per-day`` a day from
2024-01-01 (a stream, as feeds and channels deliver it). By default they are written
as JSON Lines in a temporary folder (files of 1,000) and then ingested; with
``--stream`` they are generated while being read, through standard-input JSON Lines,
so nothing but the store grows with N (``python bench/ingest.py 1000000 --stream``).

``--full`` runs every stage `tocsin ingest` runs: text, detection (nuclear pack),
store, stories, and alerting over the pack's watches at the end. Prints documents/s,
peak RSS and RSS as the run goes; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from tocsin.config import Limits
from tocsin.indicators.detect import Detector
from tocsin.pipeline import Inputs, ingest, make_text_stage
from tocsin.store.db import open_store
from tocsin.stories.stage import StoriesStage

START = datetime(2024, 1, 1, tzinfo=UTC)


def sentence_pools() -> dict[str, list[str]]:
    """Sentences of the bundled demo corpus, per language: realistic text to shuffle."""
    corpus = Path(str(resources.files("tocsin.demo").joinpath("corpus")))
    pools: dict[str, list[str]] = {}
    for file in sorted(corpus.glob("*.jsonl")):
        for line in file.read_text("utf-8").splitlines():
            text = json.loads(line)["text"]
            pools.setdefault(file.stem, []).extend(
                part.strip() + "." for part in text.split(". ") if len(part) > 40)
    return pools


def records(n: int, per_day: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """The N documents, in publication order."""
    rng = random.Random(seed)
    pools = sentence_pools()
    langs = sorted(pools)
    step = timedelta(days=1) / per_day
    recent: list[str] = []
    for i in range(n):
        lang = langs[i % len(langs)]
        if recent and i % 10 == 9:  # a rewrite of a recent report: a story
            sentences = rng.choice(recent).split(" ")[:-1]
            sentences.insert(rng.randrange(len(sentences) + 1), "Updated.")
        else:
            sentences = []
            while sum(len(s.encode("utf-8")) + 1 for s in sentences) < 1900:
                sentences.append(rng.choice(pools[lang]))
        sentences.append(f"({i})")  # unique
        text = " ".join(sentences)
        recent = (recent + [text])[-50:]
        yield {"id": f"bench-{i}", "source": f"Bench outlet {i % 40}",
               "title": f"Bench document {i}", "text": text,
               "published_at": (START + i * step).isoformat().replace("+00:00", "Z")}


def write_files(n: int, per_day: int, path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    out = None
    for i, record in enumerate(records(n, per_day)):
        if i % 1000 == 0:
            if out:
                out.close()
            out = (path / f"docs-{i:08d}.jsonl").open("w", encoding="utf-8")
        out.write(json.dumps(record, ensure_ascii=False) + "\n")  # type: ignore[union-attr]
    if out:
        out.close()


class Lines:
    """JSON Lines made while they are read: a stand-in for standard input."""

    def __init__(self, n: int, per_day: int) -> None:
        self.n, self.per_day = n, per_day

    def __iter__(self) -> Iterator[str]:
        for record in records(self.n, self.per_day):
            yield json.dumps(record, ensure_ascii=False) + "\n"


class Timers:
    """Seconds spent in each stage: the stage methods of the run's objects, wrapped."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, name: str, owner: Any, method: str) -> None:
        inner = getattr(owner, method)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.process_time() - started

        setattr(owner, method, timed)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of documents")
    parser.add_argument("--db", help="database URL (default: SQLite in a temp folder)")
    parser.add_argument("--full", action="store_true",
                        help="every stage of `tocsin ingest`: detection (nuclear pack), "
                             "stories and alerting too")
    parser.add_argument("--stream", action="store_true",
                        help="generate the documents while ingesting them (no files)")
    parser.add_argument("--per-day", type=int, default=1000, help="documents a day")
    parser.add_argument("--skip-alerting", action="store_true",
                        help="with --full: leave alerting out (for long streams)")
    parser.add_argument("--cache", help="compiled-pack cache (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.stream:
            inputs = Inputs(["-"], stdin=Lines(args.n, args.per_day))  # type: ignore[arg-type]
        else:
            write_files(args.n, args.per_day, folder / "docs")
            inputs = Inputs([str(folder / "docs")])
        store = open_store(args.db or f"sqlite:///{folder / 'bench.db'}")
        rss_before = rss_mb()
        started = time.perf_counter()
        cpu_started = time.process_time()
        stage = make_text_stage(("en", "fr", "ru", "uk"), Limits())
        detector = stories = None
        if args.full:
            detector = Detector.load("nuclear", Path(args.cache) if args.cache
                                     else folder / "cache")
            stories = StoriesStage.for_store(store, ("en", "fr", "ru", "uk"))
        timers = Timers()
        timers.wrap("text", stage, "prepare")
        timers.wrap("write", store, "write_batch")
        if detector is not None and stories is not None:
            timers.wrap("detection", detector, "detect_document")
            timers.wrap("stories: attributions, signatures", stories, "prepare")
            timers.wrap("stories: clustering", stories, "cluster")
        loaded = time.perf_counter()
        done = 0
        marks: list[str] = []

        def progress(count: int) -> None:
            nonlocal done
            before, done = done, done + count
            if done // max(1, args.n // 5) != before // max(1, args.n // 5):
                marks.append(f"{done:,}: {rss_mb():,.0f} MB "
                             f"({done / (time.perf_counter() - loaded):,.0f}/s)")

        report = ingest(inputs, store, stage, Limits(), batch_size=500, progress=progress,
                        detector=detector, stories=stories)
        ingested = time.perf_counter()
        changes = 0
        if args.full and not args.skip_alerting:
            from tocsin.alerts.store import alert_live
            from tocsin.scoring.watch import load_watches

            pack = detector.pack  # type: ignore[union-attr]
            watches = list(load_watches(pack).values())
            changes = len(alert_live(store.engine, pack, watches, None))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        peak = rss_mb()
        store.close()
    if report.new != args.n:
        sys.exit(f"expected {args.n} new documents, got {report.new} ({report})")
    stages = "text, detection, store, stories" if args.full else "text and store"
    if args.full and not args.skip_alerting:
        stages += ", alerting"
    print(f"documents           {args.n:,} (~2 KB of text each, {args.per_day:,} a day, "
          f"{'streamed' if args.stream else 'from files'}); stages: {stages}")
    print(f"model/pack load     {loaded - started:.2f} s")
    print(f"ingest              {ingested - loaded:.2f} s "
          f"({args.n / (ingested - loaded):,.0f} documents/s)")
    if args.full and not args.skip_alerting:
        print(f"alerting            {elapsed - (ingested - started):.2f} s "
              f"({changes:,} alert changes)")
    print(f"total time          {elapsed:.2f} s (CPU {cpu:.2f} s)")
    print(f"throughput          {args.n / elapsed:,.0f} documents/s overall")
    print(f"peak memory (RSS)   {peak:,.0f} MB (before models: {rss_before:,.0f} MB)")
    print(f"as it went          {'; '.join(marks)}")
    for name, seconds in timers.seconds.items():
        print(f"  {name:34} {seconds:7.2f} s CPU  {seconds / args.n * 1e3:.3f} ms/doc")


if __name__ == "__main__":
    main()
