"""Detection throughput: documents per second for detection alone on ~2 KB documents.

    python bench/detect.py [N]

Builds N ~2 KB documents from the demo corpus's sentences (four languages; text,
language and sentence spans prepared beforehand, as the ingest pipeline hands them
over), then times only the detection stage (one Aho-Corasick scan, rules, polarity) on
one core. Also prints the cost of loading the compiled pack from its cache. With
``--real DIR`` (default: ../shared/data/real when present) it also times detection over
the title and text of every item of the real streams there. Prints figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from importlib import resources
from pathlib import Path

from tocsin.indicators.detect import Detector
from tocsin.text.sentences import SentenceSplitter


def documents(n: int) -> list[tuple[str, str, list[tuple[int, int]]]]:
    corpus = Path(str(resources.files("tocsin.demo").joinpath("corpus")))
    by_language: dict[str, list[str]] = {}
    for file in sorted(corpus.glob("*.jsonl")):
        by_language[file.stem] = [json.loads(line)["text"] for line in
                                  file.read_text("utf-8").splitlines()]
    splitter = SentenceSplitter()
    out = []
    languages = sorted(by_language)
    for i in range(n):
        language = languages[i % len(languages)]
        texts = by_language[language]
        parts: list[str] = []
        j = i
        while sum(len(p) + 2 for p in parts) < 1500:
            parts.append(texts[j % len(texts)])
            j += 7
        text = "\n\n".join(parts)
        out.append((text, language, splitter.split(text, language)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=4000)
    parser.add_argument("--real", help="folder of real streams (*.jsonl.gz)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        Detector.load("nuclear", Path(cache))
        compiled_in = time.perf_counter() - started
        started = time.perf_counter()
        detector = Detector.load("nuclear", Path(cache))
        cached_in = time.perf_counter() - started
    docs = documents(args.n)
    size = sum(len(t.encode("utf-8")) for t, _, _ in docs) / len(docs)
    evidence = 0
    started = time.perf_counter()
    for text, language, sentences in docs:
        evidence += len(detector.detect(text, language, sentences).evidence)
    elapsed = time.perf_counter() - started
    print(f"documents           {len(docs):,} (~{size / 1024:.1f} KB each, en fr ru uk)")
    print(f"patterns            {detector.compiled.pattern_count:,} surface forms")
    print(f"pack compile        {compiled_in:.2f} s (first run)")
    print(f"pack load (cached)  {cached_in:.2f} s")
    print(f"detection           {elapsed:.2f} s, {len(docs) / elapsed:,.0f} documents/s "
          f"(one core), {evidence:,} pieces of evidence")
    real(detector, args.real)


def real(detector: Detector, given: str | None) -> None:
    """Detection (title and text) on each real stream, prepared as ingest prepares it."""
    from tocsin.config import Limits
    from tocsin.indicators.realeval import find_real_dir
    from tocsin.model import Document
    from tocsin.pipeline import make_text_stage
    from tocsin.sources.jsonl import item_from_object

    folder = find_real_dir(given)
    if folder is None:
        return
    stage = make_text_stage(("en", "fr", "ru", "uk"), Limits())
    for path in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            prepared = [stage.prepare(item_from_object(json.loads(line), str(path), None, ""))
                        for line in handle]
        docs = [d for d in prepared if isinstance(d, Document)]
        size = sum(len(d.text.encode("utf-8")) for d in docs) / max(1, len(docs))
        started = time.perf_counter()
        warning = sum(1 for d in docs if detector.detect_document(d).evidence)
        elapsed = time.perf_counter() - started
        print(f"real {path.name:36} {len(docs):,} docs (~{size / 1024:.1f} KB), "
              f"{len(docs) / elapsed:,.0f} documents/s, {warning:,} with evidence")


if __name__ == "__main__":
    main()
