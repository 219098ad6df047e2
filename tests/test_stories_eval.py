"""Story clustering and attribution quality never fall below the stored minimums."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import CLI
from tocsin.stories.evaluate import StoriesReport, _load, eval_dir, evaluate_stories


@pytest.fixture(scope="module")
def report() -> StoriesReport:
    return evaluate_stories()


@pytest.fixture(scope="module")
def minimums() -> dict:
    return yaml.safe_load((eval_dir() / "minimums.yaml").read_text("utf-8"))


def test_the_pairs_set_is_what_it_claims() -> None:
    pairs = _load("pairs-*.jsonl")
    assert len(pairs) >= 180
    labels = {p["label"] for p in pairs}
    assert labels == {"copy", "rewrite", "independent", "different"}


def test_pairwise_scores(report: StoriesReport, minimums: dict) -> None:
    assert report.pairs.f1 >= minimums["pairs"]["f1"]
    assert report.pairs.precision >= minimums["pairs"]["precision"]
    assert report.pairs.recall >= minimums["pairs"]["recall"]
    assert minimums["pairs"]["f1"] >= 0.90


def test_independent_reporting_is_never_merged(report: StoriesReport, minimums: dict) -> None:
    merged = report.by_label["independent"].get("merged", 0)
    assert merged <= minimums["independent_merged"] == 0


def test_attributions(report: StoriesReport, minimums: dict) -> None:
    assert report.attributions.precision >= minimums["attributions"]["precision"]
    assert report.attributions.recall >= minimums["attributions"]["recall"]
    accuracy = report.as_dict()["attribution_source_accuracy"]
    assert accuracy >= minimums["attributions"]["source_accuracy"]


def test_eval_stories_command(tocsin: CLI) -> None:
    data = json.loads(tocsin("eval", "--stories", "--format", "json").output)
    assert data["pairs"]["f1"] > 0.9
    assert "all pairs" in tocsin("eval", "--stories").output
