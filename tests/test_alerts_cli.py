"""Alerts through the command line, against a real SQLite store.

Ingesting the demo corpus takes seconds, so it is done once per module: at once (with a
JSONL file and an unreachable webhook as channels, so that the same run tests delivery)
and in three time-ordered chunks. Tests that change a store work on a copy of it.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import feedparser
import pytest
import sqlalchemy as sa
import yaml
from defusedxml.ElementTree import fromstring as safe_fromstring
from typer.testing import CliRunner, Result

from tests.conftest import CLI
from tocsin.alerts.backtest import replay
from tocsin.alerts.store import (
    alert_live,
    evidence_of,
    list_alerts,
    owe,
    owed,
    review,
    review_counts,
)
from tocsin.cli import app
from tocsin.indicators.pack import load_pack
from tocsin.scoring.watch import level_rank, load_watches
from tocsin.store.db import open_store
from tocsin.store.queries import alert_trail
from tocsin.store.schema import alert_events, alerts

DEMO = Path(str(resources.files("tocsin.demo")))
LEVELS = ("watch", "warning", "critical")
FROM, TO = "2023-01-01", "2024-01-01"  # quiet days at both ends in the demo


@dataclass
class Store:
    """A data dir and the CLI bound to it."""

    path: Path
    run: CLI
    ingests: list[Result] = field(default_factory=list)  # what building it printed
    counts: list[int] = field(default_factory=list)  # stored alerts after each ingest

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path / 'tocsin.db'}"


def bind(path: Path) -> CLI:
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, ["--data-dir", str(path), *args], input=input,
                             catch_exceptions=False)

    return run


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in ok(result).stdout.splitlines() if line.strip()]


def flat(text: str) -> str:
    """Rich wraps long lines: compare with whitespace collapsed."""
    return " ".join(text.split())


def corpus() -> list[dict[str, Any]]:
    docs = [json.loads(line) for path in sorted((DEMO / "corpus").glob("*.jsonl"))
            for line in path.read_text("utf-8").splitlines()]
    return sorted(docs, key=lambda d: (datetime.fromisoformat(d["published_at"]), d["id"]))


def labels() -> dict[str, dict[str, Any]]:
    return {row["id"]: row for path in sorted((DEMO / "labels").glob("*.jsonl"))
            for row in map(json.loads, path.read_text("utf-8").splitlines())}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def env(pack_cache: Path) -> Iterator[None]:
    """What conftest's `tocsin` fixture does, for module-scoped stores."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("TOCSIN_DB", "TOCSIN_DATA_DIR", "TOCSIN_CONFIG", "TOCSIN_PACK",
                     "TOCSIN_CHANNELS", "TOCSIN_WATCH", "HTTP_PROXY", "HTTPS_PROXY",
                     "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            patch.delenv(name, raising=False)
        patch.setenv("TOCSIN_CACHE_DIR", str(pack_cache))
        patch.setenv("TOCSIN_FETCH_ALLOW_PRIVATE", "1")  # the webhook is on loopback
        yield


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, env: None) -> Store:
    """The demo registry and corpus ingested in one run, as `tocsin demo` does, with
    two channels: a JSONL file and a webhook on a closed loopback port."""
    root = tmp_path_factory.mktemp("demo")
    data = root / "data"
    data.mkdir()
    (data / "tocsin.toml").write_text(f"""
[[tocsin.channels]]
kind = "jsonl"
path = {json.dumps(str(root / "alerts.jsonl"))}

[[tocsin.channels]]
kind = "webhook"
url = "http://127.0.0.1:{free_port()}/hook"
retries = 1
backoff = 0.01
timeout = 2
""", encoding="utf-8")
    store = Store(data, bind(data))
    ok(store.run("sources", "load", str(DEMO / "sources.yaml")))
    store.ingests.append(store.run("ingest", str(DEMO / "corpus")))
    return store


@pytest.fixture(scope="module")
def chunked(tmp_path_factory: pytest.TempPathFactory, env: None) -> Store:
    """The demo corpus ingested in three chunks, in time order; the number of stored
    alerts is noted after each."""
    root = tmp_path_factory.mktemp("chunked")
    store = Store(root / "data", bind(root / "data"))
    ok(store.run("sources", "load", str(DEMO / "sources.yaml")))
    docs = corpus()
    bounds = [0, len(docs) // 3, 2 * len(docs) // 3, len(docs)]
    for n in range(3):
        part = root / f"part{n}.jsonl"
        part.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n"
                                for d in docs[bounds[n]:bounds[n + 1]]), encoding="utf-8")
        store.ingests.append(ok(store.run("ingest", str(part))))
        store.counts.append(len(lines(store.run("alerts", "-f", "jsonl", "--limit", "1000"))))
    return store


@pytest.fixture
def demo_copy(demo: Store, tmp_path: Path) -> Store:
    """A copy of the demo store for a test that changes it."""
    target = tmp_path / "data"
    shutil.copytree(demo.path, target)
    (target / "tocsin.toml").unlink()  # no deliveries from a copy
    return Store(target, bind(target))


def keyed(alerts: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(at, level, categories, rules, evidence) of each alert, in order."""
    return sorted((a["at"], a["level"], sorted(a["categories"]), sorted(a["rules"]),
                   sorted(a["evidence"])) for a in alerts)


def stored(store: Store) -> list[tuple[Any, ...]]:
    return keyed(lines(store.run("alerts", "-f", "jsonl", "--limit", "1000")))


def replayed(store: Store) -> list[tuple[Any, ...]]:
    return keyed(lines(store.run("replay", "-f", "jsonl")))


# -- 10. cold start ------------------------------------------------------------------------

def test_an_empty_store_has_no_alerts_and_says_so(tocsin: CLI) -> None:
    assert "0 alerts" in ok(tocsin("alerts")).stdout
    for command in (["alerts", "-f", "jsonl"], ["replay", "-f", "jsonl"],
                    ["scores", "-f", "jsonl"]):
        assert ok(tocsin(*command)).stdout.strip() == "", command
    ok(tocsin("replay"))
    ok(tocsin("scores"))
    missing = tocsin("alert", "1")
    assert missing.exit_code == 1
    assert "no alert 1" in missing.stderr and "Traceback" not in missing.output


# -- 11. replay equals live ----------------------------------------------------------------

def test_alerts_raised_live_chunk_by_chunk_are_the_alerts_replay_gives(chunked: Store) -> None:
    first, second, third = chunked.counts
    assert 0 < first <= second <= third  # alerts rang while ingesting
    live = stored(chunked)
    assert len(live) == third >= 5
    assert live == replayed(chunked)


def test_alerts_raised_live_at_once_are_the_alerts_replay_gives(demo: Store,
                                                                chunked: Store) -> None:
    live = stored(demo)
    assert live == replayed(demo)
    # and the same alerts as ingesting in chunks (evidence ids differ between stores)
    assert [a[:4] for a in live] == [a[:4] for a in stored(chunked)]


# -- 12. the replay contract ---------------------------------------------------------------

def test_replay_jsonl_gives_every_field_of_the_contract(demo: Store) -> None:
    alerts = lines(demo.run("replay", "-f", "jsonl"))
    assert alerts
    watch = load_watches(load_pack())["russia-nato"]
    for alert in alerts:
        assert datetime.fromisoformat(alert["at"]).utcoffset() == timedelta(0)
        assert alert["watch"] == "russia-nato" and alert["rule_level"] in LEVELS
        assert isinstance(alert["index"], float) and 0 < alert["index"] <= 100
        assert alert["level"] == watch.level_of(alert["index"])  # None below `watch`
        assert alert["at"] <= alert["index_at"] <= alert["updated_at"]
        assert all(e["index"] <= alert["index"] and e["rule_level"] in LEVELS
                   for e in alert["events"])
        assert alert["categories"] and all(isinstance(c, str) for c in alert["categories"])
        assert alert["indicators"] and all(isinstance(i, str) for i in alert["indicators"])
        assert alert["evidence"] and all(type(e) is int for e in alert["evidence"])
        assert alert["reasons"] and alert["events"][0]["kind"] == "raised"
    assert [a["at"] for a in alerts] == sorted(a["at"] for a in alerts)


def test_replay_from_to_restricts_the_alerts(demo: Store) -> None:
    every = lines(demo.run("replay", "-f", "jsonl"))
    some = lines(demo.run("replay", "-f", "jsonl", "--from", FROM, "--to", TO))
    assert some and len(some) < len(every)
    assert all(FROM <= a["at"] < TO for a in some)
    # both ends are quiet: the window gives the alerts the whole replay gives in it
    def key(a: dict[str, Any]) -> tuple[Any, ...]:
        return a["at"], a["level"], a["categories"], a["evidence"]
    assert [key(a) for a in some] == [key(a) for a in every if FROM <= a["at"] < TO]


def test_replay_refuses_a_format_or_a_date_it_does_not_know(demo: Store) -> None:
    assert demo.run("replay", "--format", "xml").exit_code == 2
    assert demo.run("replay", "--from", "last tuesday").exit_code == 2


# -- 13. the evidence trail ----------------------------------------------------------------

def test_an_alert_shows_the_sentences_and_sources_behind_it(demo: Store) -> None:
    registry = {s["name"] for s in yaml.safe_load(
        (DEMO / "sources.yaml").read_text("utf-8"))["sources"]}
    for row in lines(demo.run("alerts", "-f", "jsonl", "--limit", "1000")):
        full = json.loads(ok(demo.run("alert", str(row["id"]), "-f", "json")).stdout)
        trail = full["trail"]
        assert sorted(t["evidence"] for t in trail) == sorted(full["evidence"]) \
            == sorted(row["evidence"]) != []
        for t in trail:
            assert t["sentence"].strip() and t["source"] in registry
            assert t["grade"] in "ABCDEF" and len(t["grade"]) == 1
        text = flat(ok(demo.run("alert", str(row["id"]), "--limit", "1000")).stdout)
        for t in trail:
            assert flat(t["sentence"]) in text
            assert f"{t['source']} (grade {t['grade']})" in text
        assert "why it rang" in text and "lifecycle" in text


def test_markup_in_a_title_or_a_sentence_is_printed_as_written(tocsin: CLI,
                                                               tmp_path: Path) -> None:
    ok(tocsin("sources", "add", "Alpha Wire", "--grade", "A"))
    ok(tocsin("sources", "add", "Beta Post", "--grade", "B"))
    docs = [
        {"id": "a1", "source": "Alpha Wire", "title": "[red]x[/red] nuclear",
         "published_at": "2024-06-01T08:00:00+00:00",
         "text": "President Vladimir Putin ordered Russia's deterrence forces onto a special "
                 "regime of combat duty on Saturday, the Kremlin said."},
        {"id": "b1", "source": "Beta Post", "title": "[red]x[/red] nuclear",
         "published_at": "2024-06-01T09:00:00+00:00",
         "text": "Moscow has put its nuclear forces on high alert [bold]tonight[/bold], "
                 "Russian defence officials told reporters in a briefing."},
    ]
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    ingest = ok(tocsin("ingest", str(path)))
    assert "[red]x[/red] nuclear" in ingest.stderr  # the terminal channel
    [alert] = lines(tocsin("alerts", "-f", "jsonl"))
    text = flat(ok(tocsin("alert", str(alert["id"]))).stdout)
    assert "[red]x[/red] nuclear" in text
    assert "on high alert [bold]tonight[/bold]" in text


# -- 14. lifecycle -------------------------------------------------------------------------

def test_an_alert_goes_through_its_lifecycle_and_keeps_who_and_why(demo_copy: Store) -> None:
    run = demo_copy.run
    alert = str(lines(run("alerts", "-f", "jsonl"))[-1]["id"])
    no_one = run("ack", alert)
    assert no_one.exit_code == 2 and "--by" in no_one.output
    blank = run("ack", alert, "--by", "  ")
    assert blank.exit_code == 1 and "--by" in blank.stderr
    assert "acknowledged" in ok(run("ack", alert, "--by", "ana")).stdout
    assert "confirmed" in ok(run("confirm", alert, "--by", "bob", "--note",
                                 "two agencies")).stdout
    again = run("confirm", alert, "--by", "bob")
    assert again.exit_code == 1 and "already confirmed" in again.stderr
    assert run("dismiss", "99999", "--by", "bob").exit_code == 1

    text = flat(ok(run("alert", alert)).stdout)
    assert "acknowledged by ana" in text and "confirmed by bob: two agencies" in text
    events = json.loads(ok(run("alert", alert, "-f", "json")).stdout)["events"]
    assert [(e["kind"], e["by"]) for e in events][-2:] == [("acknowledged", "ana"),
                                                          ("confirmed", "bob")]
    assert events[0]["kind"] == "raised"

    ok(run("dismiss", alert, "--by", "carol", "--note", "old news"))
    ok(run("ack", alert, "--by", "dan", "--note", "reopened"))  # reopen
    [row] = [r for r in lines(run("alerts", "-f", "jsonl", "--state", "acknowledged"))
             if str(r["id"]) == alert]
    assert row["state"] == "acknowledged"
    kinds = [e["kind"] for e in json.loads(ok(run("alert", alert, "-f", "json")).stdout)
             ["events"]]
    assert kinds[-4:] == ["acknowledged", "confirmed", "dismissed", "acknowledged"]


# -- 15. reviews ---------------------------------------------------------------------------

def test_the_latest_review_of_evidence_counts(demo_copy: Store) -> None:
    run = demo_copy.run
    alert = lines(run("alerts", "-f", "jsonl"))[0]
    trail = json.loads(ok(run("alert", str(alert["id"]), "-f", "json")).stdout)["trail"]
    evidence, indicator = str(trail[0]["evidence"]), trail[0]["indicator"]
    assert evidence in replayed_evidence(demo_copy)

    ok(run("review", evidence, "true", "--by", "ana"))
    ok(run("review", evidence, "false", "--by", "ana", "--note", "a film review"))
    store = open_store(demo_copy.url)
    try:
        assert review_counts(store.engine, "nuclear") == {indicator: (0, 1)}
    finally:
        store.close()
    report = json.loads(ok(run("eval", "--reviews", "-f", "json")).stdout)
    assert (report["reviewed"], report["true"], report["false"]) == (1, 0, 1)
    assert report["indicators"][indicator]["precision"] == 0
    # evidence marked false no longer counts; marked true again, it counts again
    assert evidence not in replayed_evidence(demo_copy)
    ok(run("review", evidence, "true", "--by", "bob", "--note", "read it again"))
    store = open_store(demo_copy.url)
    try:
        assert review_counts(store.engine, "nuclear") == {indicator: (1, 0)}
    finally:
        store.close()
    assert evidence in replayed_evidence(demo_copy)

    missing = run("review", "99999999", "true", "--by", "ana")
    assert missing.exit_code == 1 and "no evidence 99999999" in missing.stderr
    assert run("review", evidence, "maybe", "--by", "ana").exit_code == 2
    assert run("review", evidence, "true").exit_code == 2


def replayed_evidence(store: Store) -> set[str]:
    return {str(e) for d in lines(store.run("replay", "-f", "jsonl")) for e in d["evidence"]}


# -- 16. backtest --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def backtest(demo: Store, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    out = tmp_path_factory.mktemp("backtest")
    return out, demo.run("backtest", "--timeline", str(DEMO / "timeline.yaml"), "--out",
                         str(out), "-f", "jsonl")


def test_backtest_writes_its_chart_and_a_line_per_milestone(
        backtest: tuple[Path, Result]) -> None:
    out, result = backtest
    *outcomes, summary = lines(result)
    milestones = yaml.safe_load((DEMO / "timeline.yaml").read_text("utf-8"))["milestones"]
    assert [(o["date"], o["title"]) for o in outcomes] == \
        sorted((m["date"].isoformat(), m["title"]) for m in milestones)
    assert summary["summary"]["milestones"] == len(milestones)
    assert summary["summary"]["false_alerts_per_30_quiet_days"] <= 1
    assert (out / "backtest-russia-nato.png").read_bytes().startswith(b"\x89PNG\r\n")
    html = (out / "backtest-russia-nato.html").read_text("utf-8")
    assert "<html" in html.lower() and milestones[0]["title"] in html
    # The chart follows the watch's levels (45 for warning), shows the summary figures,
    # and its days say which indicators pushed the index.
    assert "warning ≥ 45" in html and "<dt>median lead</dt>" in html
    assert "top indicators: readiness." in html


def test_backtest_alerts_every_milestone_within_a_day_of_its_first_report(
        backtest: tuple[Path, Result]) -> None:
    """Every milestone rings; one reported before 18:00 UTC rings the same day. One
    report alone never rings, so news that breaks late in the evening may ring the next
    morning, when a second outlet has it (2022-03-22: Peskov at 20:10 UTC)."""
    *outcomes, _ = lines(backtest[1])
    assert [o["date"] for o in outcomes if not o["alerted"]] == []
    assert [o["date"] for o in outcomes if o["lead_hours"] < -24] == []
    early = [o for o in outcomes if datetime.fromisoformat(o["first_document"]).hour < 18]
    assert len(early) >= 12
    assert [o["date"] for o in early if not o["on_day"]] == []


# -- 17. what rings ------------------------------------------------------------------------

def test_no_alert_rests_on_denials_plant_news_or_history_alone(demo: Store) -> None:
    """The issue's rule: every alert has at least one document that is a warning sign
    (labelled `warning`), not a denial, and not plant-safety news only. History pieces
    and plant news are labelled `hard-negative` or `ordinary`."""
    truth = labels()
    external: dict[int, str] = {}
    unfounded = []
    for row in lines(demo.run("alerts", "-f", "jsonl", "--limit", "1000")):
        trail = json.loads(ok(demo.run("alert", str(row["id"]), "-f", "json")).stdout)["trail"]
        documents = sorted({t["document"] for t in trail})
        for doc in documents:
            if doc not in external:
                shown = json.loads(ok(demo.run("show", str(doc), "-f", "jsonl")).stdout)
                external[doc] = shown["external_id"]
        found = [truth[external[d]] for d in documents]
        if not any(f["kind"] == "warning" and f["polarity"] != "denied"
                   and set(f["categories"]) - {"nuclear-safety"}
                   for f in found):
            unfounded.append((row["at"], row["title"],
                              [(f["id"], f["kind"], f["polarity"], f["categories"])
                               for f in found]))
    assert unfounded == []


# -- 18. channels --------------------------------------------------------------------------

def test_ingest_delivers_each_alert_event_to_the_jsonl_channel(demo: Store) -> None:
    [ingest] = demo.ingests
    assert ingest.exit_code in (0, 3), ingest.output
    alerts = {row["id"]: row for row in lines(demo.run("alerts", "-f", "jsonl",
                                                       "--limit", "1000"))}
    sent = [json.loads(line) for line in
            (demo.path.parent / "alerts.jsonl").read_text("utf-8").splitlines()]
    assert sorted(p["id"] for p in sent) == sorted(alerts)  # one run: one event each
    for payload in sent:
        row = alerts[payload["id"]]
        assert payload["event"] == "raised"
        for name in ("at", "watch", "level", "categories", "rules", "evidence"):
            assert payload[name] == row[name], name


def test_an_unreachable_webhook_does_not_fail_ingest_and_keeps_what_it_missed(
        demo: Store) -> None:
    [ingest] = demo.ingests
    assert ingest.exit_code in (0, 3), ingest.output
    alerts = {row["id"] for row in lines(demo.run("alerts", "-f", "jsonl", "--limit", "1000"))}
    # the short pass after ingest tried once; the rest waits in the outbox
    assert f"{len(alerts)} waiting (`tocsin deliver` sends them)" in ingest.stderr
    pending = lines(demo.run("outbox", "--state", "pending", "-f", "jsonl", "--limit", "1000"))
    assert sorted(r["alert_id"] for r in pending) == sorted(alerts)
    assert all(r["attempts"] == 1 and "ConnectError" in r["last_error"] for r in pending)
    # `tocsin deliver` spends the retries (retries = 1), then says what failed for good
    assert demo.run("deliver", "--wait", "5").exit_code == 1
    failed = lines(demo.run("outbox", "--state", "failed", "-f", "jsonl", "--limit", "1000"))
    assert sorted(r["alert_id"] for r in failed) == sorted(alerts)
    for record in failed:
        assert record["channel"].startswith("webhook:http://127.0.0.1:")
        assert record["last_error"].startswith("gave up after 2 attempts")
    # the JSONL channel's notifications were delivered by the ingest's pass
    delivered = lines(demo.run("outbox", "--state", "delivered", "-f", "jsonl",
                               "--limit", "1000"))
    assert {r["channel"] for r in delivered} == {f"jsonl:{demo.path.parent / 'alerts.jsonl'}"}
    retried = demo.run("outbox", "retry")
    assert f"{len(alerts)} notification(s) pending again" in retried.stdout
    assert len(lines(demo.run("outbox", "--state", "pending", "-f", "jsonl",
                              "--limit", "1000"))) == len(alerts)


# -- the store says what a replay says (defects of the first review) ----------------------

BENCH = Path(__file__).parent.parent / "bench" / "score.py"


def synthetic(url: str, days: int, per_day: int) -> None:
    """The bench's synthetic flow: many outlets, overlapping developments."""
    spec = importlib.util.spec_from_file_location("bench_score", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.fill(url, days, per_day)


def as_replay(alert: Any) -> tuple[Any, ...]:
    return (alert.first_at, alert.last_at, sorted(alert.categories), sorted(alert.rules))


def test_one_run_over_parallel_developments_stores_what_replay_gives(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'flow.db'}"
    synthetic(url, 50, 200)
    pack = load_pack()
    watch = load_watches(pack)["russia-nato"]
    store = open_store(url)
    try:
        changes = alert_live(store.engine, pack, [watch], datetime(2024, 1, 1, tzinfo=UTC))
        drafts = replay(store.engine, pack, watch)
        rows = sorted(list_alerts(store.engine, limit=10_000), key=lambda r: r.first_at)
        assert len(drafts) > 3  # parallel developments, some overlapping in time
        assert [as_replay(r) for r in rows] == [
            (d.first_at, d.last_at, sorted(d.categories), sorted(d.rules)) for d in drafts]
        span = watch.max_alert_days * 86400
        assert all((r.last_at - r.first_at).total_seconds() <= span for r in rows)
        # each alert is sent once in one run, and only one "raised" event each
        assert sorted(c.alert_id for c in changes) == sorted(r.id for r in rows)
        with store.engine.connect() as conn:
            raised = conn.execute(sa.select(alert_events.c.alert_id, sa.func.count())
                                  .where(alert_events.c.kind == "raised")
                                  .group_by(alert_events.c.alert_id)).all()
        assert {n for _, n in raised} == {1}

        # an analyst rejects the evidence of the first alert: a new evaluation withdraws
        # or shrinks it, keeps its lifecycle history, and the store still equals replay
        first = rows[0]
        with store.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(sa.text(
                "select evidence_id from alert_evidence where alert_id = :a"), {"a": first.id})]
        for evidence_id in ids:
            review(store.engine, evidence_id, False, "ana")
        assert owed(store.engine) is not None
        alert_live(store.engine, pack, [watch], owed(store.engine))  # type: ignore[arg-type]
        assert owed(store.engine) is None
        rows = sorted(list_alerts(store.engine, limit=10_000), key=lambda r: r.first_at)
        drafts = replay(store.engine, pack, watch)
        assert [as_replay(r) for r in rows] == [
            (d.first_at, d.last_at, sorted(d.categories), sorted(d.rules)) for d in drafts]
        with store.engine.connect() as conn:
            linked = {r[0] for r in conn.execute(sa.text("select evidence_id from alert_evidence"))}
            state = conn.execute(sa.select(alerts.c.state)
                                 .where(alerts.c.id == first.id)).scalar()
        assert not linked & set(ids)
        if first.id not in {r.id for r in rows}:
            assert state == "withdrawn"
    finally:
        store.close()


def test_redetect_keeps_the_evidence_trail_of_alerts(demo_copy: Store) -> None:
    run = demo_copy.run
    before = {a["id"]: a for a in lines(run("alerts", "-f", "jsonl", "--limit", "100"))}
    ok(run("redetect"))
    for alert_id, alert in before.items():
        shown = json.loads(ok(run("alert", str(alert_id), "-f", "json")).stdout)
        assert len(shown["trail"]) == len(alert["evidence"]) > 0
    # the trail points at the new evidence rows
    after = {a["id"]: a for a in lines(run("alerts", "-f", "jsonl", "--limit", "100"))}
    assert all(after[i]["evidence"] for i in before)
    ok(run("realert"))
    assert stored(demo_copy) == replayed(demo_copy)


def test_alerting_that_did_not_run_is_owed_and_run_by_realert(demo_copy: Store) -> None:
    run = demo_copy.run
    expected = stored(demo_copy)
    store = open_store(demo_copy.url)
    try:  # alerting was lost (say, interrupted) for the whole store
        with store.engine.begin() as conn:
            conn.execute(alerts.delete())
        owe(store.engine, datetime(2022, 1, 1, tzinfo=UTC))
    finally:
        store.close()
    result = ok(run("realert"))
    assert "raised" in result.stdout
    assert stored(demo_copy) == expected
    assert "nothing owed" in ok(run("realert")).stdout


def test_a_broken_channel_is_refused_before_anything_is_stored(tocsin: Any,
                                                               tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "tocsin.toml").write_text(
        '[[tocsin.channels]]\nkind = "webhook"\nurl = "http://127.0.0.1:9/x"\n'
        'secret_env = "TOCSIN_TEST_UNSET_SECRET"\n', encoding="utf-8")
    doc = tmp_path / "a.jsonl"
    doc.write_text(json.dumps({"id": "x1", "source": "Wire", "title": "t",
                               "published_at": "2024-11-19T10:00:00Z",
                               "text": "Putin signed the revised nuclear doctrine."}) + "\n",
                   encoding="utf-8")
    result = tocsin("ingest", str(doc))
    assert result.exit_code == 1 and "TOCSIN_TEST_UNSET_SECRET" in result.stderr
    assert "0 documents" in ok(tocsin("documents")).stdout or \
        ok(tocsin("documents", "-f", "jsonl")).stdout.strip() == ""


def test_a_dismissed_alert_that_escalates_is_reopened(demo_copy: Store) -> None:
    """Reopened when its level (the index's) or its rule level rises above what it was
    when an analyst dismissed it."""
    run = demo_copy.run
    shown = lines(run("alerts", "-f", "jsonl", "--limit", "100"))
    at_watch = next(a for a in shown if a["level"] == "watch")
    early = next(a for a in shown if a["level"] is None and a["rule_level"] == "warning")
    for alert, lower, rose in ((at_watch, {"level": ""}, "rose from below watch to watch"),
                               (early, {"rule_level": "watch"},
                                "rule level rose from watch to warning")):
        store = open_store(demo_copy.url)
        try:  # as it stood when it was dismissed: lower
            with store.engine.begin() as conn:
                conn.execute(alerts.update().where(alerts.c.id == alert["id"]).values(**lower))
        finally:
            store.close()
        ok(run("dismiss", str(alert["id"]), "--by", "ana", "--note", "noise"))
        ok(run("realert", "--from", alert["at"][:10]))
        again = json.loads(ok(run("alert", str(alert["id"]), "-f", "json")).stdout)
        assert again["state"] == "new", alert
        assert (again["level"], again["rule_level"]) == (alert["level"], alert["rule_level"])
        assert [e["kind"] for e in again["events"]][-2:] == ["dismissed", "reopened"]
        assert again["events"][-1]["note"].startswith(rose)
        # dismissed at what it is now, it is not reopened while it stays there
        ok(run("dismiss", str(alert["id"]), "--by", "ana", "--note", "still noise"))
        ok(run("realert", "--from", alert["at"][:10]))
        again = json.loads(ok(run("alert", str(alert["id"]), "-f", "json")).stdout)
        assert again["state"] == "dismissed"


def test_documents_stored_by_a_killed_run_are_alerted_by_the_next_one(demo_copy: Store,
                                                                      tmp_path: Path) -> None:
    """Alerting is owed for every document stored since it last ran, even when the run
    that stored them was killed before alerting (nothing in Python could record it)."""
    run = demo_copy.run
    expected = stored(demo_copy)
    store = open_store(demo_copy.url)
    try:  # as after `kill -9` during ingest: documents stored, alerting never ran
        with store.engine.begin() as conn:
            conn.execute(alerts.delete())
            conn.execute(sa.text("update alerting set covered = 0, pending_since = null"))
    finally:
        store.close()
    benign = tmp_path / "one.jsonl"
    benign.write_text(json.dumps({"id": "late-1", "source": "Northgate Wire",
                                  "title": "Weather", "text": "Rain in Kyiv today.",
                                  "published_at": "2025-11-29T10:00:00Z"}) + "\n",
                      encoding="utf-8")
    ok(run("ingest", str(benign)))
    assert stored(demo_copy) == expected


# -- 19. one meaning for levels ----------------------------------------------------------
#
# An alert's level is what the watch's levels say of the index shown beside it (its
# peak); what its rules asked for is its rule level, said beside it when higher.

STANDING = re.compile(r"(below watch|watch|warning|critical) \((?:peak )?index ([\d.]+)\)"
                      r"(?:, rule level (watch|warning|critical))?")


def standing_of(text: str) -> tuple[str | None, float, str | None]:
    found = STANDING.search(text)
    assert found, text
    level = None if found[1] == "below watch" else found[1]
    return level, float(found[2]), found[3]


@pytest.fixture(scope="module")
def russia_nato() -> Any:
    return load_watches(load_pack())["russia-nato"]


def test_every_alert_shows_the_level_of_the_index_beside_it(demo: Store, chunked: Store,
                                                            russia_nato: Any) -> None:
    warning = russia_nato.levels["warning"]
    rows = lines(demo.run("alerts", "-f", "jsonl", "--limit", "1000"))
    assert len(rows) >= 15
    for row in rows:
        assert row["index"] > 0 and row["evidence"]
        assert row["level"] == russia_nato.level_of(row["index"]), row
        assert row["rule_level"] in LEVELS
        if row["index"] < warning:
            assert row["level"] not in ("warning", "critical"), row
    # the demo's index never reaches `warning` (45): the warnings it rings are the rules'
    assert {r["rule_level"] for r in rows} >= {"warning"}
    assert {r["level"] for r in rows} <= {None, "watch"}
    # the terminal line: each says the level of its own index, and why when a rule rang
    # above it (the chunked store alerts on the terminal)
    printed = [line for result in chunked.ingests for line in result.stderr.splitlines()
               if line.startswith("ALERT #")]
    assert len(printed) >= len(rows)
    for line in printed:
        level, index, rule_level = standing_of(line)
        assert level == russia_nato.level_of(index), line
        assert index > 0, line
        if level is None:
            assert rule_level is not None, line  # says why it rang below `watch`


def test_an_alerts_header_and_body_give_the_same_peak_index(demo: Store) -> None:
    for row in lines(demo.run("alerts", "-f", "jsonl", "--limit", "1000")):
        text = ok(demo.run("alert", str(row["id"]), "--limit", "1")).stdout
        header = text.splitlines()[0]
        above = level_rank(row["rule_level"]) > level_rank(row["level"])
        assert standing_of(header) == (row["level"], round(row["index"]),
                                       row["rule_level"] if above else None)
        body = re.search(r"peak index ([\d.]+) at (\S+) \(([a-z ]+)\), pulls", flat(text))
        assert body, text
        assert float(body[1]) == round(row["index"]) == standing_of(header)[1]
        assert body[2] == row["index_at"]
        full = json.loads(ok(demo.run("alert", str(row["id"]), "-f", "json")).stdout)
        # the explanation is the peak's: same index, same moment, same level
        assert full["snapshot"]["index"] == row["index"] == full["index"]
        assert full["snapshot"]["at"] == row["index_at"]
        assert full["snapshot"]["level"] == row["level"]
        engine = [e for e in full["events"] if e["kind"] in ("raised", "updated")]
        assert engine and all(e["index"] <= full["snapshot"]["index"] + 0.05 for e in engine)


def test_every_output_of_an_alert_gives_the_same_level_and_index(
        demo: Store, backtest: tuple[Path, Result]) -> None:
    rows = {r["id"]: r for r in lines(demo.run("alerts", "-f", "jsonl", "--limit", "1000"))}

    def triple(p: dict[str, Any]) -> tuple[Any, ...]:
        return p["level"], p["index"], p["rule_level"]

    # the JSONL channel (one run: each alert's final state once), the webhook's outbox
    sent = [json.loads(line) for line in
            (demo.path.parent / "alerts.jsonl").read_text("utf-8").splitlines()]
    assert sent and all(triple(p) == triple(rows[p["id"]]) for p in sent)
    store = open_store(demo.url)
    try:
        with store.engine.connect() as conn:
            queued = [r.payload for r in conn.execute(sa.text("select payload from outbox"))]
    finally:
        store.close()
    assert queued and all(triple(json.loads(p) if isinstance(p, str) else p)
                          == triple(rows[(json.loads(p) if isinstance(p, str) else p)["id"]])
                          for p in queued)
    # the Atom feed `tocsin alerts -f atom` prints
    feed = feedparser.parse(ok(demo.run("alerts", "-f", "atom", "--limit", "1000")).stdout)
    assert not feed.bozo and len(feed.entries) == len(rows)
    for entry in feed.entries:
        row = rows[int(entry.id.rsplit(":", 1)[1])]
        level, index, rule_level = standing_of(entry.title)
        assert (level, index) == (row["level"], round(row["index"]))
        assert rule_level in (None, row["rule_level"])
        assert f"Index: {round(row['index'])} / 100" in entry.content[0].value
    # the backtest reports the alert that caught each milestone as `tocsin alerts` does
    *outcomes, _ = lines(backtest[1])
    shown = {triple(r) for r in rows.values()}
    assert outcomes and all(triple(o) in shown for o in outcomes if o["alerted"])


# -- 20. what a notification carries ------------------------------------------------------

def test_notifications_carry_the_strongest_evidence_with_sentence_source_grade_and_link(
        demo: Store) -> None:
    sent = [json.loads(line) for line in
            (demo.path.parent / "alerts.jsonl").read_text("utf-8").splitlines()]
    assert sent
    for payload in sent:
        full = json.loads(ok(demo.run("alert", str(payload["id"]), "-f", "json")).stdout)
        trail = {t["evidence"]: t for t in full["trail"]}
        carried = payload["trail"]
        assert 0 < len(carried) == min(10, len(payload["evidence"]))
        for item in carried:
            known = trail[item["evidence"]]
            assert item["sentence"] == " ".join(known["sentence"].split())
            assert (item["source"], item["grade"]) == (known["source"], known["grade"])
            assert item["url"] == known["url"] and item["url"].startswith("https://")
        # strongest first: the best of each independent origin before a second of any
        origins = [item["origin"] or item["source"] for item in carried]
        distinct = len(set(origins))
        assert len(set(origins[:distinct])) == distinct
        severities = [item["severity"] for item in carried[:distinct]]
        assert severities == sorted(severities, reverse=True)


def test_the_alert_trail_is_one_store_query(demo: Store) -> None:
    """`tocsin alert` and the notifications read the same trail (store.queries)."""
    store = open_store(demo.url)
    try:
        [row] = list_alerts(store.engine, limit=1)
        ids = evidence_of(store.engine, [row.id])[row.id]
        trail = alert_trail(store.engine, ids, row.pack)
    finally:
        store.close()
    shown = json.loads(ok(demo.run("alert", str(row.id), "-f", "json")).stdout)["trail"]
    assert [t["evidence"] for t in trail] == [t["evidence"] for t in shown]
    assert [t["sentence"] for t in trail] == [t["sentence"] for t in shown]


# -- 21. the Atom feed follows the lifecycle -----------------------------------------------

def test_the_atom_feed_links_alerts_and_shows_lifecycle_moves(demo_copy: Store) -> None:
    feed_path = demo_copy.path / "feed" / "alerts.atom"
    (demo_copy.path / "tocsin.toml").write_text(f"""
[[tocsin.channels]]
kind = "atom"
path = {json.dumps(str(feed_path))}
""", encoding="utf-8")
    run = demo_copy.run
    printed = feedparser.parse(ok(run("alerts", "-f", "atom", "--limit", "1000")).stdout)
    assert not printed.bozo, printed.bozo_exception
    assert any(link.rel == "self" for link in printed.feed.links)
    for entry in printed.entries:  # every demo document has a URL: each entry links one
        assert entry.link.startswith("https://")
        assert [x.href for x in entry.links if x.rel == "alternate"] == [entry.link]
    alert = printed.entries[0]
    alert_id = alert.id.rsplit(":", 1)[1]
    before = alert.updated_parsed

    ok(run("ack", alert_id, "--by", "ana"))
    feed = feedparser.parse(feed_path.read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert [x.rel for x in feed.feed.links] == ["self"]
    # (feedparser folds file:/// to file://: read the link as written)
    [self_link] = safe_fromstring(feed_path.read_bytes()).findall(
        "{http://www.w3.org/2005/Atom}link")
    assert self_link.get("href") == feed_path.resolve().as_uri()
    [entry] = feed.entries
    assert entry.id == alert.id and entry.title.startswith("[acknowledged] ")
    assert entry.link == alert.link

    ok(run("dismiss", alert_id, "--by", "ana", "--note", "old news"))
    feed = feedparser.parse(feed_path.read_bytes())
    [entry] = feed.entries
    assert entry.title.startswith("[dismissed] ") and entry.title[12:] == alert.title
    assert entry.updated_parsed > before
    assert "dismissed by ana" in entry.content[0].value and "old news" in entry.content[0].value
    # what `tocsin alerts -f atom` prints says the same
    printed = feedparser.parse(ok(run("alerts", "-f", "atom", "--limit", "1000")).stdout)
    [again] = [e for e in printed.entries if e.id == alert.id]
    assert again.title == entry.title and again.updated_parsed > before


def test_alerts_stored_before_rule_levels_are_relevelled_without_notifications(
        demo_copy: Store) -> None:
    """A store from before migration 0010 holds one level per alert (its rules') and
    events without rule levels: re-evaluation re-levels them and sends nothing."""
    run = demo_copy.run
    expected = lines(run("alerts", "-f", "jsonl", "--limit", "1000"))
    store = open_store(demo_copy.url)
    try:
        with store.engine.begin() as conn:
            conn.execute(sa.text("update alerts set level = rule_level, rule_level = null"))
            conn.execute(sa.text("update alert_events set data = "
                                 "json_remove(data, '$.rule_level')"))
        owe(store.engine, datetime(2022, 1, 1, tzinfo=UTC))
    finally:
        store.close()
    legacy = lines(run("alerts", "-f", "jsonl", "--limit", "1000"))
    assert {a["level"] for a in legacy} == {a["rule_level"] for a in expected}
    assert "0 raised, 0 updated, 0 withdrawn" in ok(run("realert")).stdout
    again = lines(run("alerts", "-f", "jsonl", "--limit", "1000"))
    def levels(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(a["id"], a["level"], a["index"], a["rule_level"]) for a in rows]
    assert levels(again) == levels(expected)
