"""`tocsin stories` and `tocsin story ID`: stories and their echo chains."""

from __future__ import annotations

from collections import defaultdict
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.text import Text
from rich.tree import Tree

from tocsin.cli.common import FORMAT, WIDE, Col, Format, api, app, emit, line, out


class TreeOrJson(StrEnum):
    tree = "tree"
    json = "json"


def _chain_summary(chain: list[dict[str, Any]]) -> str:
    """"Сводка-24 <- Заречье <- Полярная звезда" style: who copied whom."""
    parts = []
    for link in chain:
        parent = link["parent"]
        if parent is None:
            parts.append(link["source"])
        elif isinstance(parent, str):
            parts.append(f"{link['source']} < {link['cites']} (not stored)")
        else:
            parts.append(f"{link['source']} < #{parent}")
    return "; ".join(parts)


STORY_COLUMNS = [
    Col("id", lambda r: r["id"]),
    Col("size", lambda r: r["size"]),
    Col("langs", lambda r: ",".join(r["languages"]), keep=2),
    Col("first (UTC)", lambda r: r["first_at"]),
    Col("origin", lambda r: r["origin_name"], flex=True, min_width=12),
    Col("chain", lambda r: _chain_summary(r["chain"]), flex=True, min_width=20, keep=2),
]


@app.command("stories")
def stories_command(
    ctx: typer.Context,
    min_size: Annotated[int, typer.Option(min=1, help="Smallest story shown.")] = 2,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    fmt: Annotated[Format, FORMAT] = Format.table,
    wide: Annotated[bool, WIDE] = False,
) -> None:
    """List stories (copies and rewrites of one report) with their origin and chain."""
    with api(ctx) as t:
        rows = t.stories(min_size, limit)
    emit(rows, STORY_COLUMNS, fmt, f"{len(rows)} stories of {min_size}+ documents",
         wide=wide)


@app.command("story")
def story_command(
    ctx: typer.Context,
    story_id: Annotated[int, typer.Argument(help="Story id (from `tocsin stories`).")],
    fmt: Annotated[TreeOrJson, typer.Option("--format", "-f")] = TreeOrJson.tree,
) -> None:
    """Show a story's echo chain as a tree, from its origin to the last copy."""
    with api(ctx) as t:
        story = t.story(story_id)
    if fmt == "json":
        line(story)
        return
    out.print(Text(f"story {story_id}: {story['size']} documents, origin "
                   f"{story['origin_name']}", style="bold"))
    children: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for link in story["chain"]:
        children[link["parent"]].append(link)
    docs = story["documents"]

    def label(link: dict[str, Any]) -> Text:
        doc = docs.get(link["document"], {})
        return Text.assemble((f"#{link['document']} ", "dim"), (link["source"], "cyan"),
                             f" [{doc.get('grade', '?')}] ", link["time"][:16], "  ",
                             (doc.get("title") or "", "italic"))

    def grow(node: Tree, key: Any, seen: set[Any]) -> None:
        for link in children.get(key, []):
            if link["document"] in seen:  # a loop in the data: show it once
                continue
            seen.add(link["document"])
            grow(node.add(label(link)), link["document"], seen)

    seen: set[Any] = set()
    tree = Tree(Text(f"origin: {story['origin_name']}", style="bold green"))
    for key in [None, *sorted({k for k in children if isinstance(k, str)})]:
        if key is None:
            grow(tree, None, seen)
        else:
            external = tree.add(Text(f"{key.split(':', 1)[1]} (named as source, not "
                                     "stored)", style="yellow"))
            grow(external, key, seen)
    for link in story["chain"]:  # anything a loop cut off
        if link["document"] not in seen:
            tree.add(label(link))
    out.print(tree)
