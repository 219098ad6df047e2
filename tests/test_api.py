"""The public Python API: what the CLI and the web desk stand on, and its promises."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import tocsin
from tocsin.cli import app

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
TEXT = ("Russia moved nuclear warheads to Belarus, the defence minister said. "
        "Moscow denied any plan to test a nuclear weapon.")


def cli(data: Path, *args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--data-dir", str(data), *args], input=input,
                                catch_exceptions=False)
    return result.exit_code, result.output


def test_analyze_returns_what_one_line_of_analyze_jsonl_prints(tmp_path: Path,
                                                               pack_cache: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    monkeypatch.setenv("TOCSIN_CACHE_DIR", str(pack_cache))
    monkeypatch.setenv("TOCSIN_DATA_DIR", str(tmp_path))
    found = tocsin.analyze(TEXT, title="Warheads to Belarus")
    code, output = cli(tmp_path, "analyze", "-", input=json.dumps(
        {"text": TEXT, "title": "Warheads to Belarus"}))
    printed = json.loads(output.splitlines()[0])
    assert code == 0
    assert found.keys() == printed.keys()
    for key in found:
        if key != "origin":  # "<text>" here, "<stdin>:1" there
            assert found[key] == printed[key], key
    polarities = {(e["indicator"], e["polarity"]) for e in found["evidence"]}
    assert ("deployment.nuclear-weapons", "asserted") in polarities
    assert any(p == "denied" for _, p in polarities)


def test_analyze_refuses_a_text_that_is_no_document(pack_cache: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_CACHE_DIR", str(pack_cache))
    with pytest.raises(tocsin.InputError, match="empty"):
        tocsin.analyze("   ")


def test_the_package_names_its_api_and_imports_nothing_heavy() -> None:
    assert {"analyze", "open_store", "Tocsin", "NotFound", "TocsinError"} <= set(dir(tocsin))
    heavy = ("sqlalchemy", "matplotlib", "alembic", "httpx", "lingua", "trafilatura",
             "jsonschema", "pydantic_settings", "yaml", "pymorphy3")
    probe = ("import sys, tocsin.cli; "
             f"print([m for m in {heavy!r} if m in sys.modules])")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, env={**os.environ, "PYTHONPATH": ""}).stdout
    # `tocsin --version` and `--help` import the command line only: none of these
    assert loaded.strip() == "[]"


def test_unknown_ids_and_names_are_errors_not_empty_tables(demo_store: Path) -> None:
    with tocsin.open_store(data_dir=demo_store) as t:
        for call in (lambda: t.document(99999), lambda: t.alert(99999),
                     lambda: t.story(99999), lambda: t.source("no such desk"),
                     lambda: t.evidence(indicator="no.such"),
                     lambda: t.evidence(category="gossip"),
                     lambda: t.documents(source="no such desk"),
                     lambda: t.review(99999, False, by="x")):
            with pytest.raises(tocsin.NotFound):
                call()
    for args in (("documents", "--source", "no such desk"), ("show", "99999"),
                 ("evidence", "--indicator", "no.such"), ("alerts", "--watch", "nowhere"),
                 ("story", "99999"), ("search", "nuclear", "--source", "no such desk")):
        code, output = cli(demo_store, *args)
        assert code == 1 and "error:" in output, args


def test_a_false_review_re_alerts_at_once(demo_store: Path) -> None:
    with tocsin.open_store(data_dir=demo_store) as t:
        target = t.alerts(limit=1)[0]
        trail = t.alert(target["id"])["trail"]
        for piece in trail[:-1]:
            t.review(piece["evidence"], False, by="analyst", realert=False)
        last = t.review(trail[-1]["evidence"], False, by="analyst")
        assert last.since is not None and sum(last.counts.values()) >= 1
        # the alert rested on nothing but this evidence: it is withdrawn, history kept
        assert t.alert(target["id"])["state"] == "withdrawn"
        assert target["id"] not in {a["id"] for a in t.alerts()}


def test_a_grade_change_re_alerts_and_says_so(demo_store: Path) -> None:
    code, output = cli(demo_store, "sources", "grade", "Northgate Wire", "E", "--by", "desk")
    assert code == 0 and "grade E" in output and "alerting re-evaluated from" in output
    with tocsin.open_store(data_dir=demo_store) as t:
        again = t.realert()
        assert again.since is None  # nothing left owed


def test_date_options_are_inclusive_and_relative(demo_store: Path) -> None:
    with tocsin.open_store(data_dir=demo_store) as t:
        newest = t.documents(limit=1)[0][0]
    day = newest["published_at"].date().isoformat()
    code, output = cli(demo_store, "documents", "--since", day, "--until", day, "-f", "jsonl")
    ids = [json.loads(line)["id"] for line in output.splitlines()]
    assert code == 0 and newest["id"] in ids  # the whole of the --until day counts
    code, output = cli(demo_store, "documents", "--since", "1d", "-f", "jsonl")
    assert code == 0 and output == ""  # the demo ends in 2025: nothing in the last day
    code, output = cli(demo_store, "documents", "--since", "100000d", "--limit", "3",
                       "-f", "jsonl")
    assert len(output.splitlines()) == 3


def test_readme_python_example_runs_as_written(demo_store: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    block = re.search(r"## Python API.*?```python\n(.*?)```", README, re.S)
    assert block is not None
    monkeypatch.chdir(demo_store.parent)  # where `.demo-data` is, as after `make demo`
    exec(compile(block.group(1), "README.md", "exec"), {})  # noqa: S102
    printed = capsys.readouterr().out
    assert "('deployment.nuclear-weapons', 'asserted')" in printed
    assert "alerting re-evaluated from" in printed


def test_readme_shell_example_prints_the_story_shown(demo_store: Path) -> None:
    block = re.search(r"```sh\nexport TOCSIN_DATA_DIR=.*?\n```\n\n```\n(.*?)```", README,
                      re.S)
    assert block is not None, "the README's first example and its output"
    shown = block.group(1).splitlines()
    code, output = cli(demo_store, "story", "9")
    assert code == 0
    assert output.splitlines()[0] == shown[0]  # "story 9: 3 documents, origin ..."
    for line in shown[1:]:
        head = line.split("  ")[0].strip("└─│ ")
        assert head in output, head


def test_a_pack_is_loaded_once_per_content(tmp_path: Path, pack_cache: Path) -> None:
    import shutil

    from tocsin.api import detector_for, load
    from tocsin.indicators.pack import resolve_pack

    pack = tmp_path / "pack"
    shutil.copytree(resolve_pack("nuclear"), pack)
    settings = load(None, data_dir=tmp_path, cache_dir=pack_cache)
    first = detector_for(settings, str(pack))
    assert detector_for(settings, str(pack)) is first  # no reload per call
    with (pack / "pack.yaml").open("a", encoding="utf-8") as handle:
        handle.write("\n# edited\n")
    assert detector_for(settings, str(pack)) is not first  # an edited pack is read afresh
