"""The bundled demo corpus is what the README promises, and `tocsin demo` runs on it."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from importlib import resources
from pathlib import Path

import yaml

from tests.conftest import CLI
from tocsin.text.language import LanguageIdentifier

DEMO = Path(str(resources.files("tocsin.demo")))
LANGS = ("en", "fr", "ru", "uk")


def corpus() -> dict[str, list[dict]]:
    return {lang: [json.loads(line) for line in
                   (DEMO / "corpus" / f"{lang}.jsonl").read_text("utf-8").splitlines()]
            for lang in LANGS}


def labels() -> dict[str, dict]:
    out = {}
    for lang in LANGS:
        for line in (DEMO / "labels" / f"{lang}.jsonl").read_text("utf-8").splitlines():
            row = json.loads(line)
            out[row["id"]] = row
    return out


def test_corpus_size_languages_and_fictional_outlets() -> None:
    docs = corpus()
    registry = yaml.safe_load((DEMO / "sources.yaml").read_text("utf-8"))["sources"]
    names = {s["name"] for s in registry}
    assert sum(len(v) for v in docs.values()) >= 300
    assert all(len(docs[lang]) >= 50 for lang in LANGS)
    used = {d["source"] for v in docs.values() for d in v}
    assert used <= names and len(used) >= 12
    assert all(s["homepage"].endswith(".example/") for s in registry)
    ids = [d["id"] for v in docs.values() for d in v]
    assert len(ids) == len(set(ids))


def test_every_document_has_a_real_date_in_2022_to_2025_and_a_label() -> None:
    truth = labels()
    for docs in corpus().values():
        for doc in docs:
            when = datetime.fromisoformat(doc["published_at"])
            assert when.tzinfo is not None and 2022 <= when.year <= 2025, doc["id"]
            assert doc["id"] in truth and doc["text"].strip()


def test_news_flow_mix_echoes_and_hard_negatives() -> None:
    truth = labels()
    kinds = Counter(row["kind"] for row in truth.values())
    assert kinds["ordinary"] > kinds["warning"] > kinds["hard-negative"] >= 40
    echoes = [row for row in truth.values() if row["echo_of"]]
    assert len(echoes) >= 24 and all(e["echo_of"] in truth for e in echoes)
    chains = [e for e in echoes if truth[e["echo_of"]]["echo_of"]]
    assert len(chains) >= 4  # at least one three-link chain per language
    polarities = Counter(row["polarity"] for row in truth.values() if row["kind"] == "warning")
    assert polarities["denied"] >= 12 and polarities["hypothetical"] >= 12
    categories = {c for row in truth.values() for c in row["categories"]}
    assert {"rhetoric", "doctrine", "readiness", "exercise", "deployment", "test",
            "arms-control", "nuclear-safety", "civil-defence", "de-escalation"} <= categories


def test_language_identification_agrees_with_the_corpus(languages: LanguageIdentifier) -> None:
    wrong = [(lang, d["id"]) for lang, docs in corpus().items() for d in docs
             if languages.identify(d["text"]).code != lang]
    assert wrong == []


def test_demo_command_ingests_everything_and_prints_the_board(tocsin: CLI) -> None:
    result = tocsin("demo")
    assert result.exit_code == 0, result.output
    total = sum(len(v) for v in corpus().values())
    assert f"new {total}" in result.output and "quarantined 0" in result.output
    assert "tocsin board" in result.output and "Northgate Wire" in result.output
    again = tocsin("demo")
    assert again.exit_code == 0 and f"new 0, already known {total}" in again.output
