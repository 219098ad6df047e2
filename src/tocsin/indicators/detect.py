"""The detection stage: a pack, compiled (cached), and a matcher over documents."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tocsin.indicators.compiler import CompiledPack, compile_pack, load_cached
from tocsin.indicators.matcher import Detection, Matcher
from tocsin.indicators.pack import Example, Pack, load_pack, pack_digest, read_meta, resolve_pack
from tocsin.model import Document
from tocsin.text.normalize import normalize
from tocsin.text.sentences import SentenceSplitter
from tocsin.text.titles import title_repeated


class Detector:
    """Reads Document.text, language and sentences; assigns entities and evidence.

    ``pack`` is the pack as read from its YAML files, or the folder it is read from when
    it is first asked for: detection needs only the compiled pack, so a start from the
    cache parses no YAML (the examples, `rules test` and the evaluation do).
    """

    def __init__(self, pack: Pack | Path, compiled: CompiledPack, matcher: Matcher,
                 splitter: SentenceSplitter) -> None:
        self._pack = pack if isinstance(pack, Pack) else None
        self.pack_path = pack.path if isinstance(pack, Pack) else pack
        self.compiled = compiled
        self.matcher = matcher
        self.splitter = splitter

    @property
    def pack(self) -> Pack:
        if self._pack is None:
            self._pack = load_pack(self.pack_path)
        return self._pack

    @classmethod
    def load(cls, pack: str | Path | None = None, cache_dir: Path | None = None) -> Detector:
        path = resolve_pack(pack)
        cached = load_cached(cache_dir, str(read_meta(path)["id"]), pack_digest(path))
        if cached is not None:
            return cls(path, cached, Matcher(cached), SentenceSplitter())
        loaded = load_pack(path)
        compiled = compile_pack(loaded, cache_dir)
        return cls(loaded, compiled, Matcher(compiled), SentenceSplitter())

    def detect(self, text: str, language: str,
               sentences: list[tuple[int, int]] | None = None) -> Detection:
        if sentences is None:
            sentences = self.splitter.split(text, language)
        return self.matcher.detect(text, language, sentences)

    def detect_document(self, doc: Document) -> Detection:
        """The title and the text of a document. Title evidence carries ``field="title"``
        and offsets into the title; a title the text repeats is not scanned twice."""
        return self.detect_fields(doc.title, doc.text, doc.language, doc.sentences)

    def detect_fields(self, title: str | None, text: str, language: str,
                      sentences: list[tuple[int, int]] | None = None) -> Detection:
        found = self.detect(text, language, sentences)
        title = title or ""
        if title.strip() and not title_repeated(title, text):
            in_title = self.detect(title, language)
            for hit in in_title.entities:
                hit.field = "title"
            for evidence in in_title.evidence:
                evidence.field = "title"
            found = Detection(in_title.entities + found.entities,
                              in_title.evidence + found.evidence)
        return found

    def detect_sentence(self, text: str, language: str) -> Detection:
        """One sentence (pack examples, evaluation): normalised, never split."""
        text = normalize(text)
        return self.matcher.detect(text, language, [(0, len(text))] if text else [])


@dataclass(frozen=True)
class ExampleResult:
    indicator: str
    example: Example
    ok: bool
    problem: str


def run_examples(detector: Detector) -> list[ExampleResult]:
    """Every example of every indicator: matches that must match (with the polarity
    given), non-matches that must not."""
    results: list[ExampleResult] = []
    for indicator in detector.pack.indicators:
        for example in indicator.examples:
            found = [e for e in detector.detect_sentence(example.text, example.language).evidence
                     if e.indicator == indicator.id]
            problem = ""
            if example.expect and not found:
                problem = "did not match"
            elif not example.expect and found:
                problem = f"matched ({', '.join(found[0].terms)})"
            elif example.expect and example.polarity and found[0].polarity != example.polarity:
                problem = f"polarity {found[0].polarity}, expected {example.polarity}"
            results.append(ExampleResult(indicator.id, example, not problem, problem))
    return results
