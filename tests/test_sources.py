"""Each input format, read by its reader, in the real format of that kind of file."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import FIXTURES
from tocsin.model import RawItem, Rejection
from tocsin.sources.decode import decode_bytes
from tocsin.sources.files import expand_paths, read_file
from tocsin.text.prepare import TextStage

GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"
CAP = 10_000_000


def items(path: Path) -> list[RawItem | Rejection]:
    return list(read_file(path, CAP))


def test_html_page_gives_article_text_title_date_and_site(text_stage: TextStage) -> None:
    [item] = items(GOOD / "en_article.html")
    doc = text_stage.prepare(item)  # type: ignore[arg-type]
    assert not isinstance(doc, Rejection)
    assert doc.title == "Moscow suspends New START participation"
    assert doc.source == "Test Gazette"
    assert doc.url == "https://test-gazette.example/2023/02/21/new-start"
    assert doc.published_at == datetime(2023, 2, 21, 13, 40, tzinfo=UTC)
    assert doc.text.startswith("The Russian president told both chambers")
    assert "Cookie" not in doc.text and "Most read" not in doc.text  # boilerplate gone
    assert doc.language == "en"
    assert len(doc.sentences) == 4


def test_text_and_markdown_files(text_stage: TextStage) -> None:
    [txt] = items(GOOD / "fr_note.txt")
    [md] = items(GOOD / "ru_note.md")
    fr, ru = text_stage.prepare(txt), text_stage.prepare(md)  # type: ignore[arg-type]
    assert not isinstance(fr, Rejection) and not isinstance(ru, Rejection)
    assert fr.language == "fr" and fr.title is None
    assert "\n\n" in fr.text  # the paragraph break survives
    assert ru.language == "ru" and ru.title == "Учения в Белоруссии"
    assert not ru.text.startswith("#")


def test_json_lines_keep_every_field() -> None:
    records = items(GOOD / "uk_records.jsonl")
    assert all(isinstance(r, RawItem) for r in records)
    first = records[0]
    assert isinstance(first, RawItem)
    assert (first.external_id, first.source, first.line) == ("uk-1", "Тестова агенція", 1)
    assert first.url == "https://test-agency.example/uk/1"
    assert first.published == "2023-03-09T09:15:00+02:00"


def test_json_array_with_text_and_html_records(text_stage: TextStage) -> None:
    records = items(GOOD / "records.json")
    assert [r.origin for r in records] == [f"{GOOD / 'records.json'}[0]",
                                           f"{GOOD / 'records.json'}[1]"]
    html_doc = text_stage.prepare(records[1])  # type: ignore[arg-type]
    assert not isinstance(html_doc, Rejection)
    assert html_doc.text.startswith("Les dirigeants européens")
    assert "<b>" not in html_doc.text and html_doc.language == "fr"


def test_rss_feed_in_cyrillic(text_stage: TextStage) -> None:
    records = items(GOOD / "feed_rss.xml")
    assert len(records) == 2
    docs = [text_stage.prepare(r) for r in records]  # type: ignore[arg-type]
    first = docs[0]
    assert not isinstance(first, Rejection)
    assert first.source == "Тестовая лента"
    assert first.title == "Минобороны сообщило об испытании «Сармата»"
    assert first.published_at == datetime(2022, 4, 20, 14, 30, tzinfo=UTC)
    assert first.url == "https://test-feed.example/news/1"
    assert first.language == "ru" and "Плесецк" in first.text


def test_atom_feed(text_stage: TextStage) -> None:
    [entry] = items(GOOD / "feed_atom.xml")
    doc = text_stage.prepare(entry)  # type: ignore[arg-type]
    assert not isinstance(doc, Rejection)
    assert doc.title == "Moscou révise sa doctrine nucléaire"
    assert doc.published_at == datetime(2024, 11, 19, 14, 20, tzinfo=UTC)
    assert doc.text.startswith("Le président russe a signé mardi")


def test_truncated_feed_keeps_the_items_before_the_cut() -> None:
    records = items(BAD / "truncated_feed.xml")
    good = [r for r in records if isinstance(r, RawItem)]
    assert [g.title for g in good] == ["IAEA team rotates at Zaporizhzhia"]
    assert good[0].meta["feed_recovered"] is True


def test_xml_bombs_and_external_entities_are_refused_before_parsing() -> None:
    for name in ("bomb.xml", "external_entity.xml"):
        [rejection] = items(BAD / name)
        assert isinstance(rejection, Rejection)
        assert rejection.reason == "forbidden-xml"


def test_windows_1251_is_detected_and_decoded() -> None:
    [item] = items(BAD / "cp1251.txt")
    assert isinstance(item, RawItem)
    assert item.text is not None and item.text.startswith("Министр иностранных дел")
    assert item.meta["encoding"].replace("-", "").lower() in {"cp1251", "windows1251"}


def test_utf16_with_bom_is_read() -> None:
    text, encoding = decode_bytes("Ядерна безпека".encode("utf-16"), "x")
    assert text == "Ядерна безпека" and encoding == "utf-16"


def test_size_cap_quarantines_without_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("слово " * 2000, encoding="utf-8")
    [rejection] = list(read_file(big, max_bytes=1000))
    assert isinstance(rejection, Rejection) and rejection.reason == "too-large"
    assert "max_file_bytes" in rejection.message


def test_folder_walk_is_sorted_skips_hidden_and_reports_missing(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".hidden.txt").write_text("h")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("x")
    found = list(expand_paths([tmp_path, tmp_path / "nope.txt"]))
    assert found[:2] == [tmp_path / "a.txt", tmp_path / "b.txt"]
    assert isinstance(found[2], Rejection) and found[2].reason == "missing"
    assert len(found) == 3


def test_xhtml_with_an_xml_declaration_keeps_its_publication_time(
        tmp_path: Path, text_stage: TextStage) -> None:
    page = tmp_path / "page.xhtml"
    page.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        '<head><title>Drills end</title><meta property="article:published_time" '
        'content="2024-05-06T10:00:00+03:00"/></head><body><article><p>The drills with '
        'non-strategic weapons ended on Monday, the ministry said, after three days in the '
        'south of the country.</p></article></body></html>', encoding="utf-8")
    [item] = items(page)
    doc = text_stage.prepare(item)  # type: ignore[arg-type]
    assert not isinstance(doc, Rejection)
    assert doc.published_at == datetime(2024, 5, 6, 7, 0, tzinfo=UTC)


def test_a_text_file_headline_is_its_title_and_its_file_time_its_date(
        tmp_path: Path, text_stage: TextStage) -> None:
    saved = datetime(2024, 11, 21, 9, 30, tzinfo=UTC)
    article = tmp_path / "oreshnik.txt"
    article.write_text("Russia fires a new intermediate-range missile at Dnipro\n\n"
                       "The strike used a missile the Kremlin called Oreshnik.\n"
                       "Officials said it carried no nuclear warhead.\n", encoding="utf-8")
    wrapped = tmp_path / "wrapped.txt"  # hard-wrapped prose: its first line is no title
    wrapped.write_text("The ministry said on Thursday that the drills near Kaliningrad\n"
                       "would go ahead as planned.\n\nA second paragraph follows.\n",
                       encoding="utf-8")
    sentence = tmp_path / "sentence.txt"  # a first paragraph of one sentence: no title
    sentence.write_text("The drills went ahead as planned.\n\nA second paragraph.\n",
                        encoding="utf-8")
    for path in (article, wrapped, sentence):
        os.utime(path, (saved.timestamp(), saved.timestamp()))
    docs = [text_stage.prepare(item) for p in (article, wrapped, sentence)
            for item in items(p)]  # type: ignore[arg-type]
    assert not any(isinstance(d, Rejection) for d in docs)
    first, second, third = docs  # type: ignore[misc]
    assert first.title == "Russia fires a new intermediate-range missile at Dnipro"
    assert first.text.startswith("The strike used a missile")
    assert first.published_at == saved and first.date_flag == "file-time"
    assert second.title is None and second.text.startswith("The ministry said")
    assert third.title is None
