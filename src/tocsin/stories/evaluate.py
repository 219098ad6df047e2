"""Evaluation of stories and attributions on labelled data (``stories/eval``).

Pairs: two documents labelled ``copy`` or ``rewrite`` (one story) or ``independent``
(same event, independent reporting) or ``different`` (different events with shared
wording): scored as pairwise precision and recall of "same story". Attributions: one
sentence each, with the sources and speakers it names; scored per attribution.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from tocsin.indicators.evaluate import Counts
from tocsin.indicators.yamlfile import PackError
from tocsin.stories.attribution import AttributionExtractor, SourceIndex, core_name
from tocsin.stories.cluster import StoryIndex
from tocsin.stories.minhash import figures, signature

SAME = {"copy", "rewrite"}


def eval_dir() -> Path:
    return Path(str(resources.files("tocsin.stories").joinpath("eval")))


def _load(pattern: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for file in sorted(eval_dir().glob(pattern)):
        language = file.stem.rsplit("-", 1)[-1]
        for number, line in enumerate(file.read_text("utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise PackError(f"{file}:{number}: invalid JSON: {exc.msg}") from exc
                row["language"] = language
                rows.append(row)
    return rows


@dataclass
class StoriesReport:
    pairs: Counts = field(default_factory=Counts)
    by_label: dict[str, Counter[str]] = field(default_factory=dict)
    by_language: dict[str, Counts] = field(default_factory=dict)
    attributions: Counts = field(default_factory=Counts)
    attribution_sources: int = 0
    attribution_sources_right: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs.as_dict(),
            "pairs_by_label": {k: dict(v) for k, v in sorted(self.by_label.items())},
            "pairs_by_language": {k: v.as_dict() for k, v in sorted(self.by_language.items())},
            "attributions": self.attributions.as_dict(),
            "attribution_source_accuracy": round(
                self.attribution_sources_right / self.attribution_sources, 4)
            if self.attribution_sources else 1.0,
        }


def evaluate_stories(threshold: float = 0.25, window_days: float = 3) -> StoriesReport:
    from datetime import timedelta

    report = StoriesReport()
    for row in _load("pairs-*.jsonl"):
        language = row["language"]
        index = StoryIndex(threshold, timedelta(days=window_days))
        for n, doc in enumerate((row["a"], row["b"]), start=1):
            index.add(n, datetime.fromisoformat(doc["published_at"]),
                      signature(doc["text"], language), figures(doc["text"]))
        merged = index.find(2) == index.find(1)
        gold = row["label"] in SAME
        counts = report.by_language.setdefault(language, Counts())
        for bucket in (report.pairs, counts):
            bucket.add(gold, merged)
        report.by_label.setdefault(row["label"], Counter())["merged" if merged else "apart"] += 1
        if merged != gold:
            report.errors.append({"id": row.get("id"), "label": row["label"], "merged": merged})
    extractor = AttributionExtractor(SourceIndex([]))
    for row in _load("attributions-*.jsonl"):
        found = extractor.extract(row["text"], row["language"])
        labelled: list[dict[str, Any]] = row.get("attributions") or []
        hits = min(len(found), len(labelled))
        report.attributions.tp += hits
        report.attributions.fp += len(found) - hits
        report.attributions.fn += len(labelled) - hits
        for expected in labelled:
            if not expected.get("source"):
                continue
            report.attribution_sources += 1
            want = core_name(expected["source"])
            if any(f.source and (core_name(f.source) == want or want in core_name(f.source)
                                 or core_name(f.source) in want) for f in found):
                report.attribution_sources_right += 1
            else:
                report.errors.append({"id": row.get("id"), "text": row["text"],
                                      "expected": expected,
                                      "found": [f.as_dict() for f in found]})
    return report
