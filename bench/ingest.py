"""Ingest throughput: documents per second and peak memory for N generated ~2 KB documents.

    python bench/ingest.py 20000 [--db URL]

Generates N ~2 KB documents in English, French, Russian and Ukrainian (sentences of
the demo corpus shuffled, so every document is unique), writes them as JSON Lines
in a temporary folder (files of 1,000), then times ingesting them into a fresh store
(SQLite by default). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import TextIO

from tocsin.config import Limits
from tocsin.indicators.detect import Detector
from tocsin.pipeline import Inputs, ingest, make_text_stage
from tocsin.store.db import open_store
from tocsin.stories.stage import StoriesStage


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


def generate(n: int, path: Path, seed: int = 7) -> int:
    rng = random.Random(seed)
    pools = sentence_pools()
    size = 0
    path.mkdir(parents=True, exist_ok=True)
    for first in range(0, n, 1000):
        with (path / f"docs-{first:08d}.jsonl").open("w", encoding="utf-8") as out:
            size += _write(out, range(first, min(n, first + 1000)), rng, pools)
    return size


def _write(out: TextIO, numbers: range, rng: random.Random,
           pools: dict[str, list[str]]) -> int:
    size = 0
    langs = sorted(pools)
    for i in numbers:
        lang = langs[i % len(langs)]
        sentences: list[str] = []
        while sum(len(s.encode("utf-8")) + 1 for s in sentences) < 1900:
            sentences.append(rng.choice(pools[lang]))
        sentences.append(f"({i})")  # unique
        text = " ".join(sentences)
        size += len(text.encode("utf-8"))
        day = 1 + i % 28
        out.write(json.dumps({
            "id": f"bench-{i}", "source": f"Bench outlet {i % 40}",
            "title": f"Bench document {i}", "text": text,
            "published_at": f"2024-{1 + i % 12:02d}-{day:02d}T{i % 24:02d}:00:00Z",
        }, ensure_ascii=False) + "\n")
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of documents")
    parser.add_argument("--db", help="database URL (default: SQLite in a temp folder)")
    parser.add_argument("--full", action="store_true",
                        help="also run detection (nuclear pack) and the stories stage, as "
                             "`tocsin ingest` does")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "docs"
        size = generate(args.n, data)
        store = open_store(args.db or f"sqlite:///{folder / 'bench.db'}")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        stage = make_text_stage(("en", "fr", "ru", "uk"), Limits())
        detector = stories = None
        if args.full:
            detector = Detector.load("nuclear", folder / "cache")
            stories = StoriesStage.for_store(store, ("en", "fr", "ru", "uk"))
        loaded = time.perf_counter()
        report = ingest(Inputs([str(data)]), store, stage, Limits(), batch_size=500,
                        detector=detector, stories=stories)
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        store.close()
    if report.new != args.n:
        sys.exit(f"expected {args.n} new documents, got {report.new} ({report})")
    stages = "text, store, detection, stories" if args.full else "text and store"
    print(f"documents           {args.n:,} (~{size / args.n / 1024:.1f} KB of text each); "
          f"stages: {stages}")
    print(f"model/pack load     {loaded - started:.2f} s")
    print(f"total time          {elapsed:.2f} s")
    print(f"throughput          {args.n / elapsed:,.0f} documents/s "
          f"({args.n / (elapsed - (loaded - started)):,.0f}/s after model load)")
    print(f"peak memory (RSS)   {peak:,.0f} MB (before models: {rss_before:,.0f} MB)")


if __name__ == "__main__":
    main()
