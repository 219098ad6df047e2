"""Several `tocsin ingest` processes on one store give what one process gives.

The demo corpus is dealt round-robin into 1, 2 and 4 shards, each ingested by its own
process at the same time (small batches, so their writes interleave). Whatever the
number of processes, the store must end with the same documents, stories (as
partitions of documents), evidence and open alerts, and every alert is announced once.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(str(resources.files("tocsin.demo").joinpath("corpus")))
REGISTRY = Path(str(resources.files("tocsin.demo").joinpath("sources.yaml")))


def _shards(folder: Path, n: int) -> list[Path]:
    lines = [line for path in sorted(CORPUS.glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    paths = []
    for k in range(n):
        path = folder / f"shard-{k}.jsonl"
        path.write_text("\n".join(lines[k::n]) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _env(data: Path, pack_cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update(TOCSIN_DATA_DIR=str(data), TOCSIN_CACHE_DIR=str(pack_cache),
               TOCSIN_BATCH_SIZE="16", TOCSIN_CONFIG=str(data / "tocsin.toml"))
    return env


def _tocsin(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tocsin", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _run(data: Path, shards: list[Path], pack_cache: Path) -> dict[str, Any]:
    data.mkdir()
    (data / "tocsin.toml").write_text(
        f'[[tocsin.channels]]\nkind = "jsonl"\npath = "{data / "sent.jsonl"}"\n',
        encoding="utf-8")
    env = _env(data, pack_cache)
    load = _tocsin("sources", "load", str(REGISTRY), env=env)
    assert load.wait(120) == 0, load.communicate()
    procs = [_tocsin("ingest", str(shard), env=env) for shard in shards]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err
    state = _state(data)
    # then alerting over the whole store, as `tocsin realert --from` does after a change
    settle = _tocsin("realert", "--from", "2021-01-01", env=env)
    assert settle.wait(300) == 0, settle.communicate()
    state["settled"] = _state(data)["alerts"]
    return state


def _state(data: Path) -> dict[str, Any]:
    with sqlite3.connect(data / "tocsin.db") as db:
        key = dict(db.execute("SELECT id, doc_hash FROM documents"))
        stories: dict[Any, set[str]] = {}
        for doc, story in db.execute("SELECT id, story_id FROM documents"):
            stories.setdefault(story if story is not None else f"alone-{doc}",
                               set()).add(key[doc])
        sizes = {row[0]: row[1] for row in db.execute("SELECT id, size FROM stories")}
        for story, members in stories.items():
            if isinstance(story, int):  # each story row says how many it holds
                assert sizes.get(story) == len(members), (story, sizes.get(story), members)
        assert len(sizes) == sum(isinstance(s, int) for s in stories)
        evidence = Counter((key[d], ind, field, start) for d, ind, field, start in db.execute(
            "SELECT document_id, indicator, field, start FROM evidence"))
        trail: dict[int, frozenset[tuple[str, str, int]]] = {}
        for alert, doc, ind, start in db.execute(
                "SELECT alert_id, document_id, indicator, start FROM alert_evidence"):
            trail[alert] = trail.get(alert, frozenset()) | {(key[doc], ind, start)}
        alerts = Counter(
            (watch, first, last, level, cats, trail.get(alert, frozenset()))
            for alert, watch, first, last, level, cats in db.execute(
                "SELECT id, watch, first_at, last_at, level, categories FROM alerts "
                "WHERE state != 'withdrawn'"))
        open_ids = {row[0] for row in db.execute(
            "SELECT id FROM alerts WHERE state != 'withdrawn'")}
    sent = [json.loads(line) for line in
            (data / "sent.jsonl").read_text(encoding="utf-8").splitlines()]
    return {"documents": set(key.values()),
            "stories": {frozenset(m) for m in stories.values()},
            "evidence": evidence, "alerts": alerts, "open": open_ids, "sent": sent}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory,
         pack_cache: Path) -> dict[int, dict[str, Any]]:
    out = {}
    for n in (1, 2, 4):
        folder = tmp_path_factory.mktemp(f"procs{n}")
        out[n] = _run(folder / "data", _shards(folder, n), pack_cache)
    return out


@pytest.mark.parametrize("n", [2, 4])
def test_concurrent_ingests_store_what_one_process_stores(
        runs: dict[int, dict[str, Any]], n: int) -> None:
    one, many = runs[1], runs[n]
    assert len(one["documents"]) == 320
    assert many["documents"] == one["documents"]
    multi = {s for s in one["stories"] if len(s) > 1}
    assert len(multi) > 10  # the corpus has echo chains worth grouping
    assert many["stories"] == one["stories"]
    assert many["evidence"] == one["evidence"]
    assert len(one["alerts"]) > 5
    assert one["settled"] == one["alerts"]  # a full re-evaluation changes nothing
    assert many["settled"] == one["alerts"]


@pytest.mark.xfail(strict=False, reason="known race (notes of 2026-12-08): with 4 "
                   "processes, about one run in five leaves one development's alert "
                   "built from partial data until a full realert")
@pytest.mark.parametrize("n", [2, 4])
def test_concurrent_ingests_alert_as_one_process_without_a_realert(
        runs: dict[int, dict[str, Any]], n: int) -> None:
    assert runs[n]["alerts"] == runs[1]["alerts"]


@pytest.mark.parametrize("n", [1, 2, 4])
def test_every_alert_is_announced_once(runs: dict[int, dict[str, Any]], n: int) -> None:
    sent = runs[n]["sent"]
    raised = Counter(p["id"] for p in sent if p["event"] == "raised")
    assert all(count == 1 for count in raised.values()), raised
    assert runs[n]["open"] <= set(raised)  # every alert standing was announced
    # no notification repeats another word for word (the same change sent twice)
    keys = Counter(json.dumps(p, sort_keys=True) for p in sent)
    assert all(count == 1 for count in keys.values())
