"""tocsin as a library: what the CLI and the web desk call, and what a Python user calls.

Two ways in::

    import tocsin
    tocsin.analyze("Russia moved nuclear warheads to Belarus.")   # no store: one object
    with tocsin.open_store("sqlite:///tocsin.db") as t:           # a store: everything else
        t.ingest(["feeds/"])
        for alert in t.alerts():
            print(alert["id"], alert["level"], alert["title"])

Every rule that an analyst's action triggers lives here, so it holds for any caller:
a review or a grade change records that alerting is owed *and* runs it (unless asked not
to); an ingest stores, clusters, alerts and delivers. SQL stays in ``store/``; the scorer
and the alert engine stay pure. Heavy modules are imported when first needed, so that
``import tocsin`` and ``tocsin --version`` stay fast.
"""

from __future__ import annotations

import getpass
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tocsin.analysis import Analyzer, analyze, detector_for
from tocsin.errors import NotFound, TocsinError

if TYPE_CHECKING:
    from tocsin.alerts.backtest import Backtest
    from tocsin.alerts.engine import Draft
    from tocsin.alerts.outbox import PassReport
    from tocsin.alerts.store import Change
    from tocsin.config import Settings
    from tocsin.indicators.detect import Detector
    from tocsin.indicators.pack import Pack
    from tocsin.model import IngestReport
    from tocsin.scoring.index import Snapshot
    from tocsin.scoring.watch import Watch
    from tocsin.store.db import Store
    from tocsin.store.queries import Board

Announce = Callable[["Change"], None]
Say = Callable[[str], None]


def user_name() -> str:
    """Who is acting, when the caller does not say (kept with grades and reviews)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a container
        return "unknown"


def load(config: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings, layered: defaults, config file, ``TOCSIN_*`` environment, ``overrides``."""
    from tocsin.config import load_settings

    return load_settings(Path(config) if config else None, **overrides)


# ------------------------------------------------------------------ the store
@dataclass
class Realerted:
    """What a run of alerting changed."""

    since: datetime | None
    changes: list[Change] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        kinds = Counter(c.event for c in self.changes)
        return {k: kinds[k] for k in ("raised", "updated", "withdrawn")}

    def describe(self) -> str:
        if self.since is None:
            return "nothing owed: alerts are up to date"
        c = self.counts
        return (f"alerting re-evaluated from {self.since:%Y-%m-%d %H:%M} UTC: "
                f"{c['raised']} raised, {c['updated']} updated, {c['withdrawn']} withdrawn")


def open_store(url: str | None = None, *, data_dir: Path | str | None = None,
               config: Path | str | None = None, settings: Settings | None = None,
               **overrides: Any) -> Tocsin:
    """A handle on a store (created and migrated if needed): ``url`` is a SQLAlchemy URL
    (``sqlite:///file.db``, ``postgresql+psycopg://...``); default: the settings' ``db``,
    else ``tocsin.db`` in the data dir. Use it as a context manager, or call ``close``."""
    if settings is None:
        settings = load(config, db=url, data_dir=Path(data_dir) if data_dir else None,
                        **overrides)
    elif url is not None or data_dir is not None:
        settings = settings.model_copy(update={k: v for k, v in
                                               {"db": url, "data_dir": data_dir}.items()
                                               if v is not None})
    return Tocsin(settings)


class Tocsin:
    """One store and the settings that go with it. Methods return plain data (dicts,
    lists, small records) that serialise to JSON; ids and names that do not exist raise
    :class:`tocsin.errors.NotFound`."""

    def __init__(self, settings: Settings, *, say: Say | None = None,
                 announce: Announce | None = None) -> None:
        self.settings = settings
        self._store: Store | None = None
        self._pack: Pack | None = None
        # How a long wait (another process holds a lock) or a delivery summary is told;
        # the CLI passes its standard error. Silent by default.
        self.say: Say = say or (lambda _message: None)
        self.announce = announce
        self._said: set[str] = set()

    # lifecycle ---------------------------------------------------------------
    @property
    def store(self) -> Store:
        if self._store is None:
            from tocsin.store.db import open_store as open_db

            self._store = open_db(self.settings.database_url)
        return self._store

    @property
    def engine(self) -> Any:
        return self.store.engine

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Tocsin:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def waiting(self, message: str) -> None:
        """Said once per message and handle, not for every batch."""
        if message not in self._said:
            self._said.add(message)
            self.say(message)

    # pack and watches --------------------------------------------------------
    @property
    def pack(self) -> Pack:
        if self._pack is None:
            from tocsin.indicators.pack import load_pack

            self._pack = load_pack(self.settings.pack)
        return self._pack

    def detector(self, pack: str | None = None) -> Detector:
        return detector_for(self.settings, pack)

    def watches(self, watch: str | None = None) -> list[Watch]:
        """The pack's watches, or the one named (unknown names are errors)."""
        from tocsin.scoring.watch import load_watches, select

        return select(load_watches(self.pack), watch or self.settings.watch)

    # ingest and analysis -----------------------------------------------------
    def ingest(self, paths: Sequence[str], *, source: str = "",
               progress: Callable[[int], None] | None = None, stdin: Any = None,
               deliver: bool = True) -> IngestReport:
        """Read, clean, detect, store and cluster ``paths`` (files, folders, ``-`` for
        JSON Lines on ``stdin``); then run the alerting owed and give network channels
        ``deliver_wait`` seconds. Bad inputs are quarantined and counted in the report."""
        from tocsin.pipeline import Inputs, ingest, make_text_stage
        from tocsin.stories.stage import StoriesStage

        settings = self.settings
        watches = self.watches()  # checked before anything is stored
        delivery = self._delivery()
        stage = make_text_stage(settings.languages, settings.limits)
        stories = StoriesStage.for_store(self.store, settings.languages,
                                         settings.story_threshold, settings.story_window_days)
        report = ingest(Inputs(list(paths), default_source=source, stdin=stdin), self.store,
                        stage, settings.limits, settings.batch_size, progress=progress,
                        detector=self.detector(), stories=stories, on_wait=self.waiting)
        self._alert(watches, None, delivery, deliver)
        return report

    def analyzer(self) -> Analyzer:
        """An analyzer that reads this store's registry and stories (writes nothing)."""
        return Analyzer(self.settings, store=self.store)

    def redetect(self, pack: str | None = None) -> tuple[int, int]:
        """Detection again on every stored document; alerting is owed from the first."""
        from tocsin.alerts.store import owe
        from tocsin.scoring.items import first_document_time

        detector = self.detector(pack)
        owe(self.engine, first_document_time(self.engine))  # recorded first, in case it stops
        return self.store.redetect(detector.detect_fields, detector.pack.id)

    # alerting ----------------------------------------------------------------
    def _delivery(self) -> Any:
        from tocsin.alerts.delivery import Delivery

        return Delivery.from_settings(self.settings, say=self.say)

    def _alert(self, watches: list[Watch], since: datetime | None, delivery: Any,
               deliver: bool) -> list[Change]:
        from tocsin.alerts.store import alert_live

        announce = self.announce

        def told(change: Change) -> None:
            delivery.announce(change)
            if announce is not None:
                announce(change)

        changes = alert_live(self.engine, self.pack, watches, since, on_change=told,
                             complete=self.settings.watch is None, on_wait=self.waiting,
                             outbox=delivery.outbox(self.store))
        if deliver:
            delivery.run(self.store, budget=self.settings.deliver_wait)
        return changes

    def realert(self, since: datetime | None = None, *, deliver: bool = True) -> Realerted:
        """Run the alerting owed (after reviews, grade changes, ``redetect``, a killed
        ingest), or from ``since`` (after a watch was edited); store and deliver."""
        from tocsin.alerts.store import owed

        watches = self.watches()
        starts = [t for t in (since, owed(self.engine)) if t is not None]
        begin = min(starts) if starts else None
        if begin is None:
            return Realerted(None)
        return Realerted(begin, self._alert(watches, begin, self._delivery(), deliver))

    def deliver(self, wait: float = 0.0) -> PassReport:
        """Send what waits in the outbox and is due."""
        return self._delivery().run(self.store, budget=None, wait=wait)

    # documents, evidence, search --------------------------------------------
    def documents(self, *, language: str | None = None, source: str | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Documents newest first, and how many match in all. ``until`` is inclusive."""
        from tocsin.store.queries import DocumentFilter, count_documents, list_documents

        self._check_source(source)
        where = DocumentFilter(language, source, since, until)
        return (list_documents(self.engine, where, limit, offset),
                count_documents(self.engine, where))

    def document(self, key: str | int) -> dict[str, Any]:
        """One document with its evidence, entities and attributions."""
        from tocsin.store.queries import document_findings, get_document
        from tocsin.stories.queries import document_attributions

        doc = get_document(self.engine, str(key))
        if doc is None:
            raise NotFound(f"no document {key!r} (ids come from `tocsin documents`; a hash "
                           "prefix needs 8+ characters)")
        doc.update(document_findings(self.engine, doc["id"]))
        doc["attributions"] = document_attributions(self.engine, doc["id"])
        return doc

    def evidence(self, **filters: Any) -> list[dict[str, Any]]:
        """Stored evidence, newest first, with sentence, document and source; filters:
        indicator, category, polarity, language, source, entity, since, until (inclusive),
        document, limit, offset. See ``store.search.EvidenceFilter``."""
        from tocsin.store.search import EvidenceFilter, list_evidence

        self._check_source(filters.get("source"))
        self._check_indicator(filters.get("indicator"), filters.get("category"))
        return list_evidence(self.engine, EvidenceFilter(**filters))

    def search(self, query: str, **filters: Any) -> list[dict[str, Any]]:
        """Full-text search over titles and texts (SQLite FTS5, PostgreSQL text search),
        best first, with a snippet; the filters of :meth:`evidence` apply too."""
        from tocsin.store.search import EvidenceFilter, search_documents

        self._check_source(filters.get("source"))
        self._check_indicator(filters.get("indicator"), filters.get("category"))
        return search_documents(self.engine, query, EvidenceFilter(**filters))

    def quarantine(self, reason: str | None = None, run: int | None = None,
                   limit: int = 100) -> list[dict[str, Any]]:
        from tocsin.store.queries import list_quarantine

        return list_quarantine(self.engine, reason, run, limit)

    def board(self, days: int = 14) -> Board:
        """The board's data, with independent origins and credibility of the evidence."""
        from tocsin.scoring.credibility import credibility, independent_origins
        from tocsin.store.queries import board

        data = board(self.engine, days)
        data.origins_by_category = independent_origins(self.engine)
        data.credibility = credibility(
            self.engine, timedelta(days=self.settings.credibility_window_days),
            ids=[row["id"] for row in data.evidence])
        return data

    def _check_source(self, source: str | None) -> None:
        from tocsin.store.queries import find_sources

        if source and not find_sources(self.engine, source):
            raise NotFound(f"no source {source!r}; see `tocsin sources list`")

    def _check_indicator(self, indicator: str | None, category: str | None) -> None:
        ids = {i.id for i in self.pack.indicators}
        if indicator and indicator not in ids and not any(i.startswith(indicator.rstrip("*"))
                                                          for i in ids):
            raise NotFound(f"no indicator {indicator!r} in pack {self.pack.id}; "
                           "see `tocsin rules lint`")
        categories = {i.category for i in self.pack.indicators}
        if category and category not in categories:
            raise NotFound(f"no category {category!r}; choose among "
                           f"{', '.join(sorted(categories))}")

    # stories -----------------------------------------------------------------
    def stories(self, min_size: int = 2, limit: int = 50) -> list[dict[str, Any]]:
        from tocsin.stories.queries import list_stories

        return list_stories(self.engine, min_size, limit)

    def story(self, story_id: int) -> dict[str, Any]:
        from tocsin.stories.queries import get_story

        story = get_story(self.engine, story_id)
        if story is None:
            raise NotFound(f"no story {story_id}; see `tocsin stories --min-size 1`")
        return story

    # alerts ------------------------------------------------------------------
    def alerts(self, watch: str | None = None, state: str | None = None,
               limit: int = 50) -> list[dict[str, Any]]:
        """Alerts newest first, each as the payload channels receive (``event: state``):
        level, peak index, rule level, lifecycle and the strongest evidence."""
        from tocsin.alerts.notice import notices
        from tocsin.alerts.store import STATES, list_alerts

        if watch:
            self.watches(watch)
        if state is not None and state not in STATES:  # withdrawn is one of them
            raise TocsinError(f"no state {state!r}; choose among {', '.join(STATES)}")
        return notices(self.engine, list_alerts(self.engine, watch, state, limit))

    def alert(self, alert_id: int) -> dict[str, Any]:
        """One alert: its payload, why it rang (reasons, snapshot), its evidence trail
        (sentence, document, source, grade, story, review) and its lifecycle events."""
        from tocsin.alerts.notice import payload
        from tocsin.alerts.store import AlertError, get_alert
        from tocsin.store.queries import alert_trail, last_moves

        try:
            data = get_alert(self.engine, alert_id)
        except AlertError as exc:
            raise NotFound(f"{exc}; see `tocsin alerts`") from exc
        row = data["alert"]
        ids = sorted(link.evidence_id for link in data["links"])
        trail = alert_trail(self.engine, ids, row.pack)
        body = payload(row, "state", ids, trail, last_moves(self.engine, [row.id]).get(row.id))
        body |= {"reasons": row.reasons, "snapshot": row.snapshot, "trail": trail,
                 "events": [{"at": e.at, "kind": e.kind, "level": e.level, "index": e.index,
                             "by": e.by, "note": e.note} for e in data["events"]]}
        return body

    def move(self, alert_id: int, state: str, by: str | None = None, note: str = ""
             ) -> dict[str, Any]:
        """Acknowledge, confirm or dismiss an alert (kept in its lifecycle); the channels
        hear of it through the outbox (the Atom feed's entry changes)."""
        from tocsin.alerts.store import AlertError, move

        delivery = self._delivery()
        try:
            row = move(self.engine, alert_id, state, by or user_name(), note,
                       delivery.outbox(self.store))
        except AlertError as exc:
            if "no alert" in str(exc):
                raise NotFound(f"{exc}; see `tocsin alerts`") from exc
            raise
        delivery.run(self.store, budget=self.settings.deliver_wait)
        return {"id": row.id, "state": row.state, "level": row.level or None,
                "index": row.index}

    def ack(self, alert_id: int, by: str | None = None, note: str = "") -> dict[str, Any]:
        return self.move(alert_id, "acknowledged", by, note)

    def confirm(self, alert_id: int, by: str | None = None, note: str = "") -> dict[str, Any]:
        return self.move(alert_id, "confirmed", by, note)

    def dismiss(self, alert_id: int, by: str | None = None, note: str = "") -> dict[str, Any]:
        return self.move(alert_id, "dismissed", by, note)

    def review(self, evidence_id: int, verdict: bool, by: str | None = None, note: str = "",
               *, realert: bool = True) -> Realerted:
        """Mark one piece of evidence a true or a false detection. A false one leaves the
        scores; either way alerting is owed from its document's time and, unless
        ``realert`` is false, run now (alerts resting on it may be updated or withdrawn)."""
        from tocsin.alerts.store import AlertError, review

        try:
            review(self.engine, evidence_id, verdict, by or user_name(), note)
        except AlertError as exc:
            if "no evidence" in str(exc):
                raise NotFound(f"{exc}; ids come from `tocsin show`, `tocsin alert` or "
                               "`tocsin evidence`") from exc
            raise
        return self.realert() if realert else Realerted(None)

    def review_precision(self, pack: str | None = None) -> dict[str, Any]:
        """Precision per indicator from the analysts' latest verdicts."""
        from tocsin.alerts.store import review_counts
        from tocsin.indicators.pack import load_pack

        counts = review_counts(self.engine, load_pack(pack or self.settings.pack).id)
        true = sum(t for t, _ in counts.values())
        false = sum(f for _, f in counts.values())
        return {
            "reviewed": true + false, "true": true, "false": false,
            "precision": round(true / (true + false), 3) if true + false else None,
            "indicators": {k: {"true": t, "false": f, "precision": round(t / (t + f), 3)}
                           for k, (t, f) in counts.items()},
        }

    def scores(self, watch: str | None = None, bucket: str = "day",
               since: datetime | None = None, until: datetime | None = None,
               every: bool = False) -> list[Snapshot]:
        """The escalation index per bucket (``until`` inclusive), oldest first."""
        from tocsin.scoring.index import Scorer, bucket_start, bucket_step, series
        from tocsin.scoring.items import first_document_time, load_items

        history = first_document_time(self.engine)
        found: list[Snapshot] = []
        for w in self.watches(watch):
            last = None if until is None else bucket_start(until, bucket) + bucket_step(bucket)
            items = load_items(self.engine, w, self.pack, until=last)
            scorer = Scorer(w, bucket=bucket, history_start=history)
            found.extend(s for s in series(scorer, items, None, until)
                         if (every or s.indicators) and (since is None or s.start >= since))
        return found

    def replay(self, since: datetime | None = None, until: datetime | None = None,
               watch: str | None = None) -> list[Draft]:
        """The alerts a live run would have raised over the store, in time order; nothing
        is stored or sent."""
        from tocsin.alerts.backtest import replay

        drafts = [d for w in self.watches(watch)
                  for d in replay(self.engine, self.pack, w, since, until)]
        return sorted(drafts, key=lambda d: (d.first_at, d.watch))

    def backtest(self, timeline: Path | str, watch: str | None = None,
                 out_dir: Path | str | None = None, window_days: int = 2
                 ) -> list[tuple[Backtest, Path, Path]]:
        """Score a timeline of milestones per watch; writes a PNG and an HTML chart each
        into ``out_dir`` (default ``<data_dir>/backtest``)."""
        from tocsin.alerts.report import run_backtest

        target = Path(out_dir) if out_dir else self.settings.data_dir / "backtest"
        return run_backtest(self.engine, self.pack, self.watches(watch), Path(timeline),
                            target, window_days)

    # sources -----------------------------------------------------------------
    def sources(self) -> list[dict[str, Any]]:
        from tocsin.store.registry import list_sources

        return list_sources(self.store)

    def source(self, key: str) -> dict[str, Any]:
        """One source by id, name or alias, with the history of its grade."""
        from tocsin.store.registry import find_source, grade_history

        found = find_source(self.store, key)
        if found is None:
            raise NotFound(f"no source {key!r}; see `tocsin sources list`")
        return {**found, "history": grade_history(self.store, found["id"])}

    def add_source(self, record: dict[str, Any], by: str | None = None) -> str:
        from tocsin.store.registry import add_source

        return add_source(self.store, record, by or user_name())

    def grade(self, key: str, grade: str, by: str | None = None, note: str = "",
              *, realert: bool = True) -> tuple[dict[str, Any], Realerted]:
        """Change a source's reliability grade (audited). The scores of its reports change:
        alerting is owed and, unless ``realert`` is false, run now."""
        from tocsin.alerts.store import owe_source
        from tocsin.store.registry import set_grade

        self.source(key)  # an unknown source is NotFound, as everywhere
        source = set_grade(self.store, key, grade, by or user_name(), note)
        owe_source(self.engine, source["id"])
        return source, (self.realert() if realert else Realerted(None))

    def load_sources(self, path: Path | str, by: str | None = None, *,
                     realert: bool = True) -> tuple[int, Realerted]:
        """Add or update sources from a registry YAML; grades that change owe alerting."""
        from tocsin.alerts.store import owe_source
        from tocsin.store.db import slugify
        from tocsin.store.registry import load_registry_file

        path = Path(path)
        records = load_registry_file(path)
        self.store.upsert_sources(records, changed_by=by or user_name(),
                                  note=f"loaded from {path.name}")
        for record in records:
            owe_source(self.engine, str(record.get("id") or slugify(record["name"])))
        return len(records), (self.realert() if realert else Realerted(None))

    # the demo ----------------------------------------------------------------
    def demo(self) -> IngestReport:
        """Load the demo's source registry (grades an analyst changed are kept) and
        ingest the bundled demo corpus."""
        from importlib import resources

        import yaml

        demo = resources.files("tocsin.demo")
        registry = yaml.safe_load(demo.joinpath("sources.yaml").read_text("utf-8"))
        self.store.upsert_sources(registry["sources"], update=False, changed_by="demo",
                                  note="demo registry")
        with resources.as_file(demo.joinpath("corpus")) as corpus:
            return self.ingest([str(corpus)])


__all__ = ["Analyzer", "Realerted", "Tocsin", "analyze", "detector_for", "load", "open_store",
           "user_name"]
