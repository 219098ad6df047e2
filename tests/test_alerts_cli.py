"""Alerts through the command line, against a real SQLite store.

Ingesting the demo corpus takes seconds, so it is done once per module: at once (with a
JSONL file and an unreachable webhook as channels, so that the same run tests delivery)
and in three time-ordered chunks. Tests that change a store work on a copy of it.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner, Result

from tests.conftest import CLI
from tocsin.alerts.backtest import replay
from tocsin.alerts.store import alert_live, list_alerts, owe, owed, review, review_counts
from tocsin.cli import app
from tocsin.indicators.pack import load_pack
from tocsin.scoring.watch import load_watches
from tocsin.store.db import open_store
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
    for alert in alerts:
        assert datetime.fromisoformat(alert["at"]).utcoffset() == timedelta(0)
        assert alert["watch"] == "russia-nato" and alert["level"] in LEVELS
        assert isinstance(alert["index"], float) and 0 <= alert["index"] <= 100
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
    run = demo_copy.run
    warning = next(a for a in lines(run("alerts", "-f", "jsonl", "--limit", "100"))
                   if a["level"] == "warning")
    store = open_store(demo_copy.url)
    try:  # as it stood when it was dismissed: still at the `watch` level
        with store.engine.begin() as conn:
            conn.execute(alerts.update().where(alerts.c.id == warning["id"])
                         .values(level="watch"))
    finally:
        store.close()
    ok(run("dismiss", str(warning["id"]), "--by", "ana", "--note", "noise"))
    ok(run("realert", "--from", warning["at"][:10]))
    shown = json.loads(ok(run("alert", str(warning["id"]), "-f", "json")).stdout)
    assert shown["state"] == "new" and shown["level"] == "warning"
    assert [e["kind"] for e in shown["events"]][-2:] == ["dismissed", "reopened"]
    # dismissed at `warning`, it is not reopened while it stays at `warning`
    ok(run("dismiss", str(warning["id"]), "--by", "ana", "--note", "still noise"))
    ok(run("realert", "--from", warning["at"][:10]))
    shown = json.loads(ok(run("alert", str(warning["id"]), "-f", "json")).stdout)
    assert shown["state"] == "dismissed"


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
