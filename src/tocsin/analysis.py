"""`tocsin analyze`: read files, clean them, detect warning signs; store nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tocsin.model import Document, RawItem, Rejection

if TYPE_CHECKING:  # the store only when one is given: analysis alone stays light
    from tocsin.config import Limits
    from tocsin.indicators.detect import Detector
    from tocsin.sources.inputs import Inputs
    from tocsin.store.db import Store
    from tocsin.stories.attribution import AttributionExtractor
    from tocsin.text.prepare import TextStage


def document_record(doc: Document, with_text: bool = False) -> dict[str, Any]:
    """The JSON object `tocsin analyze` prints for one document (a documented contract)."""
    record: dict[str, Any] = {
        "origin": doc.origin,
        "id": doc.external_id,
        "source": doc.source,
        "title": doc.title,
        "url": doc.url,
        "published_at": doc.published_at.isoformat() if doc.published_at else None,
        "date_flag": doc.date_flag,
        "language": doc.language,
        "entities": [e.as_dict() for e in doc.entities],
        "evidence": [e.as_dict() for e in doc.evidence],
        "attributions": [a.as_dict() for a in doc.attributions],
    }
    story = doc.meta.get("_story")
    if story:  # the document is stored: its story and the story's origin
        record["story"] = story["story_id"]
        record["origin"] = story["origin_name"]
    if with_text:
        record["text"] = doc.text
    return record


def analyze_one(item: RawItem, text_stage: TextStage, detector: Detector,
                extractor: AttributionExtractor | None = None,
                store: Store | None = None) -> Document | Rejection:
    """Clean one item and find its evidence, entities, attributions (and its story, when
    the store already holds it)."""
    result = text_stage.prepare(item)
    if isinstance(result, Document):
        found = detector.detect_document(result)
        result.entities, result.evidence = found.entities, found.evidence
        if extractor is not None:
            result.attributions = extractor.extract_document(result.title, result.text,
                                                             result.language)
        if store is not None:
            from tocsin.stories.queries import story_of

            story = story_of(store.engine, result.doc_hash)
            if story:
                result.meta["_story"] = story
    return result


def analyze(inputs: Inputs, limits: Limits, text_stage: TextStage, detector: Detector,
            extractor: AttributionExtractor | None = None,
            store: Store | None = None) -> Iterator[Document | Rejection]:
    for item in inputs.read(limits):
        yield item if isinstance(item, Rejection) else \
            analyze_one(item, text_stage, detector, extractor, store)
