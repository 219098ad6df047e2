"""Ingest end to end through the CLI, into a real SQLite store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import CLI, FIXTURES
from tocsin.cli import EXIT_REJECTED

GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"


def db_rows(tmp_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "data" / "tocsin.db") as conn:
        return conn.execute(sql).fetchall()


def test_every_good_format_is_ingested(tocsin: CLI, tmp_path: Path) -> None:
    result = tocsin("ingest", str(GOOD))
    assert result.exit_code == 0, result.output
    assert "read 11, new 11, already known 0, quarantined 0" in result.output
    kinds = dict(db_rows(tmp_path, "SELECT kind, count(*) FROM documents GROUP BY kind"))
    assert kinds == {"feed": 3, "html": 1, "json": 5, "text": 2}
    langs = dict(db_rows(tmp_path, "SELECT language, count(*) FROM documents GROUP BY language"))
    assert langs == {"en": 2, "fr": 3, "ru": 3, "uk": 3}


def test_ingesting_twice_adds_nothing_and_says_so(tocsin: CLI, tmp_path: Path) -> None:
    tocsin("ingest", str(GOOD))
    again = tocsin("ingest", str(GOOD))
    assert again.exit_code == 0
    assert "new 0, already known 11" in again.output
    assert db_rows(tmp_path, "SELECT count(*) FROM documents") == [(11,)]
    runs = db_rows(tmp_path, "SELECT id, new, known, status FROM ingest_runs ORDER BY id")
    assert runs == [(1, 11, 0, "done"), (2, 0, 11, "done")]


def test_same_text_from_two_sources_is_two_documents(tocsin: CLI, tmp_path: Path) -> None:
    lines = [json.dumps({"source": s, "text": "Talks on strategic stability resumed in Geneva."})
             for s in ("Desk A", "Desk B", "Desk A")]
    result = tocsin("ingest", "-", input="\n".join(lines) + "\n")
    assert result.exit_code == 0
    assert "read 3, new 2, already known 1" in result.output


def test_white_space_and_quote_variants_are_the_same_document(tocsin: CLI) -> None:
    lines = [json.dumps({"source": "Desk", "text": t}) for t in (
        "Он сказал: “это не блеф”.", "Он  сказал:\u00a0\"это не блеф\".\n")]
    result = tocsin("ingest", "-", input="\n".join(lines))
    assert "new 1, already known 1" in result.output


def test_bad_inputs_are_quarantined_and_good_ones_kept(tocsin: CLI, tmp_path: Path) -> None:
    result = tocsin("ingest", str(BAD))
    assert result.exit_code == EXIT_REJECTED, result.output
    reasons = dict(db_rows(tmp_path, "SELECT reason, count(*) FROM quarantine GROUP BY reason"))
    assert reasons == {"empty": 3, "forbidden-xml": 2, "invalid-json": 1, "invalid-record": 3,
                       "undecodable": 1, "unsupported": 1}
    where = {(Path(o).name, line, reason) for o, line, reason in
             db_rows(tmp_path, "SELECT origin, line, reason FROM quarantine")}
    assert ("broken.jsonl", 2, "invalid-json") in where
    assert ("broken.jsonl", 3, "invalid-record") in where
    assert ("bomb.xml", None, "forbidden-xml") in where
    assert ("binary.txt", None, "undecodable") in where
    titles = {t for (t,) in db_rows(tmp_path, "SELECT title FROM documents")}
    # the good lines around the broken ones survive, and so does the cp1251 file
    assert {"good one", "good two", "impossible date", "far future"} <= titles
    assert db_rows(tmp_path, "SELECT count(*) FROM documents WHERE text LIKE 'Министр%'") == [(1,)]


def test_untrusted_dates_are_flagged_and_kept_raw(tocsin: CLI, tmp_path: Path) -> None:
    tocsin("ingest", str(BAD / "broken.jsonl"))
    rows = dict((t, (p, raw, flag)) for t, p, raw, flag in db_rows(
        tmp_path, "SELECT title, published_at, published_raw, date_flag FROM documents"))
    assert rows["impossible date"] == (None, "2023-02-30T10:00:00Z", "unparseable")
    assert rows["far future"] == (None, "2091-01-01T00:00:00Z", "future")
    assert rows["good one"][0].startswith("2022-03-04 01:00:00")


def test_requarantining_the_same_input_records_it_once(tocsin: CLI, tmp_path: Path) -> None:
    tocsin("ingest", str(BAD / "broken.jsonl"))
    again = tocsin("ingest", str(BAD / "broken.jsonl"))
    assert again.exit_code == EXIT_REJECTED  # still said: the input is still bad
    assert "quarantined 3" in again.output
    assert db_rows(tmp_path, "SELECT count(*) FROM quarantine") == [(3,)]


def test_oversized_file_and_document_caps_come_from_settings(
        tocsin: CLI, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "big.txt").write_text("Дуже довгий текст. " * 200, encoding="utf-8")
    monkeypatch.setenv("TOCSIN_LIMITS__MAX_FILE_BYTES", "1000")
    result = tocsin("ingest", str(tmp_path / "big.txt"))
    assert result.exit_code == EXIT_REJECTED
    monkeypatch.setenv("TOCSIN_LIMITS__MAX_FILE_BYTES", "100000")
    monkeypatch.setenv("TOCSIN_LIMITS__MAX_DOCUMENT_CHARS", "500")
    lines = json.dumps({"source": "Desk", "text": "x " * 1000}) + "\n" + \
        json.dumps({"source": "Desk", "text": "A short one about grain exports."})
    result = tocsin("ingest", "-", input=lines)
    assert "new 1" in result.output and "quarantined 1" in result.output
    reasons = [r for (r,) in db_rows(tmp_path, "SELECT reason FROM quarantine ORDER BY id")]
    assert reasons == ["too-large", "too-large"]


def test_stdin_json_lines_with_errors_name_the_line(tocsin: CLI) -> None:
    data = '{"text": "Grain ships left Odesa.", "source": "S"}\n{oops\n'
    result = tocsin("ingest", "-", input=data)
    assert result.exit_code == EXIT_REJECTED
    listing = tocsin("quarantine", "--format", "jsonl")
    [row] = [json.loads(line) for line in listing.output.splitlines()]
    assert (row["origin"], row["line"], row["reason"]) == ("<stdin>", 2, "invalid-json")


def test_documents_filters_and_show(tocsin: CLI) -> None:
    tocsin("ingest", str(GOOD))
    listing = tocsin("documents", "--language", "uk", "--format", "jsonl")
    rows = [json.loads(line) for line in listing.output.splitlines()]
    assert len(rows) == 3 and {r["language"] for r in rows} == {"uk"}
    assert [r["published_at"][:10] for r in rows] == ["2024-11-21", "2023-03-09", "2022-10-12"]
    ranged = tocsin("documents", "--since", "2023-01-01", "--until", "2024-01-01",
                    "--format", "jsonl")
    assert sorted(json.loads(x)["published_at"][:10] for x in ranged.output.splitlines()) == [
        "2023-02-21", "2023-03-09", "2023-06-29"]
    by_source = tocsin("documents", "--source", "тестовая лента", "--format", "jsonl")
    assert len(by_source.output.splitlines()) == 2
    shown = tocsin("show", str(rows[0]["id"]), "--format", "jsonl")
    doc = json.loads(shown.output)
    assert doc["text"].startswith("Президент заявив") and doc["source"] == "Тестова агенція"
    assert [doc["text"][a:b] for a, b in doc["sentences"]] == [
        "Президент заявив, що удар по Дніпру завдали новою балістичною ракетою середньої "
        "дальності.", "Фахівці вивчають уламки."]
    table = tocsin("show", str(rows[0]["id"]))
    assert "Тестова агенція" in table.output and "uk" in table.output
    missing = tocsin("show", "999")
    assert missing.exit_code == 1 and "no document" in missing.output


def test_rich_markup_in_untrusted_text_is_printed_literally(tocsin: CLI) -> None:
    line = json.dumps({"source": "[red]Evil[/red] Desk", "title": "[bold]x[/bold] [link=http://e]",
                       "text": "Grain exports rose in May."})
    tocsin("ingest", "-", input=line)
    listing = tocsin("documents", "--wide")
    assert "[red]Evil[/red] Desk" in listing.output
    assert "[bold]x[/bold] [link=http://e]" in listing.output
    board = tocsin("board")
    assert "[red]Evil[/red] Desk" in board.output


def test_empty_store_board_and_bad_date_option(tocsin: CLI) -> None:
    board = tocsin("board")
    assert board.exit_code == 0 and "The store is empty" in board.output
    bad = tocsin("documents", "--since", "yesterday")
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_json_lines_archives_stream_past_the_file_cap(tocsin: CLI, tmp_path: Path,
                                                      monkeypatch) -> None:
    archive = tmp_path / "archive.jsonl"
    good = [json.dumps({"source": "Desk", "text": f"Grain report number {i} from Odesa."})
            for i in range(30)]
    long_line = json.dumps({"source": "Desk", "text": "x" * 500})
    with archive.open("wb") as out:
        out.write("\n".join(good[:10]).encode() + b"\n")
        out.write(b'{"source": "Desk", "text": "caf\xe9 in latin-1"}\n')  # line 11
        out.write(long_line.encode() + b"\n")  # line 12
        out.write("\n".join(good[10:]).encode() + b"\n")
    monkeypatch.setenv("TOCSIN_LIMITS__MAX_FILE_BYTES", "300")
    result = tocsin("ingest", str(archive))
    assert result.exit_code == EXIT_REJECTED
    assert "read 32, new 30" in result.output
    rows = db_rows(tmp_path, "SELECT line, reason FROM quarantine ORDER BY line")
    assert rows == [(11, "undecodable"), (12, "too-large")]


def test_values_the_database_refuses_cost_no_good_document(tocsin: CLI, tmp_path: Path) -> None:
    lines = [
        json.dumps({"source": "Desk", "text": "Grain exports rose in May."}),
        '{"source": "Desk", "text": "A lone surrogate in the address.", "url": "http://x/\\ud800"}',
        '{"source": "Desk", "text": "Odd metadata.", "id": "a\\u0000b", "score": NaN}',
        '{"source": "Desk", "title": "\\ud800"}',
        json.dumps({"source": "Desk", "text": "Talks resumed in Geneva."}),
    ]
    result = tocsin("ingest", "-", input="\n".join(lines))
    assert result.exit_code == EXIT_REJECTED and "new 4" in result.output
    rows = db_rows(tmp_path, "SELECT url, external_id, meta FROM documents ORDER BY id")
    assert rows[1][0] == "http://x/" and rows[2][1] == "ab" and json.loads(rows[2][2]) == {
        "score": None}
    # a title alone stands for the text; one that cleans away to nothing leaves it empty
    assert db_rows(tmp_path, "SELECT reason FROM quarantine") == [("empty",)]


def test_language_field_is_trusted_only_when_known(tocsin: CLI, tmp_path: Path) -> None:
    lines = [json.dumps({"source": "D", "language": "German", "text": "Les négociations ont "
                         "repris à Genève mardi."}),
             json.dumps({"source": "D", "language": "uk", "text": "Переговори відновилися."})]
    tocsin("ingest", "-", input="\n".join(lines))
    assert [r[0] for r in db_rows(tmp_path, "SELECT language FROM documents ORDER BY id")] == [
        "fr", "uk"]


def test_record_field_types_and_html_beside_empty_text(tocsin: CLI, tmp_path: Path) -> None:
    lines = ['{"source": "D", "text": true}',
             '{"source": "D", "text": "", "html": "<p>Les dirigeants se sont réunis à Bruxelles '
             'pour parler des sanctions.</p>"}',
             '\ufeff{"source": "D", "text": "BOM on the first line is fine."}']
    result = tocsin("ingest", "-", input="\n".join(lines[2:] + lines[:2]))
    assert "new 2" in result.output and "quarantined 1" in result.output
    [(message,)] = db_rows(tmp_path, "SELECT message FROM quarantine")
    assert "'text' must be a string, not bool" in message


def test_wordless_posts_in_a_real_mix_never_crash_ingest(tocsin: CLI, tmp_path: Path) -> None:
    """Telegram streams carry posts with no letters (a lone emoji, "!!!", a link
    placeholder): they are stored, join no story, and never stop the batch."""
    posts = ["🤔", "!!!", "⚡️⚡️⚡️", "Russia said its strategic forces held a drill today.",
             "🤔", "Russia said its strategic forces held a drill today!", "—", "1:0"]
    lines = [json.dumps({"source": f"Channel {n % 3}", "text": t}, ensure_ascii=False)
             for n, t in enumerate(posts)]
    for chunk in (lines[:1], lines):  # alone, then in a batch with worded posts
        result = tocsin("ingest", "-", input="\n".join(chunk) + "\n")
        assert result.exit_code == 0, result.output
    assert db_rows(tmp_path, "SELECT count(*) FROM documents") == [(8,)]
    wordless = db_rows(tmp_path, "SELECT count(*) FROM documents WHERE signature IS NULL "
                       "AND story_id IS NULL")
    assert wordless == [(5,)]  # "1:0" has words (digits): it may join a story
    assert db_rows(tmp_path, "SELECT count(*) FROM documents WHERE story_id IS NOT NULL") \
        == [(3,)]


def test_gzip_files_are_read_and_broken_ones_quarantined(tocsin: CLI, tmp_path: Path) -> None:
    import gzip

    records = [{"source": "Desk", "text": f"Report number {n} on arms control talks."}
               for n in range(3)]
    lines = "\n".join(json.dumps(r) for r in records).encode() + b"\n"
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(lines))
    (tmp_path / "b.json.gz").write_bytes(gzip.compress(json.dumps(
        {"source": "Desk", "text": "A single JSON document, compressed."}).encode()))
    # a stream cut short: the lines before the break are kept, the break is quarantined
    whole = gzip.compress(lines * 200)
    (tmp_path / "c.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "d.json.gz").write_bytes(b"not gzip at all")
    result = tocsin("ingest", *(str(tmp_path / n) for n in
                                ("a.jsonl.gz", "b.json.gz", "c.jsonl.gz", "d.json.gz")))
    assert result.exit_code == EXIT_REJECTED, result.output
    assert db_rows(tmp_path, "SELECT count(*) FROM documents") == [(4,)]
    rejected = db_rows(tmp_path, "SELECT origin, reason, message FROM quarantine ORDER BY id")
    assert [(Path(o).name.split(":")[0], r) for o, r, _ in rejected] == [
        ("c.jsonl.gz", "undecodable"), ("d.json.gz", "undecodable")]
    assert "broken gzip" in rejected[0][2] and "broken gzip" in rejected[1][2]


def test_titles_are_text_with_their_own_offsets(tocsin: CLI, tmp_path: Path) -> None:
    """A headline is scanned beside the body: evidence says which field its offsets point
    into; a title the body repeats is read once; a headline-only item is a document."""
    title = "**Medvedev** again threatens Europe with «nuclear» weapons"
    records = [
        {"source": "Wire", "title": title, "url": "https://example.org/a",
         "text": "The former president wrote a long post on his channel on Sunday."},
        {"source": "Wire", "title": "Shoigu orders a drill",
         "text": "Shoigu orders a drill\n\nThe ministry gave no further details today."},
        {"source": "Channel", "title": "Russia fired an ICBM at Dnipro, Ukraine's air force says"},
    ]
    result = tocsin("ingest", "-", input="\n".join(json.dumps(r, ensure_ascii=False)
                                                   for r in records) + "\n")
    assert result.exit_code == 0, result.output
    rows = db_rows(tmp_path, "SELECT d.id, e.field, e.start, e.\"end\", e.category, d.title, "
                   "d.text FROM evidence e JOIN documents d ON d.id = e.document_id "
                   "ORDER BY d.id, e.id")
    first = [r for r in rows if r[0] == 1]
    assert first and {r[1] for r in first} == {"title"}
    for _, field, start, end, _, stored_title, _ in first:
        assert field == "title" and stored_title[start:end] == title
    assert {r[4] for r in first} == {"rhetoric"}
    headline_only = [r for r in rows if r[0] == 3]
    assert "use" in {r[4] for r in headline_only} and headline_only[0][1] == "text"
    shown = json.loads(tocsin("show", "1", "-f", "jsonl").output)
    assert shown["evidence"][0]["field"] == "title"
    assert "[title]" in tocsin("show", "1").output
    # redetect finds the title's evidence again
    assert tocsin("redetect").exit_code == 0
    again = db_rows(tmp_path, "SELECT field, start, \"end\" FROM evidence WHERE document_id = 1")
    assert [tuple(r) for r in again] == [(r[1], r[2], r[3]) for r in first]


def test_hostile_json_is_quarantined_and_leaves_a_trace(tocsin: CLI, tmp_path: Path) -> None:
    """Nesting too deep for Python, integers too long for it, blank-only files and empty
    arrays: each is quarantined with its reason; good lines around them are kept."""
    lines = ["[" * 3000 + "]" * 3000,
             '{"source": "Desk", "text": "deep extra", "extra": ' + "[" * 700 + "]" * 700 + "}",
             '{"source": "Desk", "text": "long number", "n": ' + "9" * 5000 + "}",
             json.dumps({"source": "Desk", "text": "A good line after them."})]
    (tmp_path / "hostile.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    (tmp_path / "blank.jsonl").write_text("\n \n\n", "utf-8")
    (tmp_path / "empty.json").write_text("[]", "utf-8")
    (tmp_path / "deep.json").write_text("[" * 5000 + "]" * 5000, "utf-8")
    result = tocsin("ingest", *(str(tmp_path / n) for n in
                                ("hostile.jsonl", "blank.jsonl", "empty.json", "deep.json")))
    assert result.exit_code == EXIT_REJECTED, result.output
    texts = [t for (t,) in db_rows(tmp_path, "SELECT text FROM documents ORDER BY id")]
    assert texts == ["deep extra", "A good line after them."]
    reasons = sorted((Path(o).name.split(":")[0], r) for o, r in
                     db_rows(tmp_path, "SELECT origin, reason FROM quarantine"))
    assert reasons == [("blank.jsonl", "empty"), ("deep.json", "invalid-json"),
                       ("empty.json", "empty"), ("hostile.jsonl", "invalid-json"),
                       ("hostile.jsonl", "invalid-json")]


def test_odd_records_near_the_limits_never_stop_a_run(tocsin: CLI, tmp_path: Path) -> None:
    lines = ['{"title": 5, "x": ' + "[" * n + "]" * n + "}" for n in (960, 980, 993, 996)]
    lines.append(json.dumps({"source": "Desk", "text": "dated oddly", "published_at": "9" * 5000}))
    lines.append(json.dumps({"source": "Desk", "html": "", "title": "Headline only, as HTML"}))
    lines.append(json.dumps({"source": "Desk", "title": "⚡️ Putin threatens to use nuclear "
                             "weapons", "text": "Putin threatens to use nuclear weapons\n\n"
                             "He spoke on state television on Sunday."}))
    result = tocsin("ingest", "-", input="\n".join(lines) + "\n")
    assert result.exit_code == EXIT_REJECTED, result.output
    assert "read 7, new 3" in result.output
    # the title repeats the first line (but for its emoji): its evidence is found once
    fields = db_rows(tmp_path, "SELECT e.field FROM evidence e JOIN documents d "
                     "ON d.id = e.document_id WHERE d.text LIKE 'Putin threatens%'")
    assert fields and {f for (f,) in fields} == {"text"}
    assert db_rows(tmp_path, "SELECT text FROM documents WHERE text LIKE 'Headline%'") == [
        ("Headline only, as HTML",)]


def test_linked_folders_are_followed_once_and_a_cut_utf8_tail_is_kept(
        tocsin: CLI, tmp_path: Path) -> None:
    real = tmp_path / "real" / "sub"
    real.mkdir(parents=True)
    (real / "a.txt").write_text("Officials met in Geneva for talks on strategic stability.")
    top = tmp_path / "top"
    top.mkdir()
    (top / "link").symlink_to(tmp_path / "real")
    (real / "loop").symlink_to(top)  # a link back up the tree must not loop
    (top / "cut.txt").write_bytes("Talks resumed in Geneva today \u0416".encode()[:-1])
    result = tocsin("ingest", str(top))
    assert result.exit_code == 0, result.output
    rows = db_rows(tmp_path, "SELECT origin, text, meta FROM documents ORDER BY origin")
    assert [Path(o).name for o, _, _ in rows] == ["cut.txt", "a.txt"]
    assert rows[0][1].endswith("\ufffd") and json.loads(rows[0][2]) == {
        "encoding": "utf-8 (truncated)"}


def test_a_run_killed_midway_is_marked_interrupted_by_the_next(tocsin: CLI,
                                                                tmp_path: Path) -> None:
    import subprocess
    import sys

    assert tocsin("ingest", "-", input=json.dumps({"source": "D", "text": "one"})).exit_code == 0
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process id that no longer runs: the run it started was killed
    with sqlite3.connect(tmp_path / "data" / "tocsin.db") as conn:
        conn.execute("UPDATE ingest_runs SET status = 'running', pid = ? WHERE id = 1",
                     (gone.pid,))
    assert tocsin("ingest", "-", input=json.dumps({"source": "D", "text": "two"})).exit_code == 0
    runs = db_rows(tmp_path, "SELECT id, status, pid IS NOT NULL FROM ingest_runs ORDER BY id")
    assert runs == [(1, "interrupted", 1), (2, "done", 1)]
