"""Packs as tested data: `rules lint`, `rules test`, user packs, the compile cache."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from tests.conftest import CLI
from tocsin.indicators import CATEGORIES
from tocsin.indicators.compiler import compile_pack
from tocsin.indicators.detect import Detector
from tocsin.indicators.lint import ERROR, lint
from tocsin.indicators.matcher import Matcher
from tocsin.indicators.pack import load_pack
from tocsin.indicators.yamlfile import PackError
from tocsin.text.sentences import SentenceSplitter

MINI_PACK = {
    "pack.yaml": "id: mini\ntitle: Mini\nversion: '1'\nlanguages: [en, ru]\n",
    "languages/en.yaml": "language: en\nconcepts:\n  drill: [drill, drills]\n"
                         "  sub: [submarine]\ncues:\n  negation: [not, \"no\"]\n",
    "languages/ru.yaml": "language: ru\nconcepts:\n  drill: [учения]\n  sub: [подводная лодка]\n"
                         "cues:\n  negation: [не]\n",
    "indicators/subs.yaml": """indicators:
  - id: exercise.submarine-drill
    title: Submarine drill
    description: A drill with submarines.
    category: exercise
    severity: 2
    status: experimental
    match: {all: [drill, sub]}
    examples:
      match:
        - {lang: en, text: "The navy held drills with a submarine.", polarity: asserted}
        - {lang: ru, text: "Флот провёл учения с подводными лодками.", polarity: asserted}
      nomatch:
        - {lang: en, text: "The dentist bought a new drill."}
""",
}


def write_pack(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_builtin_pack_is_lint_clean_and_complete() -> None:
    pack = load_pack("nuclear")
    assert [i for i in lint(pack) if i.severity == ERROR] == []
    assert len(pack.indicators) >= 30
    assert {i.category for i in pack.indicators} == set(CATEGORIES)
    weapons = [e for e in pack.entities if e.type == "weapon"]
    assert len(weapons) >= 24
    for weapon in weapons:
        assert weapon.attrs["capability"] in ("nuclear-only", "dual-capable")
        assert all(weapon.names.get(lang) for lang in ("en", "fr", "ru", "uk")), weapon.id


def test_rules_commands_on_the_builtin_pack(tocsin: CLI) -> None:
    lint_result = tocsin("rules", "lint")
    assert lint_result.exit_code == 0, lint_result.output
    assert "0 errors" in lint_result.output
    test_result = tocsin("rules", "test")
    assert test_result.exit_code == 0, test_result.output
    assert ", 0 failed" in test_result.output


def test_a_user_pack_folder_works_without_code(tocsin: CLI, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "mini", MINI_PACK)
    assert tocsin("rules", "test", str(pack)).exit_code == 0
    (tmp_path / "doc.txt").write_text("Флот провёл учения с подводной лодкой в Баренцевом море.",
                                      encoding="utf-8")
    result = tocsin("analyze", "--pack", str(pack), str(tmp_path / "doc.txt"))
    assert '"indicator": "exercise.submarine-drill"' in result.output


def test_failing_example_is_reported_with_file_and_line(tocsin: CLI, tmp_path: Path) -> None:
    files = dict(MINI_PACK)
    files["indicators/subs.yaml"] = files["indicators/subs.yaml"].replace(
        "The dentist bought a new drill.", "A drill with a submarine at the dentist.")
    pack = write_pack(tmp_path / "mini", files)
    result = tocsin("rules", "test", str(pack))
    assert result.exit_code == 1
    assert "subs.yaml:14" in result.output and "matched" in result.output
    assert "2 passed, 1 failed" in result.output


def test_lint_names_file_line_and_problem(tocsin: CLI, tmp_path: Path) -> None:
    files = dict(MINI_PACK)
    files["indicators/subs.yaml"] = (files["indicators/subs.yaml"]
                                     .replace("category: exercise", "category: exercises")
                                     .replace("all: [drill, sub]", "all: [drill, subs]"))
    pack = write_pack(tmp_path / "mini", files)
    result = tocsin("rules", "lint", str(pack))
    assert result.exit_code == 1
    assert "subs.yaml:2: error:" in result.output
    assert "'exercises' is not one of" in result.output
    assert "unknown concept 'subs'" in result.output


def test_broken_yaml_is_an_error_with_file_and_line(tmp_path: Path, tocsin: CLI) -> None:
    files = dict(MINI_PACK)
    files["languages/en.yaml"] = "language: en\nconcepts:\n  drill: [drill\n"
    pack = write_pack(tmp_path / "mini", files)
    with pytest.raises(PackError, match=r"en\.yaml:\d+: invalid YAML"):
        load_pack(pack)
    result = tocsin("rules", "lint", str(pack))
    assert result.exit_code == 1 and "invalid YAML" in result.output
    assert tocsin("rules", "lint", str(tmp_path / "nowhere")).exit_code == 1


def test_unquoted_yes_no_terms_are_an_error_naming_the_file(tmp_path: Path) -> None:
    files = dict(MINI_PACK)
    files["languages/en.yaml"] = files["languages/en.yaml"].replace('\"no\"', "no")
    with pytest.raises(PackError, match=r"en\.yaml: .*quote yes/no"):
        load_pack(write_pack(tmp_path / "mini", files))


def test_compilation_is_cached_by_content(tmp_path: Path) -> None:
    pack_dir = write_pack(tmp_path / "mini", MINI_PACK)
    cache = tmp_path / "cache"
    first = compile_pack(load_pack(pack_dir), cache, gazetteer=[])
    [cached] = list(cache.glob("*.pickle"))
    again = compile_pack(load_pack(pack_dir), cache, gazetteer=[])
    assert again.digest == first.digest and again.pattern_count == first.pattern_count
    with cached.open("rb") as handle:
        assert pickle.load(handle)["digest"] == first.digest
    # a changed pack is a new cache entry, not a stale hit
    (pack_dir / "languages" / "en.yaml").write_text(
        MINI_PACK["languages/en.yaml"].replace("[drill, drills]", "[drill, drills, exercise]"))
    changed = compile_pack(load_pack(pack_dir), cache, gazetteer=[])
    assert changed.digest != first.digest and len(list(cache.glob("*.pickle"))) == 2
    # a corrupt cache file is rebuilt, not trusted
    cached.write_bytes(b"not a pickle")
    (pack_dir / "languages" / "en.yaml").write_text(MINI_PACK["languages/en.yaml"])
    assert compile_pack(load_pack(pack_dir), cache, gazetteer=[]).digest == first.digest


def test_a_detector_started_from_the_cache_finds_the_same(tmp_path: Path) -> None:
    pack_dir = write_pack(tmp_path / "mini", MINI_PACK)
    cache = tmp_path / "cache"
    fresh = Detector.load(pack_dir, cache)  # compiles and writes the cache
    warm = Detector.load(pack_dir, cache)  # reads it
    text = ("The navy held drills with a submarine. There was no drill with a submarine. "
            "Флот провёл учения с подводными лодками.")

    def found(detector: Detector) -> list[dict[str, object]]:
        sentences = detector.splitter.split(text, "en")
        return [e.as_dict() for e in detector.detect(text, "en", sentences).evidence]

    assert found(warm) == found(fresh)
    assert [e["polarity"] for e in found(warm)] == ["asserted", "denied"]
    # the pack's YAML is read when it is asked for (examples, `rules test`)
    assert warm.pack.id == "mini" and [i.id for i in warm.pack.indicators] == \
        ["exercise.submarine-drill"]
    # a cache file of another format under the same name is compiled again, not trusted
    [cached] = cache.glob("*.pickle")
    cached.write_bytes(pickle.dumps({"format": -1, "digest": fresh.compiled.digest}))
    assert found(Detector.load(pack_dir, cache)) == found(fresh)


def test_anchors_keep_generic_words_from_making_evidence(tmp_path: Path, tocsin: CLI) -> None:
    """With `anchors`, an indicator fires only in a sentence that holds one; a general
    sign gives way to a specific one; unknown names in pack.yaml are lint errors."""
    files = dict(MINI_PACK)
    files["pack.yaml"] += "anchors: [sub]\n"
    files["languages/en.yaml"] = files["languages/en.yaml"].replace(
        "  sub: [submarine]\n", "  sub: [submarine]\n  navy: [navy]\n")
    files["languages/ru.yaml"] = files["languages/ru.yaml"].replace(
        "  sub: [подводная лодка]\n", "  sub: [подводная лодка]\n  navy: [флот]\n")
    files["indicators/subs.yaml"] = files["indicators/subs.yaml"].replace(
        "    match: {all: [drill, sub]}", "    match: {any: [drill]}") + """
  - id: exercise.navy-spoken-of
    title: Navy spoken of
    description: The general sign.
    category: exercise
    severity: 1
    status: experimental
    general: true
    match: {any: [navy]}
    examples:
      match:
        - {lang: en, text: "The navy sent a submarine north.", polarity: asserted}
        - {lang: ru, text: "Флот отправил подводную лодку на север.", polarity: asserted}
      nomatch:
        - {lang: en, text: "The navy held drills with a submarine."}
"""
    pack = write_pack(tmp_path / "mini", files)
    assert tocsin("rules", "test", str(pack)).exit_code == 0
    # "drill" alone (no anchor) is no evidence any more
    loaded = load_pack(pack)
    compiled = compile_pack(loaded, None, gazetteer=[])
    detector = Detector(loaded, compiled, Matcher(compiled), SentenceSplitter())
    assert not detector.detect_sentence("The dentist bought a new drill.", "en").evidence
    bad = write_pack(tmp_path / "bad", {**files, "pack.yaml": files["pack.yaml"].replace(
        "anchors: [sub]", "anchors: [subs]")})
    result = tocsin("rules", "lint", str(bad))
    assert result.exit_code == 1 and "anchors: unknown concept 'subs'" in result.output

