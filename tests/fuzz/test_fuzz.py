"""Fuzzing ingest: 2,000+ hostile inputs in one folder through the CLI, and Hypothesis
records and files through the library.

The promise under test (README "Quarantine reasons"): bad input is quarantined with its
reason, never silently dropped, and never costs a good document. ``pytest -s`` prints
the tally by quarantine reason.
"""

from __future__ import annotations

import itertools
import random
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import Result

from tests.conftest import CLI
from tests.fuzz.audit import REASONS, Audit, as_stored, audit, rows
from tests.fuzz.corpus import REGRESSIONS, Manifest, write_corpus, write_regression_inputs
from tests.fuzz.strategies import files, json_lines
from tests.fuzz.texts import SENTENCES, Ctx, rss
from tocsin.cli import EXIT_REJECTED
from tocsin.config import Limits
from tocsin.indicators.detect import Detector
from tocsin.model import IngestReport, RawItem
from tocsin.pipeline import Inputs, ingest
from tocsin.sources.feeds import read_feed
from tocsin.store.db import Store, open_store
from tocsin.stories.stage import StoriesStage
from tocsin.text.prepare import TextStage

# Small caps, so that "just over the limit" inputs stay small and the suite fast.
MAX_FILE_BYTES, MAX_DOCUMENT_CHARS = 65_536, 20_000
LIMITS_ENV = {"TOCSIN_LIMITS__MAX_FILE_BYTES": str(MAX_FILE_BYTES),
              "TOCSIN_LIMITS__MAX_DOCUMENT_CHARS": str(MAX_DOCUMENT_CHARS)}
RUNS = "SELECT read, new, known, quarantined, status FROM ingest_runs ORDER BY id"


@pytest.fixture
def limited(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in LIMITS_ENV.items():
        monkeypatch.setenv(name, value)


def tally(found: Audit, result: Result) -> str:
    """The tally by quarantine reason, and what the run said about itself."""
    reasons = ", ".join(f"{reason} {n:,}" for reason, n in found.reasons.most_common())
    said = [line for line in result.output.splitlines() if line.startswith("ingest #")]
    return f"\nquarantine by reason: {reasons}\n{' '.join(said)}"


def assert_no_traceback(result: Result, note: str = "") -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{result.exception!r}{note}")
    assert result.exit_code in (0, EXIT_REJECTED), result.output + note


def assert_nothing_lost(manifest: Manifest, found: Audit, note: str) -> None:
    lost = found.lost(manifest)
    where = [(s, e, found.quarantined.get(as_stored(str(manifest.root / e.path))))
             for s, e in lost[:20]]
    assert not lost, (f"{len(lost)} good documents lost: " + "; ".join(
        f"{s} from {e.path!r} ({e.family}/{e.variant}, quarantined: {q})"
        for s, e, q in where) + note)


def controls_in(texts: list[str]) -> list[str]:
    """Texts that still hold control, format or surrogate characters (normalisation drops
    them, but for newline, tab and the zero-width joiners)."""
    return [t[:80] for t in texts if any(
        unicodedata.category(c) in ("Cc", "Cf", "Cs") and c not in "\n\t\u200c\u200d"
        for c in t)]


def test_a_folder_of_hostile_inputs_costs_no_good_document(
        tocsin: CLI, tmp_path: Path, limited: None) -> None:
    manifest = write_corpus(tmp_path / "corpus", seed=0)
    assert len(manifest.of_kind("bad")) >= 2000 and len(manifest.of_kind("good")) >= 400
    assert len(manifest.families()) >= 15, manifest.families()
    db = tmp_path / "data" / "tocsin.db"

    first = tocsin("ingest", str(manifest.root))
    found = audit(manifest, db)
    note = tally(found, first)
    print(note, f"\nskipped names: {manifest.skipped}" if manifest.skipped else "")
    assert_no_traceback(first, note)
    assert_nothing_lost(manifest, found, note)
    assert not found.strays, f"origins naming no input: {found.strays[:10]}{note}"
    # a good input yields exactly its documents (a twin's may be "already known")
    wrong = [(e.path, found.documents[p], e.expected) for p, e in found.paths.items()
             if e.kind == "good" and not e.twin and found.documents[p] != e.expected]
    assert not wrong, f"documents per good file (path, stored, expected): {wrong[:10]}{note}"
    # every input is accounted for: stored, quarantined, or already known (a twin)
    silent = found.silent()
    assert all(e.twin for e in silent), (
        "inputs with no trace: " + ", ".join(f"{e.path!r} ({e.family}/{e.variant})"
                                              for e in silent if not e.twin) + note)
    [(read, new, known, quarantined, status)] = rows(db, RUNS)
    assert status == "done"
    assert known == len(silent), note  # each twin once, nothing else was a duplicate
    assert read == new + known + quarantined
    assert rows(db, "SELECT count(*) FROM documents") == [(new,)]
    assert sum(found.reasons.values()) == quarantined, note
    assert set(found.reasons) <= REASONS, note
    assert rows(db, "SELECT count(*) FROM quarantine WHERE trim(message) = ''") == [(0,)]
    # what reaches a terminal is clean: no escape sequences, bidi overrides or NULs
    stored = [t for row in rows(db, "SELECT text, coalesce(title, ''), coalesce(url, '') "
                                    "FROM documents") for t in row]
    stored += [name for (name,) in rows(db, "SELECT name FROM sources")]
    assert not controls_in(stored), controls_in(stored)[:10]

    second = tocsin("ingest", str(manifest.root))
    assert_no_traceback(second, note)
    assert second.exit_code == first.exit_code
    runs = rows(db, RUNS)
    assert runs[1] == (read, 0, new + known, quarantined, "done"), runs
    assert rows(db, "SELECT count(*) FROM documents") == [(new,)]
    # the same bad input met again is recorded once
    assert rows(db, "SELECT count(*) FROM quarantine") == [(quarantined,)]


def test_bad_inputs_first_still_keep_every_good_document(
        tocsin: CLI, tmp_path: Path, limited: None) -> None:
    """Batches made of bad inputs only, then good ones: order changes nothing."""
    manifest = write_corpus(tmp_path / "corpus", seed=1, bad=1200, good=300,
                            order="bad-first")
    names = sorted(e.path for e in manifest.entries)
    kinds = [next(e.kind for e in manifest.entries if e.path == n) for n in names[:1000]]
    assert set(kinds) == {"bad"}  # the walk meets a thousand bad inputs first
    result = tocsin("ingest", str(manifest.root))
    found = audit(manifest, tmp_path / "data" / "tocsin.db")
    note = tally(found, result)
    assert_no_traceback(result, note)
    assert_nothing_lost(manifest, found, note)
    assert all(e.twin for e in found.silent()), note


@pytest.mark.parametrize("bug", sorted(REGRESSIONS))
def test_inputs_that_once_broke_ingest_are_kept(bug: str, tocsin: CLI, tmp_path: Path,
                                                limited: None) -> None:
    """Each of REGRESSIONS alone: no traceback, no good document lost."""
    manifest = write_regression_inputs(tmp_path / "corpus", bug)
    result = tocsin("ingest", str(manifest.root))
    found = audit(manifest, tmp_path / "data" / "tocsin.db")
    assert_no_traceback(result)
    assert_nothing_lost(manifest, found, "")


def test_a_feed_cut_inside_a_character_keeps_its_alphabet() -> None:
    sentence = SENTENCES["ru"][0]
    ctx = Ctx(random.Random(0))
    data = rss(ctx, [("Пуск назвали плановым", sentence, ""),
                     ("Вторая новость", sentence + " " + SENTENCES["ru"][1], "")]).encode()
    cut = data[: data.rindex("новость".encode()) + 1]  # inside the "н" of the last title
    items = [i for i in read_feed(cut, "cut.xml", "") if isinstance(i, RawItem)]
    assert items and sentence in (items[0].html or "")


def test_a_file_name_cannot_drive_the_terminal(tocsin: CLI) -> None:
    # a short folder path: the table cuts a long origin before the name's escape
    folder = Path(tempfile.mkdtemp(prefix="t"))
    try:
        (folder / "\x1b]0;pwned\x07\x1b[2Jnote.txt").write_text("Talks resumed in Geneva.")
        assert tocsin("ingest", str(folder)).exit_code == 0
        shown = tocsin("show", "1")
    finally:
        shutil.rmtree(folder)
    assert "note.txt" in shown.output
    assert "\x1b" not in shown.output and "\x07" not in shown.output


# -- Hypothesis: the library, one store for all examples ------------------------------------
@dataclass
class Library:
    """The ingest stages as the CLI wires them, on one store for all examples."""

    store: Store
    folder: Path
    text_stage: TextStage
    detector: Detector
    stories: StoriesStage

    def ingest(self, path: Path) -> IngestReport:
        return ingest(Inputs([str(path)]), self.store, self.text_stage, LIMITS,
                      detector=self.detector, stories=self.stories)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, text_stage: TextStage,
            detector: Detector) -> Iterator[Library]:
    folder = tmp_path_factory.mktemp("fuzz-library")
    store = open_store(f"sqlite:///{folder / 'tocsin.db'}")
    yield Library(store, folder, text_stage, detector,
                  StoriesStage.for_store(store, ("en", "fr", "ru", "uk")))
    store.close()


_names = itertools.count()
LIMITS = Limits(max_file_bytes=MAX_FILE_BYTES, max_document_chars=MAX_DOCUMENT_CHARS)
FUZZ = settings(max_examples=50, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _blank(line: bytes, first: bool) -> bool:
    """Whether the reader skips the line (a blank line yields nothing)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not (text.removeprefix("\ufeff") if first else text).strip()


@FUZZ
@given(lines=st.lists(json_lines, min_size=1, max_size=8))
def test_every_json_line_is_stored_known_or_quarantined(lines: list[bytes],
                                                        library: Library) -> None:
    path = library.folder / f"records-{next(_names)}.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = library.ingest(path)
    db = library.folder / "tocsin.db"
    numbers = [n for n, line in enumerate(lines, 1) if not _blank(line, n == 1)]
    stored = {int(o.rsplit(":", 1)[1]) for (o,) in rows(
        db, f"SELECT origin FROM documents WHERE run_id = {report.run_id}")}
    # a record the database refuses is quarantined under its document's origin, path:line
    quarantined = {line or (int(origin.rpartition(":")[2]) if origin != str(path) else 0): reason
                   for origin, line, reason in rows(
                       db, f"SELECT origin, line, reason FROM quarantine "
                           f"WHERE run_id = {report.run_id}")}
    assert set(quarantined.values()) <= REASONS
    if not numbers:  # only blank lines: one trace of the file
        assert list(quarantined.values()) == ["empty"] and report.read == 1
        return
    unaccounted = [n for n in numbers if n not in stored and n not in quarantined]
    assert len(unaccounted) == report.known, (unaccounted, report)
    assert report.read == len(numbers)
    assert report.new + report.known + report.quarantined == report.read
    assert rows(db, f"SELECT status FROM ingest_runs WHERE id = {report.run_id}") == [("done",)]


@FUZZ
@given(file=files)
def test_any_file_leaves_a_trace(file: tuple[str, bytes], library: Library) -> None:
    suffix, data = file
    path = library.folder / f"file-{next(_names)}{suffix}"
    path.write_bytes(data)
    report = library.ingest(path)
    db = library.folder / "tocsin.db"
    origins = [o for (o,) in rows(db, "SELECT origin FROM documents WHERE run_id = "
                                      f"{report.run_id} UNION ALL SELECT origin FROM "
                                      f"quarantine WHERE run_id = {report.run_id}")]
    name = str(path)
    assert all(o == name or (o.startswith(name) and o[len(name)] in ":[#") for o in origins)
    assert origins or report.known, report
    assert report.new + report.known + report.quarantined == report.read >= 1
