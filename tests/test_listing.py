"""Listings people can read at 80 and 160 columns, CSV export, search and evidence."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import tocsin
from tocsin.cli import app
from tocsin.cli import common as cli_common
from tocsin.store.search import fts5_query

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CUT_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{0,2}:?\d?…|\d{4}-\d{0,2}…|\d{4}-\d{2}-\d{0,1}…")
LISTINGS = [("documents",), ("alerts",), ("scores",), ("replay",), ("evidence",),
            ("sources", "list"), ("stories",), ("quarantine",),
            ("search", "ядерн*")]


@pytest.fixture
def width() -> Iterator[object]:
    """Set the terminal width the command line prints tables to."""
    saved = cli_common.out.width

    def set_width(columns: int) -> None:
        cli_common.out.width = columns

    yield set_width
    cli_common.out.width = saved


def run(data: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--data-dir", str(data), *args],
                                                catch_exceptions=False)
    return result.exit_code, result.stdout


@pytest.mark.parametrize("columns", [80, 160])
def test_tables_fit_and_never_cut_an_id_or_a_date(demo_dir: Path, width: object,
                                                  columns: int,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  pack_cache: Path) -> None:
    monkeypatch.setenv("TOCSIN_CACHE_DIR", str(pack_cache))
    width(columns)  # type: ignore[operator]
    for args in LISTINGS:
        code, output = run(demo_dir, *args)
        assert code == 0, args
        lines = output.splitlines()
        assert all(len(line) <= columns for line in lines), (args, columns)
        assert not CUT_DATE.search(output), (args, columns, output)
        # dates shown in the body are whole and, in time-ordered listings, newest first
        if args[0] in ("documents", "alerts", "scores", "evidence"):
            days = [m.group(0) for m in (DATE.search(line) for line in lines[3:]) if m]
            assert days and days == sorted(days, reverse=True), args


def test_wide_shows_every_column_whole(demo_dir: Path, width: object) -> None:
    width(80)  # type: ignore[operator]
    _, narrow = run(demo_dir, "documents", "--limit", "3")
    _, wide = run(demo_dir, "documents", "--limit", "3", "--wide")
    assert "url" not in narrow.splitlines()[2] and "url" in wide.splitlines()[2]
    with tocsin.open_store(data_dir=demo_dir) as t:
        docs, _ = t.documents(limit=3)
    for doc in docs:  # nothing cut: each title and address appears whole
        assert doc["title"] in wide and doc["url"] in wide
        assert "…" not in wide


def test_every_listing_exports_csv_with_a_header(demo_dir: Path) -> None:
    for args, header in ((("documents",), "id"), (("alerts",), "id"),
                         (("evidence",), "id"), (("scores",), "bucket (UTC)"),
                         (("sources", "list"), "id"), (("stories",), "id"),
                         (("replay",), "#"), (("search", "Putin"), "id")):
        code, output = run(demo_dir, *args, "-f", "csv")
        rows = list(csv.reader(io.StringIO(output)))
        assert code == 0 and rows[0][0] == header and len(rows) > 1, args
        assert all(len(row) == len(rows[0]) for row in rows), args


def test_search_reads_words_phrases_prefixes_exclusions_and_cyrillic(demo_dir: Path) -> None:
    with tocsin.open_store(data_dir=demo_dir) as t:
        def ids(query: str, **filters: object) -> set[int]:
            return {hit["id"] for hit in t.search(query, limit=500, **filters)}

        phrase = ids('"nuclear forces"')
        assert phrase and phrase <= ids("nuclear forces")
        assert ids("nuclear forces -Shoigu") == ids("nuclear forces") - ids("Shoigu")
        assert ids("Искандер*") >= ids("Искандер") and ids("Искандер*")
        either = ids("Oreshnik OR Орешник")
        assert either == ids("Oreshnik") | ids("Орешник") and either
        for hit in t.search("ядерн*", limit=5):  # highlights point at the matched word
            assert hit["highlights"]
            start, end = hit["highlights"][0]
            assert hit["snippet"][start:end].lower().startswith("ядерн")
        ru = ids("ядерн*", language="ru")
        assert ru and all(t.document(i)["language"] == "ru" for i in ru)
        denied = ids("nuclear*", polarity="denied")
        assert denied and all(any(e["polarity"] == "denied" for e in t.document(i)["evidence"])
                              for i in denied)
        belarus = ids("nuclear*", entity="Belarus")
        assert belarus and belarus == ids("nuclear*", entity="place:belarus")


def test_search_never_trips_on_punctuation_or_empty_queries(demo_dir: Path) -> None:
    assert fts5_query('Kh-101 "С-400" AND x*') == '"Kh-101" "С-400" "x"*'
    with tocsin.open_store(data_dir=demo_dir) as t:
        for query in ("Kh-101", "С-400", "'; DROP TABLE documents; --", "(((", 'a"b',
                      "NEAR(x y)", "* OR *"):
            try:
                t.search(query)
            except tocsin.TocsinError as exc:  # refused with a message, never a crash
                assert "search" in str(exc)
        with pytest.raises(tocsin.TocsinError, match="nothing to search for"):
            t.search("-alone")


def test_evidence_listing_filters_and_gives_review_ids(demo_dir: Path) -> None:
    code, output = run(demo_dir, "evidence", "--category", "deployment", "--polarity",
                       "asserted", "--limit", "500", "-f", "jsonl")
    rows = [json.loads(line) for line in output.splitlines()]
    assert code == 0 and rows
    assert {r["category"] for r in rows} == {"deployment"}
    assert {r["polarity"] for r in rows} == {"asserted"}
    with tocsin.open_store(data_dir=demo_dir) as t:
        doc = t.document(rows[0]["document"])
    assert rows[0]["id"] in {e["id"] for e in doc["evidence"]}
    code, prefixed = run(demo_dir, "evidence", "--indicator", "readiness.*", "-f", "jsonl")
    assert code == 0 and all(json.loads(line)["indicator"].startswith("readiness.")
                             for line in prefixed.splitlines())


def test_show_lists_evidence_ids_with_their_sentences(demo_dir: Path) -> None:
    with tocsin.open_store(data_dir=demo_dir) as t:
        piece = t.evidence(category="readiness", limit=1)[0]
    code, output = run(demo_dir, "show", str(piece["document"]))
    assert code == 0 and f"#{piece['id']} readiness" in output
    assert "tocsin review ID true|false" in output


@pytest.mark.parametrize("columns", [80, 160])
def test_the_board_shows_each_newest_sentence_whole(demo_dir: Path, width: object,
                                                   columns: int) -> None:
    width(columns)  # type: ignore[operator]
    code, output = run(demo_dir, "board")
    with tocsin.open_store(data_dir=demo_dir) as t:
        newest = t.board().evidence
    flowing = " ".join(output.split())  # the sentence wraps at words, nothing is cut
    assert code == 0 and newest
    for row in newest:
        assert f"#{row['id']} " in output
        assert " ".join(row["sentence"].split()) in flowing


QUERIES = ("Искандер*", '"nuclear forces" -Shoigu', "Oreshnik OR Орешник", "Kh-101",
           "ядерн* Белоруссии", "it's", "(((")


@pytest.mark.skipif(not os.environ.get("TOCSIN_TEST_POSTGRES"),
                    reason="set TOCSIN_TEST_POSTGRES to an empty PostgreSQL database URL")
def test_search_finds_the_same_on_postgresql(demo_dir: Path, tmp_path: Path,
                                             pack_cache: Path) -> None:
    from tocsin.api import Tocsin, load

    url = os.environ["TOCSIN_TEST_POSTGRES"]
    settings = load(None, db=url, data_dir=tmp_path, cache_dir=pack_cache, deliver_wait=0)
    with Tocsin(settings) as pg, tocsin.open_store(data_dir=demo_dir) as lite:
        if not pg.documents(limit=1)[1]:
            pg.demo()
        for query in QUERIES:
            def titles(t: tocsin.Tocsin) -> set[str]:
                return {h["title"] for h in t.search(query, limit=500)}  # noqa: B023
            assert titles(pg) == titles(lite), query


def test_json_lines_escape_every_control_character(tmp_path: Path) -> None:
    from tocsin.cli.common import dumps

    value = {"title": "CSI \x9b2J, ESC \x1b[2J, DEL \x7f, Кинжал"}
    printed = dumps(value)
    assert not any(0x7f <= ord(c) <= 0x9f or ord(c) < 0x20 for c in printed)
    assert json.loads(printed) == value and "Кинжал" in printed
