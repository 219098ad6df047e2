"""Evaluation of detection on the pack's labelled sentences (``eval/<lang>.jsonl``).

Scores are over (sentence, category) pairs: a category is predicted for a sentence when
some evidence of that category is found in it. Polarity accuracy is measured on the
sentences where a labelled category was found. Beside it, the keyword baseline that
analysts use today: a sentence is flagged when it holds the word nuclear / nucléaire /
ядерн- (any category), scored at the sentence level, like tocsin's "any category".
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tocsin.indicators import CONTEXT_CATEGORIES
from tocsin.indicators.detect import Detector
from tocsin.indicators.yamlfile import PackError

KEYWORD = re.compile(r"\b(?:nuclear|nucléaire|ядерн|атомн|nucléaires)\w*", re.IGNORECASE)


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, gold: bool, predicted: bool) -> None:
        """Count one decision: true positive, false positive or false negative."""
        if gold and predicted:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif gold:
            self.fn += 1

    def as_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4)}


@dataclass
class Report:
    sentences: int = 0
    overall: Counts = field(default_factory=Counts)
    by_category: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    by_language: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    sentence_level: Counts = field(default_factory=Counts)
    keyword: Counts = field(default_factory=Counts)
    polarity_total: int = 0
    polarity_correct: int = 0
    by_polarity: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def polarity_accuracy(self) -> float:
        return self.polarity_correct / self.polarity_total if self.polarity_total else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "sentences": self.sentences, "overall": self.overall.as_dict(),
            "by_category": {k: v.as_dict() for k, v in sorted(self.by_category.items())},
            "by_language": {k: v.as_dict() for k, v in sorted(self.by_language.items())},
            "any_category": self.sentence_level.as_dict(),
            "keyword_baseline": self.keyword.as_dict(),
            "polarity_accuracy": round(self.polarity_accuracy, 4),
            "by_polarity": {k: dict(v) for k, v in sorted(self.by_polarity.items())},
        }


EVAL_SETS = {"tuning": "eval", "holdout": "eval/holdout"}


def load_eval(pack_path: Path, which: str = "tuning") -> list[dict[str, Any]]:
    """Labelled sentences: ``tuning`` (eval/*.jsonl, used while writing the pack) or
    ``holdout`` (eval/holdout/*.jsonl, written apart and never used for tuning)."""
    if which not in EVAL_SETS:
        raise PackError(f"no evaluation set {which!r}; choose {sorted(EVAL_SETS)}")
    rows: list[dict[str, Any]] = []
    for file in sorted((pack_path / EVAL_SETS[which]).glob("*.jsonl")):
        for _, row in read_labels(file):
            row.setdefault("language", file.stem)
            rows.append(row)
    return rows


def read_labels(file: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of a labels file; bad JSON is a PackError with file:line."""
    for number, line in enumerate(file.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PackError(f"{file}:{number}: invalid JSON: {exc.msg}") from exc
        if not isinstance(row, dict):
            raise PackError(f"{file}:{number}: a label must be a JSON object")
        yield number, row


def evaluate(detector: Detector, rows: list[dict[str, Any]] | None = None,
             which: str = "tuning") -> Report:
    rows = load_eval(detector.pack.path, which) if rows is None else rows
    report = Report()
    # A general sign says "nuclear arms spoken of", not which category: it counts for the
    # sentence level (any category), not as a category guess. Context is no warning sign.
    general = {i.id for i in detector.compiled.indicators if i.general}
    for row in rows:
        language = row["language"]
        gold = set(row.get("categories") or [])
        evidence = [e for e in detector.detect_sentence(row["text"], language).evidence
                    if e.category not in CONTEXT_CATEGORIES]
        predicted = {e.category for e in evidence if e.indicator not in general}
        report.sentences += 1
        for category in gold | predicted:
            for counts in (report.overall, report.by_category[category],
                           report.by_language[language]):
                counts.add(category in gold, category in predicted)
        report.sentence_level.add(bool(gold), bool(evidence))
        report.keyword.add(bool(gold), bool(KEYWORD.search(row["text"])))
        found = sorted((e for e in evidence if e.category in gold), key=lambda e: -e.severity)
        if gold and found and row.get("polarity"):
            report.polarity_total += 1
            got = found[0].polarity
            report.by_polarity[row["polarity"]][got] += 1
            if got == row["polarity"]:
                report.polarity_correct += 1
            else:
                report.errors.append({"id": row.get("id"), "error": "polarity",
                                      "expected": row["polarity"], "got": got,
                                      "text": row["text"]})
        if gold != predicted:
            report.errors.append({
                "id": row.get("id"), "error": "category",
                "expected": sorted(gold), "got": sorted(predicted),
                "indicators": sorted({e.indicator for e in evidence}), "text": row["text"]})
    return report

