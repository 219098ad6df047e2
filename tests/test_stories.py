"""Stories, attributions, echo chains, credibility."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import CLI
from tocsin.scoring.credibility import rate
from tocsin.stories.attribution import AttributionExtractor, SourceIndex
from tocsin.stories.chains import Member, resolve
from tocsin.stories.cluster import StoryIndex
from tocsin.stories.minhash import signature

REGISTRY = [
    {"id": "northgate-wire", "name": "Northgate Wire", "aliases": ["NGW"], "language": "en"},
    {"id": "agence-horizon", "name": "Agence Horizon", "aliases": ["Horizon"], "language": "fr"},
    {"id": "polyarnaya-zvezda", "name": "Агентство «Полярная звезда»",
     "aliases": ["Полярная звезда"], "language": "ru"},
    {"id": "svitanok", "name": "Агенція «Світанок»", "aliases": ["Світанок"], "language": "uk"},
    {"id": "meridian-ledger", "name": "The Meridian Ledger", "aliases": [], "language": "en"},
]


@pytest.fixture(scope="module")
def extractor() -> AttributionExtractor:
    return AttributionExtractor(SourceIndex(REGISTRY))


@pytest.mark.parametrize(("text", "language", "source", "speaker"), [
    ("The plant lost power again, according to Northgate Wire.", "en", "northgate-wire", None),
    ("Northgate Wire reported that the drills had ended.", "en", "northgate-wire", None),
    ("A US official told The Meridian Ledger that nothing had changed.", "en",
     "meridian-ledger", "A US official"),
    ("Citing NGW, the site said warheads had not moved.", "en", "northgate-wire", None),
    ("Moscou a suspendu sa participation, selon l'Agence Horizon.", "fr", "agence-horizon", None),
    ("La centrale a perdu son alimentation, rapporte Horizon.", "fr", "agence-horizon", None),
    ("По данным «Полярной звезды», пуск прошёл успешно.", "ru", "polyarnaya-zvezda", None),
    ("Как сообщает агентство «Полярная звезда», учения завершены.", "ru",
     "polyarnaya-zvezda", None),
    ("За даними агенції «Світанок», обстріл тривав дві години.", "uk", "svitanok", None),
    ("Обстріл тривав дві години, повідомляє «Світанок».", "uk", "svitanok", None),
])
def test_attribution_cues_per_language(extractor: AttributionExtractor, text: str,
                                       language: str, source: str, speaker: str | None) -> None:
    [found] = extractor.extract(text, language)
    assert found.source_id == source
    assert found.speaker == speaker
    assert text[found.start:found.end] == found.text


@pytest.mark.parametrize(("text", "language", "speaker"), [
    ("По словам Пескова, Россия никому не угрожает.", "ru", "Пескова"),
    ("За словами Пєскова, Росія нікому не погрожує.", "uk", "Пєскова"),
])
def test_people_are_speakers_not_sources(extractor: AttributionExtractor, text: str,
                                         language: str, speaker: str) -> None:
    [found] = extractor.extract(text, language)
    assert found.source is None and found.speaker == speaker


@pytest.mark.parametrize(("text", "language"), [
    ("According to plan, the drills ended on Friday.", "en"),
    ("По данным на 1 января, запасы составляли 100 тонн.", "ru"),
])
def test_look_alike_phrases_are_not_attributions(extractor: AttributionExtractor, text: str,
                                                 language: str) -> None:
    assert extractor.extract(text, language) == []


WORDS = ("drones struck the grid overnight and officials said repairs would take days while "
         "the ministry reported calm at the front and talks resumed in Geneva on grain").split()


@st.composite
def corpora(draw: st.DrawFn) -> list[tuple[int, datetime, str]]:
    base = [" ".join(draw(st.permutations(WORDS))) for _ in range(draw(st.integers(2, 4)))]
    docs = []
    for i in range(draw(st.integers(3, 12))):
        words = base[draw(st.integers(0, len(base) - 1))].split()
        cut = draw(st.integers(0, 6))
        text = " ".join(words[cut:] + words[:cut][: draw(st.integers(0, cut))])
        docs.append((i + 1, datetime(2024, 1, 1, tzinfo=UTC)
                     + timedelta(hours=draw(st.integers(0, 120))), text))
    return docs


@settings(max_examples=60, deadline=None)
@given(corpora(), st.randoms())
def test_incremental_clustering_equals_clustering_at_once(docs, random) -> None:
    signatures = {i: signature(text, "en") for i, _, text in docs}
    at_once = StoryIndex()
    for i, when, _ in docs:
        at_once.add(i, when, signatures[i])
    shuffled = list(docs)
    random.shuffle(shuffled)
    incremental = StoryIndex()
    for i, when, _ in shuffled:
        incremental.add(i, when, signatures[i])
    assert incremental.stories() == at_once.stories()


def test_preloaded_stories_are_kept_and_merged(tmp_path: Path) -> None:
    text = " ".join(WORDS)
    index = StoryIndex()
    when = datetime(2024, 1, 1, tzinfo=UTC)
    index.preload(5, when, signature(text, "en"), story_id=3)  # doc 3 is outside the window
    assert index.add(9, when + timedelta(hours=2), signature(text, "en")) == {3}
    assert index.find(9) == 3
    far = index.add(10, when + timedelta(days=30), signature(text, "en"))
    assert far == set() and index.find(10) == 10


def member(doc: int, source: str, hours: int, cites: str | None = None) -> Member:
    return Member(doc, source, source.title(), datetime(2024, 1, 1, tzinfo=UTC)
                  + timedelta(hours=hours), cites, cites.title() if cites else None)


def test_chain_small_site_to_aggregator_to_state_outlet_to_original() -> None:
    origin, chain = resolve([
        member(4, "small-site", 9, cites="aggregator"),
        member(3, "aggregator", 6, cites="state-outlet"),
        member(2, "state-outlet", 3, cites="politico-like"),
        member(1, "politico-like", 0),
    ])
    assert origin.source_id == "politico-like" and origin.document_id == 1
    assert {link["document"]: link["parent"] for link in chain} == {1: None, 2: 1, 3: 2, 4: 3}


def test_chains_with_loops_or_missing_links_end() -> None:
    origin, chain = resolve([member(1, "a", 0, cites="b"), member(2, "b", 1, cites="a")])
    assert origin.source_id in ("a", "b") and len(chain) == 2  # no hang on a -> b -> a
    origin, _ = resolve([member(7, "copy", 5, cites="wire"), member(8, "copy2", 6, cites="copy")])
    assert origin.source_id == "wire" and origin.document_id is None  # named, not stored


@pytest.mark.parametrize(("same", "against", "expected"), [
    ({"s:a": "B", "s:b": "C", "s:c": "E"}, {}, 1),
    ({"s:a": "C", "s:b": "E"}, {}, 2),
    ({"s:a": "E", "s:b": "D"}, {}, 3),
    ({"s:a": "C"}, {}, 3),
    ({"s:a": "D"}, {}, 4),
    ({"s:a": "E"}, {"s:b": "A", "s:c": "B"}, 5),
    ({"s:a": "F"}, {}, 6),
])
def test_credibility_rule(same: dict, against: dict, expected: int) -> None:
    assert rate(same, against) == expected


def test_demo_echo_chains_collapse_to_their_origin(tocsin: CLI, tmp_path: Path) -> None:
    assert tocsin("demo").exit_code == 0
    listing = [json.loads(x) for x in tocsin("stories", "-f", "jsonl").output.splitlines()]
    chains = [s for s in listing if s["size"] >= 3]
    assert len(chains) >= 3
    for story in chains:
        roots = [link for link in story["chain"] if link["parent"] is None]
        assert [r["source"] for r in roots] == [story["origin_name"]]
    languages = {lang for s in chains for lang in s["languages"]}
    assert {"en", "ru", "uk"} <= languages
    tree = tocsin("story", str(chains[0]["id"]))
    assert "origin:" in tree.output and chains[0]["origin_name"] in tree.output
    with sqlite3.connect(tmp_path / "data" / "tocsin.db") as conn:
        documents, stories = conn.execute(
            "SELECT count(*), count(DISTINCT story_id) FROM documents").fetchone()
    assert stories < documents
    board = tocsin("board")
    assert "independent origins" in board.output


def test_documents_left_without_a_story_are_clustered_later(tocsin: CLI, tmp_path: Path) -> None:
    text = ("Air defence units shot down 34 of 40 drones overnight over the Kyiv region, "
            "the air force said on Tuesday, and debris damaged two houses.")
    first = [json.dumps({"source": s, "text": text + extra, "published_at": "2024-10-29T09:00:00Z"})
             for s, extra in (("Desk A", ""), ("Desk B", " Share this story."))]
    tocsin("ingest", "-", input="\n".join(first))
    db = tmp_path / "data" / "tocsin.db"
    with sqlite3.connect(db) as conn:  # as if a run had stopped before clustering
        conn.execute("UPDATE documents SET story_id = NULL")
        conn.execute("DELETE FROM stories")
    other = json.dumps({"source": "Desk C", "text": "Grain exports rose in October.",
                        "published_at": "2024-10-30T09:00:00Z"})
    tocsin("ingest", "-", input=other)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT story_id FROM documents ORDER BY id").fetchall()
    assert rows[0] == rows[1] == (1,) and rows[2] == (3,)


def test_markup_in_untrusted_fields_is_printed_not_parsed(tocsin: CLI) -> None:
    text = "Air defence shot down 34 of 40 drones overnight over Kyiv, the air force said."
    lines = [json.dumps({"source": s, "language": lang, "text": text})
             for s, lang in (("[/", "[/"), ("]a", "]a"))]
    tocsin("ingest", "-", input="\n".join(lines))
    tocsin("sources", "add", "Odd", "--kind", "[/bad]")
    for command in (("stories",), ("board",), ("sources", "list")):
        assert tocsin(*command).exit_code == 0, command


def _stream(n: int) -> str:
    """A stream of reports, one every six hours, where every third one rewrites the one
    before it (a story), in time order."""
    import random

    rng = random.Random(3)
    words = [f"{stem}{end}" for stem in ("drone", "strike", "unit", "border", "grid", "port",
                                         "convoy", "radar", "depot", "bridge")
             for end in ("s", "ed", "er", "ing", "al", "ly", "ism", "ist", "ion", "ous")]
    lines, text = [], ""
    for i in range(n):
        if i % 3 == 0:
            text = " ".join(rng.choice(words) for _ in range(40)) + "."
        else:
            text += f" Updated {i}."
        when = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=6 * i)
        lines.append(json.dumps({"source": f"Desk {i % 4}", "text": text,
                                 "published_at": when.isoformat()}))
    return "\n".join(lines) + "\n"


def test_a_long_stream_keeps_its_stories_with_a_small_index(
        tmp_path: Path, text_stage, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's story index is loaded afresh when it outgrows what batches need: the
    stories come out as when it keeps every document."""
    import io

    from tocsin.config import Limits
    from tocsin.pipeline import Inputs, ingest
    from tocsin.store.db import open_store
    from tocsin.stories import stage as stage_module
    from tocsin.stories.stage import StoriesStage

    def stories_of(name: str) -> list[list[int]]:
        store = open_store(f"sqlite:///{tmp_path / name}")
        stories = StoriesStage.for_store(store, ("en",))
        ingest(Inputs(["-"], stdin=io.StringIO(_stream(300))), store, text_stage, Limits(),
               batch_size=20, stories=stories)
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT id, story_id FROM documents").all()
        store.close()
        groups: dict[int, list[int]] = {}
        for doc_id, story_id in rows:
            groups.setdefault(story_id, []).append(doc_id)
        return sorted(sorted(g) for g in groups.values())

    whole = stories_of("whole.db")
    monkeypatch.setattr(stage_module, "INDEX_DOCUMENTS", 30)
    assert stories_of("small.db") == whole
    assert len(whole) == 100 and all(len(g) == 3 for g in whole)
