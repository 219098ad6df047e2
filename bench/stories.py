"""Stories throughput: documents per second for clustering and attribution on ~2 KB
documents, and the story index's memory per million documents.

    python bench/stories.py [N]

Builds N ~2 KB documents from the demo corpus (four languages; a third of them are
near-copies of others, as in a real flow), then times, on one core, what the stories
stage does per document: attribution extraction, MinHash signature, figures, and
adding to the LSH story index. Memory is measured with tracemalloc on the index alone
and extrapolated to a million documents. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import yaml

from tocsin.stories.attribution import AttributionExtractor, SourceIndex
from tocsin.stories.cluster import StoryIndex
from tocsin.stories.minhash import figures, signature


def documents(n: int) -> list[tuple[str, str]]:
    """Mostly distinct ~2 KB texts made of sentences of the demo corpus, and a third of
    near-copies (an aggregator's copy with a line of boilerplate)."""
    corpus = Path(str(resources.files("tocsin.demo").joinpath("corpus")))
    sentences: dict[str, list[str]] = {}
    for file in sorted(corpus.glob("*.jsonl")):
        for line in file.read_text("utf-8").splitlines():
            text = json.loads(line)["text"]
            sentences.setdefault(file.stem, []).extend(
                s.strip() + "." for s in text.split(". ") if len(s) > 40)
    rng = random.Random(3)
    languages = sorted(sentences)
    out: list[tuple[str, str]] = []
    for i in range(n):
        if out and i % 3 == 0:
            text, language = out[rng.randrange(len(out))]
            out.append((text + "\n\nShare this story.", language))
            continue
        language = languages[i % len(languages)]
        parts: list[str] = []
        while sum(len(p.encode("utf-8")) + 1 for p in parts) < 1900:
            parts.append(rng.choice(sentences[language]))
        out.append((" ".join(parts), language))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=20000)
    args = parser.parse_args()
    registry = yaml.safe_load(resources.files("tocsin.demo").joinpath("sources.yaml")
                              .read_text("utf-8"))["sources"]
    extractor = AttributionExtractor(SourceIndex(registry))
    docs = documents(args.n)
    size = sum(len(t.encode("utf-8")) for t, _ in docs) / len(docs)
    start_time = datetime(2024, 1, 1, tzinfo=UTC)
    index = StoryIndex()
    extractor.extract("warm up, according to Northgate Wire.", "en")
    started = time.perf_counter()
    attributions = 0
    for i, (text, language) in enumerate(docs):
        attributions += len(extractor.extract(text, language))
        index.add(i + 1, start_time + timedelta(minutes=i), signature(text, language),
                  figures(text))
    elapsed = time.perf_counter() - started
    stories = index.stories()
    sample = min(args.n, 20000)
    tracemalloc.start()
    probe = StoryIndex()
    for i, (text, language) in enumerate(docs[:sample]):
        probe.add(i + 1, start_time + timedelta(minutes=i), signature(text, language),
                  figures(text))
    memory, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"documents           {len(docs):,} (~{size / 1024:.1f} KB each, en fr ru uk)")
    with_copies = sum(1 for s in stories.values() if len(s) > 1)
    print(f"stories             {len(stories):,} ({with_copies:,}"
          f" with copies), {attributions:,} attributions")
    print(f"clustering + attribution  {elapsed:.2f} s, {len(docs) / elapsed:,.0f} documents/s "
          "(one core)")
    print(f"index memory        {memory / sample / 1024:.2f} KB per document, "
          f"~{memory / sample * 1_000_000 / 2**30:.1f} GiB per million documents "
          f"(measured on {sample:,})")


if __name__ == "__main__":
    main()
