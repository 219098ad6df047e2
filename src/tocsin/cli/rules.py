"""Commands about indicator packs and detection: `rules lint|test`, `analyze`, `eval`,
`redetect`."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from tocsin.cli.common import EXIT_REJECTED, api, app, context, err, handled, line, out

if TYPE_CHECKING:
    from tocsin.indicators.evaluate import Counts
    from tocsin.indicators.matcher import Evidence
    from tocsin.model import Document


class TableOrJson(StrEnum):
    table = "table"
    json = "json"


POLARITY_STYLE = {"asserted": "bold red", "denied": "green", "hypothetical": "yellow",
                  "reported": "cyan"}
PackOption = Annotated[str | None, typer.Option("--pack", help="Pack name or folder "
                                                "(default: the `pack` setting, nuclear).")]


def highlighted(sentence: str, start: int, spans: list[tuple[int, int]] | list[list[int]]
                ) -> Text:
    """The sentence as rich Text (never parsed as markup), matched terms highlighted."""
    text = Text(sentence)
    for a, b in spans:
        text.stylize("bold underline magenta", a - start, b - start)
    return text


def evidence_line(evidence: Evidence) -> Text:
    head = Text.assemble(
        (f"{evidence.category}", "bold"), " ",
        (evidence.polarity, POLARITY_STYLE.get(evidence.polarity, "")), " ",
        (f"{evidence.indicator} (severity {evidence.severity})", "dim"),
    )
    entities = ", ".join(f"{k}={v}" for k, v in (("actor", evidence.actor),
                         ("place", evidence.place), ("weapon", evidence.weapon)) if v)
    if entities:
        head.append(f"  [{entities}]", style="dim")
    if evidence.field == "title":
        head.append("  [title]", style="dim")
    return Text.assemble(head, "\n    ",
                         highlighted(evidence.sentence, evidence.start, evidence.spans))


rules = typer.Typer(help="Indicator packs: lint them, run their examples.", no_args_is_help=True)
app.add_typer(rules, name="rules")


def _eval_reviews(ctx: typer.Context, pack: str | None, fmt: str) -> None:
    with api(ctx) as t:
        result = t.review_precision(pack)
    if fmt == "json":
        out.print(json.dumps(result, ensure_ascii=False, indent=1), markup=False,
                  highlight=False, soft_wrap=True)
        return
    table = Table(title=f"Precision from analysts' reviews ({result['reviewed']} pieces "
                        f"of evidence reviewed; the latest verdict on each counts)")
    for column in ("indicator", "true", "false", "precision"):
        table.add_column(column)
    for name, row in result["indicators"].items():
        table.add_row(name, str(row["true"]), str(row["false"]), f"{row['precision']:.2f}")
    table.add_row("all", str(result["true"]), str(result["false"]),
                  f"{result['precision']:.2f}" if result["precision"] is not None else "-",
                  style="bold")
    out.print(table)


@rules.command("lint")
def rules_lint(
    ctx: typer.Context,
    pack: Annotated[str | None, typer.Argument(help="Pack name or folder.")] = None,
) -> None:
    """Check a pack: schema, ids, concepts, languages, examples. Exit 1 on errors."""
    from tocsin.indicators.lint import ERROR, lint, relative
    from tocsin.indicators.pack import load_pack

    with handled():
        loaded = load_pack(pack or context(ctx).settings.pack)
    issues = [relative(i, loaded.path) for i in lint(loaded)]
    for issue in issues:
        style = "red" if issue.severity == ERROR else "yellow"
        out.print(Text(str(issue), style=style), soft_wrap=True)
    errors = sum(1 for i in issues if i.severity == ERROR)
    out.print(Text(f"{loaded.id}: {len(loaded.indicators)} indicators, "
                   f"{len(loaded.entities)} entities: {errors} errors, "
                   f"{len(issues) - errors} warnings", style="bold"))
    if errors:
        raise typer.Exit(1)


@rules.command("test")
def rules_test(
    ctx: typer.Context,
    pack: Annotated[str | None, typer.Argument(help="Pack name or folder.")] = None,
) -> None:
    """Run every indicator's examples; fail on any miss. Exit 1 on failures."""
    from tocsin.api import detector_for
    from tocsin.indicators.detect import run_examples

    with handled():
        detector = detector_for(context(ctx).settings, pack)
    results = run_examples(detector)
    failed = [r for r in results if not r.ok]
    for result in failed:
        out.print(Text(f"{result.example.where}: {result.indicator} "
                       f"[{result.example.language}] {result.problem}: ", style="red"),
                  Text(result.example.text), soft_wrap=True)
    out.print(Text(f"{len(results) - len(failed)} passed, {len(failed)} failed",
                   style="bold red" if failed else "bold green"))
    if failed:
        raise typer.Exit(1)


@app.command("redetect")
def redetect_command(ctx: typer.Context, pack: PackOption = None) -> None:
    """Run detection again on every stored document (after a pack changed)."""
    with api(ctx) as t:
        documents, evidence = t.redetect(pack)
        detector = t.detector(pack)
    out.print(Text(f"{documents:,} documents: {evidence:,} pieces of evidence "
                   f"({detector.pack.id} {detector.pack.version}); alerts are brought "
                   f"up to date by the next ingest or `tocsin realert`"))


@app.command("analyze")
def analyze_command(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Files or folders; '-' reads JSON "
                                                    "Lines from standard input.")],
    pack: PackOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f",
                                     help="jsonl (one object per document) or table.")]
    = "jsonl",
    with_text: Annotated[bool, typer.Option("--with-text",
                                            help="Include the normalised text.")] = False,
    source: Annotated[str, typer.Option(help="Source name for inputs that name none.")]
    = "",
) -> None:
    """Detect warning signs in files without storing them."""
    from tocsin.analysis import document_record
    from tocsin.api import Analyzer, Tocsin
    from tocsin.model import Rejection

    if fmt not in ("jsonl", "table"):
        raise typer.BadParameter("use jsonl or table", param_hint="--format")
    rejected = 0
    with handled():
        settings = context(ctx).settings
        # Read only: the source registry and the stories of stored documents. A default
        # SQLite store that does not exist yet is not created for this.
        stored = settings.db or (settings.data_dir / "tocsin.db").exists()
        handle = Tocsin(settings) if stored else None
        try:
            analyzer = Analyzer(settings, pack, handle.store if handle else None)
            for result in analyzer.files(paths, source):
                if isinstance(result, Rejection):
                    rejected += 1
                    where = result.origin + (f":{result.line}" if result.line else "")
                    err.print(Text(f"rejected {where}: {result.reason}: {result.message}",
                                   style="yellow"))
                elif fmt == "jsonl":
                    line(document_record(result, with_text))
                else:
                    _print_document(result, with_text)
        finally:
            if handle is not None:
                handle.close()
    if rejected:
        raise typer.Exit(EXIT_REJECTED)


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    pack: PackOption = None,
    fmt: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.table,
    errors: Annotated[bool, typer.Option("--errors", help="Also list every error.")]
    = False,
    which: Annotated[str, typer.Option("--set", help="tuning (eval/*.jsonl), holdout "
                                                     "(eval/holdout/*.jsonl, never tuned on) "
                                                     "or real (eval/real/: labelled items of "
                                                     "real published streams)")]
    = "tuning",
    real_dir: Annotated[str | None, typer.Option("--real-dir", help="Folder of the real "
                                                 "streams (.jsonl.gz) for --set real; or "
                                                 "TOCSIN_REAL_DIR")] = None,
    stories: Annotated[bool, typer.Option("--stories", help="Evaluate story clustering "
                                          "(labelled pairs) and attributions instead.")]
    = False,
    reviews: Annotated[bool, typer.Option("--reviews", help="Precision from analysts' "
                                          "reviews of stored evidence instead "
                                          "(`tocsin review`).")] = False,
) -> None:
    """Precision, recall and F1 of detection on the pack's labelled sentences."""
    from tocsin.api import detector_for

    if reviews:
        _eval_reviews(ctx, pack, fmt)
        return
    if stories:
        from tocsin.stories.evaluate import evaluate_stories

        result = evaluate_stories()
        if fmt == "json":
            out.print(json.dumps(result.as_dict(), ensure_ascii=False, indent=1),
                      markup=False, highlight=False, soft_wrap=True)
            return
        _print_stories_eval(result)
        return
    with handled():
        settings = context(ctx).settings
        detector = detector_for(settings, pack)
        if which == "real":
            _eval_real(settings, detector, fmt, errors, real_dir)
            return
        from tocsin.indicators.evaluate import evaluate

        report = evaluate(detector, which=which)
    if fmt == "json":
        _print_report_json(report, errors)
        return
    _print_eval(report, errors)


def _print_document(doc: Document, with_text: bool) -> None:
    from tocsin.alerts.feed import printable

    date = doc.published_at.strftime("%Y-%m-%d %H:%M") if doc.published_at else "?"
    out.print(Text.assemble((printable(doc.origin), "bold"), f"  {doc.language}  {date}  ",
                            (printable(doc.source), "cyan"), "  ",
                            (printable(doc.title or ""), "italic")))
    for attribution in doc.attributions:
        who = " / ".join(x for x in (attribution.speaker, attribution.source) if x)
        out.print(Text(f"  attribution: {who} ({attribution.text})", style="dim"))
    if doc.meta.get("_story"):
        story = doc.meta["_story"]
        out.print(Text(f"  story {story['story_id']} ({story['size']} documents), origin "
                       f"{story['origin_name']}", style="dim"))
    if doc.entities:
        names = sorted({f"{e.type}:{e.name}" for e in doc.entities})
        out.print(Text("  entities: " + ", ".join(names), style="dim"))
    for evidence in doc.evidence:
        out.print(Text("  ") + evidence_line(evidence))
    if not doc.evidence:
        out.print(Text("  no warning signs", style="dim"))
    if with_text:
        out.print(Text(doc.text), style="dim")
    out.print()


def _print_stories_eval(result: Any) -> None:
    table = _counts_table("Stories: labelled document pairs (same story or not)")
    _row(table, "all pairs", result.pairs)
    for language, counts in sorted(result.by_language.items()):
        _row(table, f"language {language}", counts)
    _row(table, "attributions", result.attributions)
    out.print(table)
    for label, counts in sorted(result.by_label.items()):
        out.print(Text(f"{label}: merged {counts.get('merged', 0)}, apart "
                       f"{counts.get('apart', 0)}"))
    out.print(Text(f"attributed source named right: "
                   f"{result.as_dict()['attribution_source_accuracy']:.3f}"))


def _row(table: Table, name: str, counts: Counts) -> None:
    table.add_row(name, str(counts.tp), str(counts.fp), str(counts.fn),
                  f"{counts.precision:.3f}", f"{counts.recall:.3f}", f"{counts.f1:.3f}")


def _print_eval(report: Any, errors: bool) -> None:
    table = _counts_table(f"Detection on {report.sentences} labelled sentences "
                          "(sentence × category)")
    _row(table, "overall", report.overall)
    table.add_section()
    for name, counts in sorted(report.by_category.items()):
        _row(table, name, counts)
    table.add_section()
    for name, counts in sorted(report.by_language.items()):
        _row(table, f"language {name}", counts)
    table.add_section()
    _row(table, "any category (tocsin)", report.sentence_level)
    _row(table, "keyword baseline", report.keyword)
    out.print(table)
    polarity = Table(title=f"Polarity accuracy {report.polarity_accuracy:.3f} "
                           f"({report.polarity_correct}/{report.polarity_total})")
    polarity.add_column("labelled \\ found")
    kinds = ("asserted", "denied", "hypothetical", "reported")
    for kind in kinds:
        polarity.add_column(kind, justify="right")
    for kind in kinds:
        row = report.by_polarity.get(kind, {})
        polarity.add_row(kind, *[str(row.get(k, 0)) for k in kinds])
    out.print(polarity)
    _print_errors(report, errors)


def _print_report_json(report: Any, errors: bool) -> None:
    data = report.as_dict()
    if errors:
        data["errors"] = report.errors
    out.print(json.dumps(data, ensure_ascii=False, indent=1), markup=False, highlight=False,
              soft_wrap=True)


def _print_errors(report: Any, errors: bool) -> None:
    if errors:
        for error in report.errors:
            out.print(Text(json.dumps(error, ensure_ascii=False)))


def _counts_table(title: str) -> Table:
    table = Table(title=title)
    for column in ("", "tp", "fp", "fn", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if not column else "right")
    return table


def _eval_real(settings: Any, detector: Any, fmt: Any, errors: bool,
               real_dir: str | None) -> None:
    """`tocsin eval --set real`: post-level scores on the labelled real items."""
    from tocsin.errors import TocsinError
    from tocsin.indicators.realeval import evaluate_real, find_real_dir
    from tocsin.pipeline import make_text_stage

    folder = find_real_dir(real_dir)
    if folder is None:
        raise TocsinError("no folder of real streams: give --real-dir DIR or set "
                          "TOCSIN_REAL_DIR (the labels name items of ../shared/data/real)")
    stage = make_text_stage(settings.languages, settings.limits)
    report = evaluate_real(detector, stage, folder)
    if fmt == "json":
        _print_report_json(report, errors)
        return
    table = _counts_table(f"Detection on {report.items} labelled real items (post level)")
    _row(table, "overall", report.overall)
    _row(table, "keyword baseline", report.keyword)
    table.add_section()
    for name, counts in sorted(report.by_language.items()):
        _row(table, f"language {name}", counts)
        _row(table, f"  keyword {name}", report.keyword_by_language[name])
    table.add_section()
    for name, counts in sorted(report.by_stream.items()):
        _row(table, name, counts)
    table.add_section()
    for name, counts in sorted(report.by_split.items()):
        _row(table, f"split {name}", counts)
    out.print(table)
    if report.missing:
        out.print(Text(f"{len(report.missing)} labelled items not found in the streams",
                       style="yellow"))
    _print_errors(report, errors)
