"""`tocsin analyze`: the JSON Lines contract, the table, and ingest storing evidence."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import CLI, FIXTURES


def test_jsonl_contract(tocsin: CLI, tmp_path: Path) -> None:
    doc = tmp_path / "statement.txt"
    doc.write_text("Президент подписал указ об обновлённой ядерной доктрине. "
                   "Ракеты «Искандер-М» заступили на боевое дежурство в Калининградской "
                   "области.", encoding="utf-8")
    result = tocsin("analyze", "--with-text", str(doc))
    assert result.exit_code == 0, result.output
    [record] = [json.loads(line) for line in result.output.splitlines()]
    assert record["language"] == "ru"
    text = record["text"]
    for entity in record["entities"]:
        assert set(entity) == {"type", "id", "name", "text", "field", "start", "end"}
        assert text[entity["start"]:entity["end"]] == entity["text"]
    by_id = {e["id"]: e for e in record["entities"]}
    assert by_id["iskander-m"]["name"] == "Iskander-M" and by_id["iskander-m"]["type"] == "weapon"
    assert by_id["kaliningrad-oblast"]["type"] == "place"
    categories = {e["category"] for e in record["evidence"]}
    assert {"doctrine", "readiness"} <= categories
    for evidence in record["evidence"]:
        assert {"indicator", "category", "polarity", "sentence", "field", "start", "end",
                "terms", "actor", "place", "weapon"} <= set(evidence)
        field = text if evidence["field"] == "text" else record["title"]
        assert field[evidence["start"]:evidence["end"]] == evidence["sentence"]
    readiness = next(e for e in record["evidence"] if e["category"] == "readiness")
    assert readiness["weapon"] == "iskander-m" and readiness["place"] == "kaliningrad-oblast"


def test_without_text_by_default_and_table_format(tocsin: CLI) -> None:
    feed = FIXTURES / "good" / "feed_rss.xml"
    records = [json.loads(x) for x in tocsin("analyze", str(feed)).output.splitlines()]
    assert len(records) == 2 and all("text" not in r for r in records)
    assert records[0]["evidence"][0]["category"] == "test"
    assert records[1]["evidence"] == []
    table = tocsin("analyze", "--format", "table", str(feed))
    assert "test.nuclear-capable-missile" in table.output and "no warning signs" in table.output


def test_rejected_inputs_are_said_and_change_the_exit_code(tocsin: CLI) -> None:
    result = tocsin("analyze", str(FIXTURES / "bad" / "bomb.xml"))
    assert result.exit_code == 3 and "forbidden-xml" in result.output


def test_ingest_stores_evidence_and_entities(tocsin: CLI, tmp_path: Path) -> None:
    line = json.dumps({"source": "Desk", "title": "t", "published_at": "2023-03-25T18:00:00Z",
                       "text": "Putin said Russia would station tactical nuclear weapons in "
                               "Belarus. Grain exports rose."})
    assert tocsin("ingest", "-", input=line).exit_code == 0
    with sqlite3.connect(tmp_path / "data" / "tocsin.db") as conn:
        rows = conn.execute("SELECT e.category, e.polarity, e.pack, e.start, e.end, d.text "
                            "FROM evidence e JOIN documents d ON d.id = e.document_id").fetchall()
        entities = {r[0] for r in conn.execute("SELECT entity FROM entities")}
    assert ("deployment", "asserted", "nuclear") in {r[:3] for r in rows}
    for *_, start, end, text in rows:
        assert text[start:end].startswith("Putin said Russia would station")
    assert {"putin", "belarus"} <= entities
    board = tocsin("board")
    assert "Newest evidence" in board.output and "deployment" in board.output
    shown = json.loads(tocsin("show", "1", "--format", "jsonl").output)
    assert shown["evidence"][0]["category"] == "deployment"
    assert "deployment.nuclear-weapons" in tocsin("show", "1").output


def test_analyze_creates_no_store(tocsin: CLI, tmp_path: Path) -> None:
    assert tocsin("analyze", str(FIXTURES / "good" / "fr_note.txt")).exit_code == 0
    assert not (tmp_path / "data" / "tocsin.db").exists()


def test_redetect_replaces_evidence_after_a_pack_change(tocsin: CLI, tmp_path: Path) -> None:
    line = json.dumps({"source": "Desk", "text": "Putin said Russia would station tactical "
                       "nuclear weapons in Belarus. The navy held drills with a submarine."})
    tocsin("ingest", "-", input=line)
    pack = tmp_path / "mini"
    (pack / "languages").mkdir(parents=True)
    (pack / "indicators").mkdir()
    (pack / "pack.yaml").write_text("id: mini\nversion: '2'\nlanguages: [en]\n")
    (pack / "languages" / "en.yaml").write_text(
        "language: en\nconcepts:\n  drill: [drills]\n  sub: [submarine]\n")
    (pack / "indicators" / "x.yaml").write_text(
        "indicators:\n  - id: exercise.sub\n    title: Sub drill\n    description: d\n"
        "    category: exercise\n    severity: 2\n    status: experimental\n"
        "    match: {all: [drill, sub]}\n    examples:\n      match: [{lang: en, text: "
        "'drills with a submarine'}]\n      nomatch: [{lang: en, text: 'a drill'}]\n")
    result = tocsin("redetect", "--pack", str(pack))
    assert result.exit_code == 0 and "1 documents: 1 pieces of evidence" in result.output
    with sqlite3.connect(tmp_path / "data" / "tocsin.db") as conn:
        rows = conn.execute("SELECT pack, indicator FROM evidence").fetchall()
    assert rows == [("mini", "exercise.sub")]
