"""Scoring and replay time: one year of 1,000 documents a day.

    python bench/score.py [--days 365] [--per-day 1000] [--db URL]

Fills a fresh SQLite store (or the database given) with a synthetic year: documents
from 16 graded outlets, a third of them echoes of another outlet's report (same story,
same origin), a quarter carrying 1-3 pieces of evidence of the built-in pack's
indicators with a realistic mix of polarities, and a burst of escalation now and then.
Then times what `tocsin replay` and `tocsin scores` do for the watch `russia-nato`:
loading the watch's evidence, replaying alerting in time order, and scoring every day
bucket. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tocsin.alerts.engine import run
from tocsin.indicators.pack import load_pack
from tocsin.scoring.index import Scorer, series
from tocsin.scoring.items import first_document_time, load_items
from tocsin.scoring.watch import load_watches
from tocsin.store.db import open_store
from tocsin.store.schema import documents, entities, evidence, ingest_runs, sources, stories

GRADES = "BBCCCDDEABCCDEEF"
POLARITY = ["asserted"] * 12 + ["reported"] * 4 + ["hypothetical"] * 2 + ["denied"] * 2
START = datetime(2024, 1, 1, tzinfo=UTC)


def fill(url: str, days: int, per_day: int) -> tuple[int, int]:
    store = open_store(url)
    engine = store.engine
    pack = load_pack()
    indicators = [(i.id, i.category, i.severity) for i in pack.indicators]
    rng = random.Random(7)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(sources.insert(), [
            {"id": f"outlet-{k}", "name": f"Outlet {k}", "grade": g, "created_at": now}
            for k, g in enumerate(GRADES)])
        run_id = conn.execute(ingest_runs.insert().values(
            started_at=now, inputs=["bench"])).inserted_primary_key[0]  # type: ignore[index]
    doc_id = 0
    n_evidence = 0
    for day in range(days):
        burst = rng.random() < 0.03  # a development: many outlets, several categories
        docs, ents, evs, story_rows = [], [], [], []
        for _ in range(per_day):
            doc_id += 1
            at = START + timedelta(days=day, seconds=rng.randrange(86400))
            outlet = rng.randrange(len(GRADES))
            echo = doc_id > 3 and rng.random() < 0.33
            story = doc_id - rng.randrange(1, 3) if echo else doc_id
            docs.append({
                "id": doc_id, "doc_hash": hashlib.sha256(str(doc_id).encode()).hexdigest(),
                "source_id": f"outlet-{outlet}", "text": "x" * 200, "language": "en",
                "language_confidence": 1.0, "published_at": at, "fetched_at": at,
                "sentences": [[0, 200]], "kind": "jsonl", "origin": "bench", "meta": {},
                "run_id": run_id, "story_id": story})
            if not echo:
                story_rows.append({"id": doc_id, "size": 1, "first_at": at, "last_at": at,
                                   "languages": ["en"], "origin_document_id": doc_id,
                                   "origin_source_id": f"outlet-{outlet}",
                                   "origin_name": f"Outlet {outlet}", "chain": []})
            ents.append({"document_id": doc_id, "type": "actor", "entity": "putin",
                         "name": "Vladimir Putin", "text": "Putin", "start": 0, "end": 5})
            if rng.random() < (0.6 if burst else 0.25):
                for j in range(rng.randint(1, 3)):
                    ind, cat, sev = rng.choice(indicators)
                    evs.append({"document_id": doc_id, "pack": pack.id, "indicator": ind,
                                "category": cat, "severity": sev,
                                "polarity": rng.choice(POLARITY), "sentence": 0,
                                "start": j * 10, "end": j * 10 + 9, "terms": [],
                                "spans": []})
        with engine.begin() as conn:
            conn.execute(documents.insert(), docs)
            if story_rows:
                conn.execute(stories.insert(), story_rows)
            conn.execute(entities.insert(), ents)
            if evs:
                conn.execute(evidence.insert(), evs)
        n_evidence += len(evs)
    store.close()
    return doc_id, n_evidence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=1000)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        t0 = time.perf_counter()
        n_docs, n_evidence = fill(url, args.days, args.per_day)
        fill_s = time.perf_counter() - t0
        print(f"store: {n_docs:,} documents, {n_evidence:,} pieces of evidence "
              f"({fill_s:.1f} s to write)")

        pack = load_pack()
        watch = load_watches(pack)["russia-nato"]
        store = open_store(url)
        t0 = time.perf_counter()
        items = load_items(store.engine, watch, pack)
        history = first_document_time(store.engine)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        alerts = run(watch, items, history_start=history)
        replay_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        days = series(Scorer(watch, "day", history), items)
        series_s = time.perf_counter() - t0
        store.close()
    total = load_s + replay_s + series_s
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load evidence of the watch: {load_s:.1f} s ({len(items):,} items)")
    print(f"replay (alerting in time order): {replay_s:.1f} s, {len(alerts)} alerts")
    print(f"score every day bucket: {series_s:.1f} s ({len(days)} days)")
    print(f"score + replay {args.days} days: {total:.1f} s = {n_docs / total:,.0f} documents/s; "
          f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
