"""Evaluation on real published streams (``tocsin eval --set real``).

The pack holds labels only (``eval/real/<stream>.jsonl``: id, relevant, categories,
polarity, the hard negative that explains an irrelevant item, a note); the texts stay in
the streams they were published in (``<stream>.jsonl.gz`` in a folder given by
``--real-dir`` or ``TOCSIN_REAL_DIR``; by default ``../shared/data/real`` from the working
directory or from the repository). Every labelled item goes through the real ingest
path (JSON record -> text stage -> detection over title and text), and is scored at the
post level: relevant when it holds at least one piece of warning evidence. Beside it,
the keyword search analysts use today (nuclear / nucléaire / ядерн- / атомн-).

Items whose id hashes to 0 modulo 3 are the *held-out* third: their errors are not shown
by ``--errors`` unless asked for, and the pack is not tuned on them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tocsin.errors import TocsinError
from tocsin.indicators import CONTEXT_CATEGORIES
from tocsin.indicators.detect import Detector
from tocsin.indicators.evaluate import KEYWORD, Counts, read_labels
from tocsin.indicators.yamlfile import PackError
from tocsin.model import Document
from tocsin.sources.jsonl import item_from_object
from tocsin.text.prepare import TextStage

ENV = "TOCSIN_REAL_DIR"


def holdout(item_id: str) -> bool:
    return int(hashlib.sha1(item_id.encode()).hexdigest(), 16) % 3 == 0


def find_real_dir(given: str | Path | None = None) -> Path | None:
    """The folder of real streams, or None when there is none (a user's fresh clone)."""
    candidates = [Path(given)] if given else []
    if os.environ.get(ENV):
        candidates.append(Path(os.environ[ENV]))
    if not given:
        candidates += [Path.cwd().parent / "shared" / "data" / "real",
                       Path(__file__).resolve().parents[3].parent / "shared" / "data" / "real"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    if given:
        raise PackError(f"{given}: no such folder of real streams")
    return None


@dataclass
class RealReport:
    items: int = 0
    overall: Counts = field(default_factory=Counts)
    keyword: Counts = field(default_factory=Counts)
    by_language: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    keyword_by_language: dict[str, Counts] = field(
        default_factory=lambda: defaultdict(Counts))
    by_stream: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    by_split: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    by_category: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    missing: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items, "overall": self.overall.as_dict(),
            "keyword_baseline": self.keyword.as_dict(),
            "by_language": {k: v.as_dict() for k, v in sorted(self.by_language.items())},
            "keyword_by_language": {k: v.as_dict()
                                    for k, v in sorted(self.keyword_by_language.items())},
            "by_stream": {k: v.as_dict() for k, v in sorted(self.by_stream.items())},
            "by_split": {k: v.as_dict() for k, v in sorted(self.by_split.items())},
            "by_category": {k: v.as_dict() for k, v in sorted(self.by_category.items())},
            "missing": self.missing,
        }


def load_labels(pack_path: Path) -> dict[str, list[dict[str, Any]]]:
    """stream name -> its labelled items."""
    labels: dict[str, list[dict[str, Any]]] = {}
    for file in sorted((pack_path / "eval" / "real").glob("*.jsonl")):
        rows = []
        for number, row in read_labels(file):
            if "id" not in row or "relevant" not in row:
                raise PackError(f"{file}:{number}: a label needs `id` and `relevant`")
            rows.append(row)
        labels[file.stem] = rows
    return labels


def read_stream(path: Path, wanted: set[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if str(record.get("id")) in wanted:
                found[str(record["id"])] = record
    return found


def evaluate_real(detector: Detector, text_stage: TextStage,
                  real_dir: Path) -> RealReport:
    report = RealReport()
    for stream, rows in load_labels(detector.pack.path).items():
        path = real_dir / f"{stream}.jsonl.gz"
        if not path.is_file():
            raise TocsinError(f"{path}: the stream labelled in eval/real/{stream}.jsonl "
                              f"is missing")
        records = read_stream(path, {str(r["id"]) for r in rows})
        for row in rows:
            record = records.get(str(row["id"]))
            if record is None:
                report.missing.append(f"{stream}:{row['id']}")
                continue
            item = item_from_object(record, str(path), None, "")
            doc = text_stage.prepare(item)  # type: ignore[arg-type]
            if not isinstance(doc, Document):
                report.missing.append(f"{stream}:{row['id']}")
                continue
            _score(report, detector, stream, row, doc)
    return report


def _score(report: RealReport, detector: Detector, stream: str, row: dict[str, Any],
           doc: Document) -> None:
    found = detector.detect_document(doc)
    warning = [e for e in found.evidence if e.category not in CONTEXT_CATEGORIES]
    gold, predicted = bool(row["relevant"]), bool(warning)
    keyword = bool(KEYWORD.search(f"{doc.title or ''}\n{doc.text}"))
    split = "holdout" if holdout(str(row["id"])) else "dev"
    report.items += 1
    for counts in (report.overall, report.by_language[doc.language],
                   report.by_stream[stream], report.by_split[split]):
        counts.add(gold, predicted)
    report.keyword.add(gold, keyword)
    report.keyword_by_language[doc.language].add(gold, keyword)
    got = {e.category for e in warning}
    for category in set(row.get("categories") or []) | (got if gold else set()):
        report.by_category[category].add(category in (row.get("categories") or []),
                                         category in got)
    if gold != predicted:
        report.errors.append({
            "id": row["id"], "stream": stream, "split": split, "language": doc.language,
            "error": "missed" if gold else "false", "note": row.get("note", ""),
            "negative": row.get("negative"),
            "evidence": [{"indicator": e.indicator, "field": e.field, "terms": e.terms,
                          "sentence": e.sentence[:300]} for e in warning[:5]],
        })
