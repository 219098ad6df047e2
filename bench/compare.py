"""tocsin's analyze path beside plain keyword matching, on the same documents.

    python bench/compare.py [--real DIR] [--limit N] [--runs 3] [--post-chars 1000]

Makes a set of short posts (the items of the real streams in ../shared/data/real when
present, each one a post, with the longer texts cut at paragraphs into posts of at most
1,000 characters; else the demo corpus), writes them once as JSON Lines and as one line
of text per post, and the pack's surface forms (every key of the compiled automaton) as
a terms file, then times on those same bytes:

- ``grep -c -F -f terms.txt posts.txt`` (posts lowercased, as the terms are): which
  posts hold any term anywhere, even inside a word (no language, sentences, rules,
  polarity or entities: the floor a keyword search costs);
- tocsin's analyze path, as `tocsin analyze` runs it (read JSON Lines, clean, identify
  the language, split sentences, detect, attributions, the JSON record per post);
- when spaCy is installed: a blank multilingual pipeline with a PhraseMatcher (LOWER)
  over the same terms.

Prints posts/s for each (median of --runs) and the ratios; asserts nothing. One core.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from tocsin.analysis import analyze_one, document_record
from tocsin.config import Limits
from tocsin.indicators.detect import Detector
from tocsin.indicators.realeval import find_real_dir
from tocsin.model import Document, Rejection
from tocsin.pipeline import Inputs, make_text_stage
from tocsin.stories.attribution import AttributionExtractor, SourceIndex

POST_CHARS = 1000
LANGUAGES = ("en", "fr", "ru", "uk")


def _posts_of(record: dict[str, Any], most: int) -> Iterator[str]:
    """A real item as posts: whole when short, else its paragraphs packed up to ``most``
    characters (a long address becomes the posts a channel would make of it)."""
    text = str(record.get("text") or "")
    if len(text) <= most:
        yield text
        return
    post = ""
    for paragraph in text.split("\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if post and len(post) + len(paragraph) + 1 > most:
            yield post
            post = ""
        post = f"{post}\n{paragraph}" if post else paragraph[:most]
    if post:
        yield post


def posts(real: Path | None, limit: int, most: int = POST_CHARS) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if real is not None:
        for path in sorted(real.glob("*.jsonl.gz")):
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                for n, line in enumerate(handle):
                    record = json.loads(line)
                    for k, text in enumerate(_posts_of(record, most)):
                        # no declared language: the posts of a channel seldom say
                        out.append({"id": f"{path.stem}-{n}-{k}",
                                    "source": str(record.get("source") or path.stem),
                                    "text": text})
    else:
        corpus = Path(str(resources.files("tocsin.demo").joinpath("corpus")))
        for file in sorted(corpus.glob("*.jsonl")):
            for n, line in enumerate(file.read_text("utf-8").splitlines()):
                record = json.loads(line)
                out.append({"id": f"{file.stem}-{n}", "source": record.get("source", "demo"),
                            "text": record["text"]})
    # interleave the streams, so a cut keeps every language
    out.sort(key=lambda p: zlib.crc32(p["id"].encode()))
    return out[:limit] if limit else out


def timed(runs: int, work: Callable[[], int]) -> tuple[float, int]:
    """Median seconds of ``runs`` runs after one warm-up run, and what the work counted."""
    counted = work()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        counted = work()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), counted


def run_grep(terms: Path, lines: Path) -> int:
    result = subprocess.run(["grep", "-c", "-F", "-f", str(terms), str(lines)],
                            capture_output=True, text=True, check=False,
                            env={"LC_ALL": "C.UTF-8"})
    return int(result.stdout.strip() or 0)


def tocsin_analyze(path: Path, detector: Detector) -> Callable[[], int]:
    stage = make_text_stage(LANGUAGES, Limits())
    extractor = AttributionExtractor(SourceIndex([]), LANGUAGES)

    def work() -> int:
        hits = 0
        for item in Inputs([str(path)]).read(Limits()):
            result = item if isinstance(item, Rejection) else \
                analyze_one(item, stage, detector, extractor)
            if isinstance(result, Document):
                json.dumps(document_record(result), ensure_ascii=False)
                hits += bool(result.evidence)
        return hits

    return work


def spacy_matcher(terms: list[str], texts: list[str]) -> tuple[Callable[[], int], float] | None:
    try:
        import spacy
        from spacy.matcher import PhraseMatcher
    except ImportError:
        return None
    started = time.perf_counter()
    nlp = spacy.blank("xx")
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    matcher.add("TERMS", list(nlp.tokenizer.pipe(terms)))
    setup = time.perf_counter() - started

    def work() -> int:
        return sum(1 for doc in nlp.tokenizer.pipe(texts) if matcher(doc))

    return work, setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", help="folder of real streams (*.jsonl.gz)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many posts")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--post-chars", type=int, default=POST_CHARS,
                        help=f"longest post (default {POST_CHARS}); longer items are cut")
    parser.add_argument("--cache", help="compiled-pack cache folder (default: a temporary one)")
    parser.add_argument("--save", help="also write the posts as JSON Lines to this file")
    args = parser.parse_args()
    items = posts(find_real_dir(args.real), args.limit, args.post_chars)
    if args.save:
        Path(args.save).write_text(
            "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in items), "utf-8")
    texts = [p["text"] for p in items]
    size = sum(len(t.encode("utf-8")) for t in texts)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        detector = Detector.load("nuclear", Path(args.cache) if args.cache else folder / "c")
        keys = sorted(key for key, _ in detector.compiled.automaton.items())
        (folder / "terms.txt").write_text("".join(f"{k}\n" for k in keys), "utf-8")
        (folder / "posts.jsonl").write_text(
            "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in items), "utf-8")
        # one line a post, lowercased as the terms are (grep -i is slow on UTF-8)
        (folder / "posts.txt").write_text(
            "".join(" ".join(t.lower().split()) + "\n" for t in texts), "utf-8")
        print(f"posts               {len(items):,} (~{size / len(items):,.0f} bytes each, "
              f"{size / 1e6:.1f} MB); {len(keys):,} terms")
        rows: list[tuple[str, float, int]] = []
        if shutil.which("grep"):
            seconds, hits = timed(args.runs, lambda: run_grep(folder / "terms.txt",
                                                              folder / "posts.txt"))
            rows.append(("grep -c -F -f terms", seconds, hits))
        seconds, hits = timed(args.runs, tocsin_analyze(folder / "posts.jsonl", detector))
        rows.append(("tocsin analyze path", seconds, hits))
        spacy_run = spacy_matcher(keys, texts)
        if spacy_run is not None:
            work, setup = spacy_run
            seconds, hits = timed(args.runs, work)
            rows.append((f"spaCy PhraseMatcher (setup {setup:.1f} s)", seconds, hits))
        else:
            print("spaCy               not installed: skipped")
    ours = next(s for name, s, _ in rows if name.startswith("tocsin"))
    print(f"{'':40} {'posts/s':>10} {'MB/s':>7} {'vs tocsin':>10} {'posts hit':>10}")
    for name, seconds, hits in rows:
        print(f"{name:40} {len(items) / seconds:>10,.0f} {size / 1e6 / seconds:>7.2f} "
              f"{ours / seconds:>9.1f}x {hits:>10,}")
    print("(tocsin's hits are posts with evidence: a warning sign found by the rules, "
          "not a keyword)")


if __name__ == "__main__":
    main()
