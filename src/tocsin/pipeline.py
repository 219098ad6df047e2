"""The stages and the local runner.

A stage is a callable over a batch of typed records. Ingest is:
sources (paths -> RawItem | Rejection) -> text (RawItem -> Document | Rejection) -> store.
Later stages (stories, indicators, scoring, alerts) are added to the same runner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from tocsin.config import Limits
from tocsin.errors import StoreError
from tocsin.indicators.detect import Detector
from tocsin.model import BatchResult, Document, IngestReport, RawItem, Rejection
from tocsin.sources.inputs import STDIN, Inputs
from tocsin.store.db import Store
from tocsin.store.locks import Waiting, exclusive
from tocsin.stories.stage import StoriesStage
from tocsin.text.prepare import TextStage, make_text_stage

Progress = Callable[[int], None]


def detect_batch(detector: Detector, docs: list[Document]) -> None:
    """The detection stage: reads text, language, sentences; assigns entities, evidence."""
    for doc in docs:
        found = detector.detect_document(doc)
        doc.entities = found.entities
        doc.evidence = found.evidence


def _write_one_by_one(store: Store, report: IngestReport, docs: list[Document],
                      rejections: list[Rejection], pack: str) -> BatchResult:
    result = BatchResult([], 0)
    run_id = report.run_id
    assert run_id is not None
    for doc in docs:
        try:
            one = store.write_batch(run_id, [doc], [], pack=pack)
        except StoreError as exc:
            refused = Rejection(doc.origin, "unstorable", str(exc)[:500],
                                excerpt=doc.text[:300])
            report.reject(refused.reason)
            rejections.append(refused)
            continue
        result.new_ids += one.new_ids
        result.known += one.known
    for rejection in rejections:
        try:
            store.write_batch(run_id, [], [rejection])
        except StoreError:
            pass  # counted in the report; its text cannot be stored
    return result


def batched(items: Iterable[RawItem | Rejection], size: int) -> Iterator[list[RawItem | Rejection]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def ingest(
    inputs: Inputs,
    store: Store,
    text_stage: TextStage,
    limits: Limits,
    batch_size: int = 500,
    progress: Progress | None = None,
    detector: Detector | None = None,
    stories: StoriesStage | None = None,
    on_wait: Waiting | None = None,
) -> IngestReport:
    """Read, clean and store everything in ``inputs``; bad input goes to quarantine.

    Each batch is written in one transaction, so an interrupted run keeps every batch
    it finished and re-running it adds only what is missing. ``on_wait`` is told when
    another process holds the store's write lock and this run waits for it.
    """
    report = IngestReport(run_id=store.begin_run(inputs.paths))
    assert report.run_id is not None
    status = "failed"
    source_ids = store.source_ids() if stories else {}
    try:
        for batch in batched(inputs.read(limits), batch_size):
            docs: list[Document] = []
            rejections: list[Rejection] = []
            for item in batch:
                result = item if isinstance(item, Rejection) else text_stage.prepare(item)
                if isinstance(result, Rejection):
                    rejections.append(result)
                    report.reject(result.reason)
                else:
                    docs.append(result)
            if detector is not None:
                detect_batch(detector, docs)
            if stories is not None:
                stories.prepare(docs, source_ids)
            report.read += len(batch)
            pack = detector.compiled.pack_id if detector else ""
            # Writing and clustering hold the store's write lock: with other processes
            # ingesting into the same store, ids are committed in order and each batch
            # joins the stories as they stand after everything committed before it.
            with exclusive(store.engine, "write", on_wait):
                try:
                    written = store.write_batch(report.run_id, docs, rejections, pack=pack)
                except StoreError:
                    # One record the database refuses must not cost the batch: store the
                    # documents one by one and quarantine the ones it still refuses.
                    written = _write_one_by_one(store, report, docs, rejections, pack)
                if stories is not None:
                    stories.cluster(store)
            report.new += written.new
            report.known += written.known
            if progress:
                progress(len(batch))
        status = "done"
    finally:
        store.finish_run(report, status)
    return report


__all__ = ["STDIN", "Inputs", "Progress", "batched", "detect_batch", "ingest",
           "make_text_stage"]
