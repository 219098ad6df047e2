"""The source registry: load, add, grade (audited), find by Cyrillic alias."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CLI

DEMO_REGISTRY = Path(__file__).parent.parent / "src" / "tocsin" / "demo" / "sources.yaml"


def test_load_grade_and_audit(tocsin: CLI) -> None:
    assert tocsin("sources", "load", str(DEMO_REGISTRY)).exit_code == 0
    graded = tocsin("sources", "grade", "сводка 24", "d", "--note", "copies unchecked",
                    "--by", "analyst1")
    assert graded.exit_code == 0 and "svodka-24: grade D" in graded.output
    shown = tocsin("sources", "show", "Сводка-24")
    assert "D (not usually reliable)" in shown.output
    assert "analyst1: E -> D copies unchecked" in shown.output
    rows = [json.loads(x) for x in tocsin("sources", "list", "-f", "jsonl").output.splitlines()]
    assert len(rows) == 16 and {r["id"]: r["grade"] for r in rows}["svodka-24"] == "D"


def test_grades_persist_and_bad_grades_are_refused(tocsin: CLI) -> None:
    tocsin("sources", "add", "Test Radio", "--kind", "broadcaster", "--alias", "TR",
           "--grade", "c")
    assert "C (fairly reliable)" in tocsin("sources", "show", "TR").output
    bad = tocsin("sources", "grade", "TR", "G")
    assert bad.exit_code == 1 and "not one of A-F" in bad.output
    assert tocsin("sources", "grade", "nobody", "A").exit_code == 1
    again = tocsin("sources", "add", "test radio")
    assert again.exit_code == 1 and "already exists" in again.output


def test_registry_file_errors_name_the_entry(tocsin: CLI, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - name: X\n    grade: B\n    colour: red\n", encoding="utf-8")
    result = tocsin("sources", "load", str(bad))
    assert result.exit_code == 1 and "sources[0] (X): unknown field(s) ['colour']" in result.output


def test_demo_keeps_grades_and_partial_records_keep_other_fields(tocsin: CLI,
                                                                 tmp_path: Path) -> None:
    tocsin("sources", "load", str(DEMO_REGISTRY))
    tocsin("sources", "grade", "Northgate Wire", "A", "--by", "analyst1")
    tocsin("demo")
    assert "A (completely reliable)" in tocsin("sources", "show", "Northgate Wire").output
    partial = tmp_path / "partial.yaml"
    partial.write_text("sources:\n  - name: Northgate Wire\n    kind: wire\n", encoding="utf-8")
    assert tocsin("sources", "load", str(partial)).exit_code == 0
    shown = tocsin("sources", "show", "NGW").output  # the alias survived
    assert "A (completely reliable)" in shown and "wire" in shown and "GB" in shown


def test_registry_types_are_checked(tocsin: CLI, tmp_path: Path) -> None:
    for body, problem in (("aliases: SW", "aliases must be a list"),
                          ("state_affiliated: 'yes'", "state_affiliated must be true"),
                          ("country: NO", "country must be a quoted string")):
        bad = tmp_path / "bad.yaml"
        bad.write_text(f"sources:\n  - name: Solo Wire\n    {body}\n", encoding="utf-8")
        result = tocsin("sources", "load", str(bad))
        assert result.exit_code == 1 and problem in result.output, body


def test_terminal_escapes_in_source_names_never_reach_a_terminal(tocsin: CLI) -> None:
    """ESC[2J, OSC 8 hyperlinks and OSC 0 titles in a name or alias are dropped whole."""
    name = "Evil\x1b[2J\x1b]8;;http://x\x1b\\Desk\x1b]8;;\x1b\\"
    assert tocsin("sources", "add", name, "--alias", "a\x1b]0;title\x07b").exit_code == 0
    for output in (tocsin("sources", "list").output, tocsin("sources", "show", "EvilDesk").output,
                   tocsin("sources", "list", "-f", "jsonl").output):
        assert "\x1b" not in output and "\x07" not in output
        assert "EvilDesk" in output
