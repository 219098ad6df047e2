"""`tocsin rules lint`: every problem of a pack, with file:line and a severity.

Each check is a small function returning issues (in the spirit of pySigma's validators).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from tocsin.indicators import CATEGORIES
from tocsin.indicators.pack import Pack
from tocsin.indicators.yamlfile import LINE, strip_lines

ERROR, WARNING = "error", "warning"
ENTITY_CONCEPTS = {"weapon", "weapon-dual", "weapon-nuclear-only", "actor", "organization",
                   "place", "speaker", "state-actor", "watch-area"}


@dataclass(frozen=True, order=True)
class Issue:
    where: str
    severity: str
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.severity}: {self.message} [{self.check}]"


def _schema() -> dict[str, Any]:
    text = resources.files("tocsin.indicators").joinpath(
        "schema/indicator.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def check_schema(pack: Pack) -> Iterator[Issue]:
    validator = Draft202012Validator(_schema())
    for file, data in pack.files.items():
        if "/indicators/" not in file.replace("\\", "/"):
            continue
        for error in validator.iter_errors(strip_lines(data)):
            line = _deepest_line(data, list(error.absolute_path))
            path = "/".join(str(p) for p in error.absolute_path)
            yield Issue(f"{file}:{line}" if line else file, ERROR, "schema",
                        f"{path or '(file)'}: {error.message}")


def _deepest_line(data: Any, path: list[Any]) -> int | None:
    line = data.get(LINE) if isinstance(data, dict) else None
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and LINE in node:
            line = node[LINE]
    return line


def check_unique_ids(pack: Pack) -> Iterator[Issue]:
    seen = Counter(i.id for i in pack.indicators)
    for indicator in pack.indicators:
        if seen[indicator.id] > 1:
            yield Issue(indicator.where, ERROR, "unique-id", f"indicator id {indicator.id!r} is "
                        "used more than once")
    entity_ids = Counter((e.type, e.id) for e in pack.entities)
    for entity in pack.entities:
        if entity_ids[(entity.type, entity.id)] > 1:
            yield Issue(entity.where, ERROR, "unique-id", f"{entity.type} id {entity.id!r} is used "
                        "more than once")


def check_concepts(pack: Pack) -> Iterator[Issue]:
    known = pack.concept_names() | ENTITY_CONCEPTS
    entity_ids = {f"{e.type}:{e.id}" for e in pack.entities}
    for indicator in pack.indicators:
        for clause in indicator.clauses:
            for name in (*clause.all, *clause.any, *clause.none):
                if name == "self":
                    if not indicator.terms:
                        yield Issue(indicator.where, ERROR, "concepts", f"{indicator.id}: uses "
                                    "`self` but has no `terms`")
                    continue
                if name in known or name in entity_ids:
                    continue
                if name.split(":", 1)[0] in ("country", "role"):
                    continue
                yield Issue(indicator.where, ERROR, "concepts", f"{indicator.id}: unknown concept "
                            f"{name!r} (not in any languages/*.yaml nor an entity)")
    # pack.yaml names concepts too: anchors, overrides, sentence-wide exclusions
    named = [("anchors", n) for n in pack.anchors]
    named += [("sentence_exclusions", n) for n in pack.sentence_exclusions]
    for excluded, lifted_by in pack.overrides.items():
        named += [("overrides", excluded)] + [("overrides", n) for n in lifted_by]
    for key, name in named:
        if name in known or name in entity_ids or name.split(":", 1)[0] in ("country", "role"):
            continue
        yield Issue(str(pack.path / "pack.yaml"), ERROR, "concepts", f"{key}: unknown concept "
                    f"{name!r} (not in any languages/*.yaml nor an entity)")


def check_language_coverage(pack: Pack) -> Iterator[Issue]:
    for language in pack.languages:
        if language not in pack.concepts:
            yield Issue(str(pack.path / "languages"), ERROR, "languages",
                        f"no languages/{language}.yaml for a language the pack declares")
    names = pack.concept_names()
    for language, concepts in pack.concepts.items():
        for name in sorted(names - set(concepts)):
            yield Issue(str(pack.path / "languages" / f"{language}.yaml"), WARNING, "languages",
                        f"concept {name!r} has no terms in {language}")
    for entity in pack.entities:
        missing = [lang for lang in pack.languages if not entity.names.get(lang)]
        if missing:
            yield Issue(entity.where, WARNING, "languages",
                        f"{entity.type} {entity.id!r} has no names in {', '.join(missing)}")


def check_examples(pack: Pack) -> Iterator[Issue]:
    for indicator in pack.indicators:
        positives = {e.language for e in indicator.examples if e.expect}
        negatives = [e for e in indicator.examples if not e.expect]
        if not positives or not negatives:
            yield Issue(indicator.where, ERROR, "examples", f"{indicator.id}: needs at least one "
                        "`match` and one `nomatch` example")
        elif len(positives) < 2:
            yield Issue(indicator.where, WARNING, "examples", f"{indicator.id}: `match` examples "
                        f"in one language only ({', '.join(sorted(positives))})")
        for example in indicator.examples:
            if example.language not in pack.languages:
                yield Issue(example.where, ERROR, "examples", f"example language "
                            f"{example.language!r} is not a language of the pack")


def check_terms(pack: Pack) -> Iterator[Issue]:
    """A `*` matches only at the end of a term: elsewhere the term can never match."""
    where = {language: str(pack.path / "languages" / f"{language}.yaml")
             for language in pack.concepts}
    named: list[tuple[str, str, str]] = []
    for language, concepts in pack.concepts.items():
        named += [(where[language], name, t) for name, terms in concepts.items() for t in terms]
    for language, cues in pack.cues.items():
        named += [(where[language], kind, t) for kind, terms in cues.items() for t in terms]
    for indicator in pack.indicators:
        named += [(indicator.where, indicator.id, t) for terms in indicator.terms.values()
                  for t in terms]
    for file, name, term in named:
        if "*" in term[:-1]:
            yield Issue(file, ERROR, "terms", f"{name}: {term!r} has a `*` before its end; "
                        "it can never match (write the forms out, or end the term there)")


def check_categories(pack: Pack) -> Iterator[Issue]:
    covered = {i.category for i in pack.indicators}
    for category in CATEGORIES:
        if category not in covered:
            yield Issue(str(pack.path / "indicators"), WARNING, "categories",
                        f"no indicator covers the category {category!r}")


CHECKS: tuple[Callable[[Pack], Iterator[Issue]], ...] = (
    check_schema, check_unique_ids, check_concepts, check_language_coverage, check_examples,
    check_terms, check_categories,
)


def lint(pack: Pack) -> list[Issue]:
    return sorted(issue for check in CHECKS for issue in check(pack))


def relative(issue: Issue, root: Path) -> Issue:
    where = issue.where
    try:
        where = str(Path(where.split(":")[0]).relative_to(root.parent)) + (
            ":" + where.split(":", 1)[1] if ":" in where else "")
    except ValueError:
        pass
    return Issue(where, issue.severity, issue.check, issue.message)
