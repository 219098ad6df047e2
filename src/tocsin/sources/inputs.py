"""What to read: paths (files and folders) and ``-`` for JSON Lines on standard input."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tocsin.config import Limits
from tocsin.model import RawItem, Rejection
from tocsin.sources.files import expand_paths, read_file
from tocsin.sources.jsonl import read_json_lines

STDIN = "-"


@dataclass
class Inputs:
    """What to ingest: paths (``-`` for JSON Lines on standard input)."""

    paths: list[str]
    default_source: str = ""
    stdin: TextIO | None = None

    def read(self, limits: Limits) -> Iterator[RawItem | Rejection]:
        for name in self.paths:
            if name == STDIN:
                stream = self.stdin or sys.stdin
                lines = (line.rstrip("\n").removeprefix("\ufeff") if n == 0
                         else line.rstrip("\n") for n, line in enumerate(stream))
                yield from read_json_lines(lines, "<stdin>", self.default_source,
                                           max_line_chars=limits.max_document_chars * 2)
                continue
            for path in expand_paths([Path(name)]):
                if isinstance(path, Rejection):
                    yield path
                else:
                    yield from read_file(path, limits.max_file_bytes, self.default_source)
