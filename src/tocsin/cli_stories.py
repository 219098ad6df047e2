"""`tocsin stories` and `tocsin story ID`: stories and their echo chains."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from tocsin.cli_sources import TableOrJsonl
from tocsin.errors import TocsinError
from tocsin.stories.queries import get_story, list_stories


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


def register(app: typer.Typer, out: Console, err: Console,
             context: Callable[[typer.Context], Any],
             fail: Callable[[Exception], NoReturn]) -> None:
    @app.command("stories")
    def stories_command(
        ctx: typer.Context,
        min_size: Annotated[int, typer.Option(min=1, help="Smallest story shown.")] = 2,
        limit: Annotated[int, typer.Option(min=1)] = 50,
        fmt: Annotated[TableOrJsonl, typer.Option("--format", "-f")] = TableOrJsonl.table,
    ) -> None:
        """List stories (copies and rewrites of one report) with their origin and chain."""
        try:
            store = context(ctx).store()
            rows = list_stories(store.engine, min_size, limit)
            store.close()
        except TocsinError as exc:
            fail(exc)
        if fmt == "jsonl":
            for row in rows:
                out.print(json.dumps(row, ensure_ascii=False, default=str), markup=False,
                          highlight=False, soft_wrap=True)
            return
        table = Table(title=f"{len(rows)} stories of {min_size}+ documents")
        for column in ("id", "size", "langs", "first (UTC)", "origin", "chain"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(str(row["id"]), str(row["size"]), Text(",".join(row["languages"])),
                          row["first_at"].strftime("%Y-%m-%d %H:%M") if row["first_at"] else "",
                          Text(row["origin_name"] or ""), Text(_chain_summary(row["chain"])))
        out.print(table)

    @app.command("story")
    def story_command(
        ctx: typer.Context,
        story_id: Annotated[int, typer.Argument(help="Story id (from `tocsin stories`).")],
        fmt: Annotated[TreeOrJson, typer.Option("--format", "-f")] = TreeOrJson.tree,
    ) -> None:
        """Show a story's echo chain as a tree, from its origin to the last copy."""
        try:
            store = context(ctx).store()
            story = get_story(store.engine, story_id)
            store.close()
        except TocsinError as exc:
            fail(exc)
        if story is None:
            fail(TocsinError(f"no story {story_id}; see `tocsin stories --min-size 1`"))
        if fmt == "json":
            out.print(json.dumps(story, ensure_ascii=False, default=str), markup=False,
                      highlight=False, soft_wrap=True)
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
