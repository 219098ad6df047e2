"""`tocsin analyze` and ``tocsin.analyze``: clean texts, detect warning signs, find
attributions; store nothing (a store, when given, lends its registry and stories)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tocsin.model import Document, RawItem, Rejection

if TYPE_CHECKING:  # the store only when one is given: analysis alone stays light
    from collections.abc import Sequence

    from tocsin.config import Settings
    from tocsin.indicators.detect import Detector
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


# ------------------------------------------------------------------ the library's way in
_detectors: dict[tuple[str, str, str], Detector] = {}


def detector_for(settings: Settings, pack: str | None) -> Detector:
    """The compiled pack, loaded once per process and content (a pack edited meanwhile
    is loaded afresh: the key is a digest of its files)."""
    from tocsin.indicators.detect import Detector
    from tocsin.indicators.pack import pack_digest, resolve_pack

    path = resolve_pack(pack or settings.pack)
    key = (str(path), pack_digest(path), str(settings.pack_cache))
    if key not in _detectors:
        _detectors[key] = Detector.load(path, settings.pack_cache)
    return _detectors[key]


_analyzers: dict[tuple[Any, ...], Analyzer] = {}


def analyze(text: str, *, title: str | None = None, language: str | None = None,
            pack: str | None = None, source: str = "", url: str | None = None,
            published_at: str | None = None, settings: Settings | None = None
            ) -> dict[str, Any]:
    """Detect warning signs in one text; stores nothing.

    Returns the object that one line of ``tocsin analyze --format jsonl`` prints for a
    document: origin, id, source, title, url, published_at, date_flag, language,
    entities, evidence, attributions. A text that cannot be a document (empty, no
    letters allowed by the limits...) raises :class:`tocsin.errors.InputError`.
    """
    from tocsin.errors import InputError
    from tocsin.model import RawItem, Rejection

    if settings is None:
        from tocsin.config import load_settings

        settings = load_settings()
    # one analyzer per pack and settings: language models load once, not per call
    key = (pack, settings.model_dump_json(include={"pack", "cache_dir", "data_dir",
                                                   "languages", "limits"}))
    analyzer = _analyzers.get(key)
    if analyzer is None or analyzer.detector is not detector_for(settings, pack):
        analyzer = _analyzers[key] = Analyzer(settings, pack)
    item = RawItem(origin="<text>", source=source, text=text, title=title, url=url,
                   published=published_at, language=language)
    result = analyzer.one(item)
    if isinstance(result, Rejection):
        raise InputError(result.reason, result.message, "<text>")
    return document_record(result)


class Analyzer:
    """Clean, detect and attribute documents without storing them (``tocsin analyze``)."""

    def __init__(self, settings: Settings, pack: str | None = None,
                 store: Store | None = None) -> None:
        from tocsin.stories.attribution import AttributionExtractor, SourceIndex
        from tocsin.text.prepare import make_text_stage

        self.settings = settings
        self.detector = detector_for(settings, pack)
        self.stage = make_text_stage(settings.languages, settings.limits)
        self.store = store
        names: list[dict[str, Any]] = []
        if store is not None:  # the registry names the sources attributions cite
            from tocsin.store.registry import source_names

            names = source_names(store.engine)
        self.extractor = AttributionExtractor(SourceIndex(names), settings.languages)

    def one(self, item: Any) -> Document | Rejection:
        return analyze_one(item, self.stage, self.detector, self.extractor, self.store)

    def files(self, paths: Sequence[str], source: str = "") -> Iterator[Document | Rejection]:
        from tocsin.sources.inputs import Inputs

        for item in Inputs(list(paths), default_source=source).read(self.settings.limits):
            yield item if isinstance(item, Rejection) else self.one(item)
