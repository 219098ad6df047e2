"""Detection quality on the pack's labelled sentences must not fall below the stored
minimums (src/tocsin/packs/nuclear/eval/minimums.yaml)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml

from tests.conftest import CLI
from tocsin.indicators import CATEGORIES
from tocsin.indicators.detect import Detector
from tocsin.indicators.evaluate import Report, evaluate, load_eval


@pytest.fixture(scope="module")
def report(detector: Detector) -> Report:
    return evaluate(detector)


@pytest.fixture(scope="module")
def minimums(detector: Detector) -> dict:
    return yaml.safe_load((detector.pack.path / "eval" / "minimums.yaml").read_text("utf-8"))


def test_the_evaluation_set_is_what_it_claims(detector: Detector) -> None:
    rows = load_eval(detector.pack.path)
    languages = Counter(r["language"] for r in rows)
    assert len(rows) >= 400 and all(languages[lang] >= 80 for lang in ("en", "fr", "ru", "uk"))
    negatives = sum(1 for r in rows if not r["categories"])
    assert negatives / len(rows) >= 0.40
    assert sum(1 for r in rows if r["polarity"] in ("denied", "hypothetical")) >= 40
    assert {c for r in rows for c in r["categories"]} == set(CATEGORIES) - {"context"}
    assert len({r["text"] for r in rows}) == len(rows)


def test_overall_precision_and_recall(report: Report, minimums: dict) -> None:
    assert report.overall.precision >= minimums["overall"]["precision"]
    assert report.overall.recall >= minimums["overall"]["recall"]


def test_every_language(report: Report, minimums: dict) -> None:
    for language, floor in minimums["language_f1"].items():
        assert report.by_language[language].f1 >= floor, language


def test_polarity(report: Report, minimums: dict) -> None:
    assert report.polarity_accuracy >= minimums["polarity_accuracy"]


def test_beats_the_keyword_baseline(report: Report, minimums: dict) -> None:
    margin = report.sentence_level.f1 - report.keyword.f1
    assert margin >= minimums["any_category_f1_over_keyword"]


def test_holdout_set_does_not_regress(detector: Detector, minimums: dict) -> None:
    holdout = evaluate(detector, which="holdout")
    assert holdout.sentences >= 200
    assert holdout.overall.precision >= minimums["holdout"]["precision"]
    assert holdout.overall.recall >= minimums["holdout"]["recall"]
    assert holdout.polarity_accuracy >= minimums["holdout"]["polarity_accuracy"]
    assert holdout.sentence_level.f1 > holdout.keyword.f1


def test_minimums_never_go_below_the_required_floor(minimums: dict) -> None:
    assert minimums["overall"]["precision"] >= 0.90
    assert minimums["overall"]["recall"] >= 0.85
    assert all(v >= 0.80 for v in minimums["language_f1"].values())
    assert minimums["polarity_accuracy"] >= 0.85


def test_eval_command_prints_the_tables(tocsin: CLI) -> None:
    table = tocsin("eval")
    assert table.exit_code == 0
    assert "keyword baseline" in table.output and "Polarity accuracy" in table.output
    data = json.loads(tocsin("eval", "--format", "json").output)
    assert set(data["by_language"]) == {"en", "fr", "ru", "uk"}
    assert data["keyword_baseline"]["f1"] < data["any_category"]["f1"]


def test_real_streams_hold_their_minimums(detector: Detector, minimums: dict) -> None:
    """Detection on the labelled items of real published streams (texts read from
    ../shared/data/real, never copied into the project)."""
    from tocsin.config import Limits
    from tocsin.indicators.realeval import evaluate_real, find_real_dir
    from tocsin.pipeline import make_text_stage

    folder = find_real_dir()
    if folder is None:
        pytest.skip("the real streams (../shared/data/real) are not on this machine")
    floor = minimums["real"]
    report = evaluate_real(detector, make_text_stage(("en", "fr", "ru", "uk"), Limits()),
                           folder)
    assert report.items >= 1200 and not report.missing
    assert report.overall.precision >= floor["precision"]
    assert report.overall.recall >= floor["recall"]
    assert report.overall.f1 >= report.keyword.f1 + floor["f1_over_keyword"]
    for language, counts in report.by_language.items():
        assert counts.precision >= floor["language_precision"][language], language
        assert counts.recall >= floor["language_recall"][language], language
