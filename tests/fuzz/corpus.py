"""A deterministic corpus of good and hostile inputs for ingest, written into one folder.

``write_corpus(folder, seed)`` writes about ``bad`` odd or broken inputs and ``good``
clean ones (txt, md, html, json, jsonl, gzip, RSS, Atom in four languages) and returns
a Manifest: for each path, its kind, its family of fault, and the serials of the
documents it must yield. The same seed always writes the same bytes; no network.

Some inputs once broke ingest (``REGRESSIONS`` says how); they are part of the corpus,
and ``write_regression_inputs`` writes them alone for a test of their own.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.faults import CONTENT_FAMILIES, Variant, impossible_offsets
from tests.fuzz.faults_files import (
    FILE_FAMILIES,
    byte_names,
    feed_offset_dates,
    feed_year_zero,
    html_offset_date,
)
from tests.fuzz.texts import Ctx, Spec, atom, dumps, gz, html_page, lines, rfc822, rss

REGRESSIONS = {
    "tz-offset": "a published date with a UTC offset of 24 h or more (+25:00, +2500) "
                 "raised ValueError in parse_published and stopped the whole ingest run",
    "feed-year-0": "a feed item dated \"0000\" or \"0000-00-00\" (year 0 or -1 to "
                   "feedparser) raised ValueError and stopped the whole ingest run",
    "bytes-name": "a file whose name is not UTF-8 (legal on Linux) kept surrogate escapes "
                  "in its origin, SQLite refused the row and the document was quarantined",
}
# the variants whose inputs trigger each bug
BUG_VARIANTS: dict[str, list[Variant]] = {
    "tz-offset": [impossible_offsets, feed_offset_dates, html_offset_date],
    "feed-year-0": [feed_year_zero],
    "bytes-name": [byte_names],
}
FAMILIES: dict[str, tuple[float, list[Variant]]] = {**CONTENT_FAMILIES, **FILE_FAMILIES}


@dataclass(frozen=True)
class Entry:
    """One path in the corpus folder (relative to it, as the folder walk names it)."""

    path: str
    kind: str  # "good" or "bad"
    family: str
    variant: str
    serials: tuple[str, ...] = ()  # the documents it must yield
    trace: bool = True  # False for a link to a folder: it is walked, not read
    twin: str | None = None  # same content as the other entries of this group
    bug: str | None = None

    @property
    def expected(self) -> int:
        return len(self.serials)


@dataclass
class Manifest:
    root: Path
    entries: list[Entry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # names the filesystem refused

    def of_kind(self, kind: str) -> list[Entry]:
        return [e for e in self.entries if e.kind == kind]

    def expected_serials(self) -> set[str]:
        return {s for e in self.entries for s in e.serials}

    def families(self) -> Counter[str]:
        return Counter(e.family for e in self.entries)

    def files(self) -> list[Entry]:
        """Entries that must leave a trace: a document, a quarantine row, or a twin."""
        return [e for e in self.entries if e.trace]


# -- good inputs ---------------------------------------------------------------------------
def good_txt(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    return Spec(".txt", ctx.text(serial, count=3).encode(), serials=(serial,))


def good_md(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    lang = ctx.lang()
    text = f"# {ctx.title(lang)}\n\n" + "\n\n".join(ctx.sentences(serial, lang, 3)) + "\n"
    return Spec(ctx.rng.choice([".md", ".markdown"]), text.encode(), serials=(serial,))


def good_html(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    page = html_page(ctx, serial, published=ctx.date())
    return Spec(ctx.rng.choice([".html", ".htm"]), page.encode(), serials=(serial,))


def good_json_object(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    return Spec(".json", dumps(ctx.record(serial), ctx.rng).encode(), serials=(serial,))


def good_json_array(ctx: Ctx) -> Spec:
    serials = tuple(ctx.serial() for _ in range(ctx.rng.randint(2, 4)))
    data = dumps([ctx.record(s) for s in serials], ctx.rng).encode()
    return Spec(".json", data, serials=serials)


def good_jsonl(ctx: Ctx) -> Spec:
    serials = tuple(ctx.serial() for _ in range(ctx.rng.randint(1, 6)))
    rows = [dumps(ctx.record(s), ctx.rng) for s in serials]
    return Spec(ctx.rng.choice([".jsonl", ".ndjson"]), lines(rows), serials=serials)


def good_headlines(ctx: Ctx) -> Spec:
    """Headline-only items: the title stands for the text (README)."""
    serials = tuple(ctx.serial() for _ in range(ctx.rng.randint(1, 3)))
    rows = [dumps(ctx.record(s, text=None, title=f"{ctx.title(ctx.lang())} ({s})"))
            for s in serials]
    return Spec(".jsonl", lines(rows), serials=serials)


def good_html_records(ctx: Ctx) -> Spec:
    serials = tuple(ctx.serial() for _ in range(ctx.rng.randint(1, 3)))
    rows = []
    for s in serials:
        html = "".join(f"<p>{x}</p>" for x in ctx.sentences(s, count=2))
        rows.append(dumps(ctx.record(s, text=ctx.rng.choice([None, ""]) or None, html=html)))
    return Spec(".jsonl", lines(rows), serials=serials)


def good_jsonl_gz(ctx: Ctx) -> Spec:
    serials = tuple(ctx.serial() for _ in range(ctx.rng.randint(1, 6)))
    data = gz(lines([dumps(ctx.record(s), ctx.rng) for s in serials]))
    return Spec(".jsonl.gz", data, serials=serials)


def good_gz_document(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    suffix = ctx.rng.choice([".json.gz", ".txt.gz", ".html.gz"])
    data = {".json.gz": dumps(ctx.record(serial)), ".txt.gz": ctx.text(serial),
            ".html.gz": html_page(ctx, serial)}[suffix]
    return Spec(suffix, gz(data.encode()), serials=(serial,))


def good_rss(ctx: Ctx) -> Spec:
    serials = tuple(ctx.serial() for _ in range(ctx.rng.randint(1, 4)))
    items = [(ctx.title(lang), ctx.text(s, lang), rfc822(ctx))
             for s in serials for lang in [ctx.lang()]]
    return Spec(ctx.rng.choice([".rss", ".xml"]), rss(ctx, items, "Лента новостей").encode(),
                serials=serials)


def good_atom(ctx: Ctx) -> Spec:
    serials = tuple(ctx.serial() for _ in range(ctx.rng.randint(1, 4)))
    items = [(ctx.title(lang), ctx.text(s, lang), ctx.date())
             for s in serials for lang in [ctx.lang()]]
    return Spec(ctx.rng.choice([".atom", ".xml"]), atom(ctx, items, "Fil d'actualité").encode(),
                serials=serials)


def good_bom_crlf(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    text = "\ufeff" + "\r\n\r\n".join(ctx.sentences(serial, count=3)) + "\r\n"
    return Spec(ctx.rng.choice([".txt", ".md"]), text.encode(), serials=(serial,))


GOOD_VARIANTS: list[Variant] = [
    good_txt, good_md, good_html, good_json_object, good_json_array, good_jsonl,
    good_headlines, good_html_records, good_jsonl_gz, good_gz_document, good_rss, good_atom,
    good_bom_crlf,
]


# -- writing ---------------------------------------------------------------------------------
Group = tuple[str, str, str, list[Spec]]  # kind, family, variant, specs


def _as_list(specs: Spec | list[Spec]) -> list[Spec]:
    return specs if isinstance(specs, list) else [specs]


def _size(specs: list[Spec]) -> int:
    return sum(1 + len(s.reached) for s in specs)


def _plan(ctx: Ctx, bad: int, good: int) -> list[Group]:
    groups: list[Group] = []
    written = 0
    turn = 0
    while written < good:
        variant = GOOD_VARIANTS[turn % len(GOOD_VARIANTS)]
        turn += 1
        specs = _as_list(variant(ctx))
        groups.append(("good", "good", variant.__name__, specs))
        written += _size(specs)
    names = list(FAMILIES)
    weights = [FAMILIES[n][0] for n in names]
    turns: Counter[str] = Counter()
    written = 0
    while written < bad:
        family = ctx.rng.choices(names, weights)[0]
        variants = FAMILIES[family][1]
        variant = variants[turns[family] % len(variants)]
        turns[family] += 1
        specs = _as_list(variant(ctx))
        groups.append(("bad", family, variant.__name__, specs))
        written += _size(specs)
    return groups


def _name(pos: int, k: int, variant: str, spec: Spec) -> str:
    base = f"{pos:05d}-{k}" if k else f"{pos:05d}"
    if isinstance(spec.stem, bytes):
        return os.fsdecode(base.encode() + spec.stem + spec.suffix.encode())
    if spec.stem is not None:
        return base + spec.stem + spec.suffix
    return f"{base}-{variant}{spec.suffix}"


def _link_target(link: str, paths: list[str], rel: str, hidden: str) -> str:
    here = os.path.dirname(rel) or "."
    if link == "@self":
        return os.path.basename(rel)
    if link.startswith("@hidden"):
        return os.path.relpath(hidden + link.removeprefix("@hidden"), here)
    if link.startswith("@"):
        return os.path.relpath(paths[int(link[1:])], here)
    return link


def write_corpus(folder: Path, seed: int = 0, bad: int = 2100, good: int = 450, *,
                 order: str = "mixed", max_file_bytes: int = 65_536,
                 max_document_chars: int = 20_000) -> Manifest:
    """Write the corpus into ``folder``; ``order`` is "mixed" or "bad-first" (the walk
    reads a folder in name order, and names start with the position)."""
    ctx = Ctx(random.Random(seed), max_file_bytes=max_file_bytes,
              max_document_chars=max_document_chars)
    groups = _plan(ctx, bad, good)
    if order == "mixed":
        ctx.rng.shuffle(groups)
    elif order == "bad-first":
        groups.sort(key=lambda g: g[0] == "good")
    else:
        raise ValueError(f"order must be 'mixed' or 'bad-first', not {order!r}")
    return _write(folder, groups)


def write_regression_inputs(folder: Path, bug: str, seed: int = 0,
                            copies: int = 2) -> Manifest:
    """Only the inputs of one of REGRESSIONS, each variant ``copies`` times."""
    ctx = Ctx(random.Random(seed))
    groups: list[Group] = [("bad", "regression", v.__name__, _as_list(v(ctx)))
                           for v in BUG_VARIANTS[bug] for _ in range(copies)]
    return _write(folder, groups)


def _write(folder: Path, groups: list[Group]) -> Manifest:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(folder)
    for pos, (kind, family, variant, specs) in enumerate(groups):
        paths = []
        for k, spec in enumerate(specs):
            name = _name(pos, k, variant, spec)
            paths.append(f"g{pos:05d}-{spec.under}/{name}" if spec.under else name)
        hidden = f".targets/g{pos:05d}"
        for spec, rel in zip(specs, paths, strict=True):
            target = folder / rel
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                for name, data in spec.hidden.items():
                    (folder / hidden).mkdir(parents=True, exist_ok=True)
                    (folder / hidden / name).write_bytes(data)
                if spec.link is not None:
                    target.symlink_to(_link_target(spec.link, paths, rel, hidden))
                else:
                    target.write_bytes(spec.data or b"")
            except (OSError, UnicodeError) as exc:  # a name this filesystem refuses
                manifest.skipped.append(f"{rel!r}: {exc}")
                continue
            twin = f"g{pos:05d}" if spec.twin else None
            manifest.entries.append(Entry(rel, kind, family, variant, spec.serials,
                                          trace=not target.is_dir(), twin=twin, bug=spec.bug))
            for name, serials in spec.reached.items():
                manifest.entries.append(Entry(f"{rel}/{name}", kind, family, variant, serials,
                                              bug=spec.bug))
    return manifest
