"""The chart's standalone HTML page: inline SVG with tooltips, figures and tables, no script.

Every string that reaches the page from outside (titles, categories, indicator names) is
escaped here; the Content-Security-Policy forbids anything but the page's own inline styles
and data: images, so the page fetches nothing even if a browser is asked to.
"""

from __future__ import annotations

import html
import io
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from tocsin.errors import TocsinError

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
HOVER = "tocsin-hover-"  # id prefix of the SVG groups that carry a tooltip

STYLE = f"""
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
figure {{ margin: 0 0 1.5rem 0; }}
figure svg {{ max-width: 100%; height: auto; }}
/* matplotlib writes invisible shapes as fill: none, which a pointer would pass through */
figure svg g[id^="{HOVER}"] path {{ pointer-events: all; }}
figure svg g[id^="{HOVER}day-"]:hover path {{ fill: #1f3b73 !important; fill-opacity: 0.08; }}
figcaption {{ color: #555; font-size: 0.85rem; }}
dl.figures {{ display: flex; flex-wrap: wrap; gap: 0.5rem 2rem; margin: 0 0 1rem 0; }}
dl.figures dt {{ color: #555; font-size: 0.8rem; }}
dl.figures dd {{ margin: 0; font-size: 1.1rem; font-weight: 600; }}
h2 {{ font-size: 1.1rem; margin: 1rem 0 0.5rem 0; }}
table {{ border-collapse: collapse; font-size: 0.9rem; margin-bottom: 1.5rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; }}
th {{ background: #f4f4f4; }}
"""


def svg_with_tooltips(fig: Figure, tooltips: Mapping[str, str]) -> str:
    """The figure as inline SVG; each group whose id is a key gets a ``<title>`` tooltip."""
    buffer = io.BytesIO()
    # A fixed salt gives stable element ids; fonttype "none" keeps labels as (escaped) text.
    with matplotlib.rc_context({"svg.hashsalt": "tocsin", "svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue().decode("utf-8")
    # Inline SVG inside HTML must not carry the XML declaration or DOCTYPE.
    text = text[text.index("<svg"):]
    for gid, tip in tooltips.items():
        # Group ids are ours (tocsin-hover-...); only the tooltip text comes from outside.
        opening = f'<g id="{gid}">'
        if opening not in text:
            raise TocsinError(f"chart tooltip for SVG group {gid!r} has no group to go in; "
                              "report this as a bug in tocsin.alerts.chart")
        text = text.replace(opening, f"{opening}<title>{html.escape(tip)}</title>", 1)
    return text


def table(rows: Sequence[Mapping[str, str]], empty: str = "No rows.") -> str:
    """Rows (column -> text) as a table; columns in order of first appearance."""
    if not rows:
        return f"<p class=\"empty\">{html.escape(empty)}</p>"
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns) + "</tr>"
        for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def figures(parts: Sequence[tuple[str, str]]) -> str:
    """Headline figures (label, value) as a definition list above the chart."""
    if not parts:
        return ""
    items = "\n".join(f"<div><dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd></div>"
                      for k, v in parts)
    return f"<dl class=\"figures\">\n{items}\n</dl>"


def page(title: str, head: str, svg: str, sections: Sequence[tuple[str, str]]) -> str:
    """The whole page: ``head`` (figures) above the SVG, then (heading, HTML) sections."""
    body = "\n".join(f"<h2>{html.escape(heading)}</h2>\n{content}"
                     for heading, content in sections)
    text = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
{head}
<figure>
{svg}
<figcaption>Hover over a day, a milestone badge or an alert for its details.</figcaption>
</figure>
{body}
</body>
</html>
"""
    # Belt and braces: every text above is escaped, and the page must stay script-free.
    if "<script" in text.lower():
        raise TocsinError(f"chart page for {title!r} would contain a script element; "
                          "report this as a bug in tocsin.alerts.chart")
    return text


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step, so a reader never sees half a chart."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                # mkstemp makes 0600 files; a chart is meant to be served and shared.
                os.fchmod(out.fileno(), 0o644)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise TocsinError(f"cannot write chart {path}: {exc.strerror or exc}; "
                          "check that the folder exists and is writable") from exc
