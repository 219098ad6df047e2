"""Ingest throughput: documents per second and peak memory for N generated ~2 KB documents.

    python bench/ingest.py 20000 [--db URL]

Generates N documents in English, French, Russian and Ukrainian (sentences shuffled
from small per-language pools, so every document is unique), writes them as JSON Lines
in a temporary folder (files of 1,000), then times ingesting them into a fresh store
(SQLite by default). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from tocsin.config import Limits
from tocsin.pipeline import Inputs, ingest, make_text_stage
from tocsin.store.db import open_store

POOLS = {
    "en": [
        "The ministry said the drills would continue until the end of the week.",
        "Officials in Brussels discussed a new package of sanctions on Tuesday.",
        "Grain exports through the Black Sea ports rose for a third month.",
        "The central bank left its key rate unchanged, citing stubborn inflation.",
        "Air defence units shot down most of the drones overnight, the army said.",
        "Energy workers restored power to several districts after the strikes.",
        "Mr. Novak told reporters that talks would resume in Geneva in March.",
        "Analysts said the statement was aimed mainly at a domestic audience.",
    ],
    "fr": [
        "Le ministère a indiqué que les exercices se poursuivraient jusqu'à dimanche.",
        "Les dirigeants européens se sont réunis à Bruxelles pour discuter des sanctions.",
        "Les exportations de céréales ont augmenté pour le troisième mois consécutif.",
        "La banque centrale a maintenu son taux directeur, citant une inflation tenace.",
        "Selon l'armée, la plupart des drones ont été abattus pendant la nuit.",
        "M. Dupont a déclaré que les négociations reprendraient à Genève en mars.",
        "Les analystes estiment que le message visait surtout l'opinion intérieure.",
        "Le courant a été rétabli dans plusieurs quartiers après les frappes.",
    ],
    "ru": [
        "В министерстве сообщили, что учения продлятся до конца недели.",
        "В Брюсселе во вторник обсудили новый пакет санкций.",
        "Экспорт зерна через черноморские порты вырос третий месяц подряд.",
        "Центробанк сохранил ключевую ставку, сославшись на высокую инфляцию.",
        "По данным военных, большую часть беспилотников сбили ночью.",
        "Энергетики восстановили подачу света в нескольких районах после ударов.",
        "Как заявил г-н Новиков, переговоры возобновятся в Женеве в марте.",
        "Аналитики считают, что заявление было рассчитано на внутреннюю аудиторию.",
    ],
    "uk": [
        "У міністерстві повідомили, що навчання триватимуть до кінця тижня.",
        "У Брюсселі у вівторок обговорили новий пакет санкцій.",
        "Експорт зерна через чорноморські порти зріс третій місяць поспіль.",
        "Нацбанк залишив облікову ставку без змін через високу інфляцію.",
        "За даними військових, більшість дронів збили вночі.",
        "Енергетики відновили живлення в кількох районах після ударів.",
        "Як заявив пан Новак, переговори відновляться в Женеві в березні.",
        "Аналітики вважають, що заява була розрахована на внутрішню аудиторію.",
    ],
}


def generate(n: int, path: Path, seed: int = 7) -> int:
    rng = random.Random(seed)
    langs = list(POOLS)
    size = 0
    path.mkdir(parents=True, exist_ok=True)
    for first in range(0, n, 1000):
        with (path / f"docs-{first:08d}.jsonl").open("w", encoding="utf-8") as out:
            size += _write(out, range(first, min(n, first + 1000)), rng, langs)
    return size


def _write(out: TextIO, numbers: range, rng: random.Random, langs: list[str]) -> int:
    size = 0
    for i in numbers:
        lang = langs[i % len(langs)]
        sentences: list[str] = []
        while sum(len(s) + 1 for s in sentences) < 1900:
            sentences.append(rng.choice(POOLS[lang]))
        sentences.append(f"({i})")  # unique
        text = " ".join(sentences)
        size += len(text.encode("utf-8"))
        day = 1 + i % 28
        out.write(json.dumps({
            "id": f"bench-{i}", "source": f"Bench outlet {i % 40}",
            "title": f"Bench document {i}", "text": text,
            "published_at": f"2024-{1 + i % 12:02d}-{day:02d}T{i % 24:02d}:00:00Z",
        }, ensure_ascii=False) + "\n")
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of documents")
    parser.add_argument("--db", help="database URL (default: SQLite in a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "docs"
        size = generate(args.n, data)
        store = open_store(args.db or f"sqlite:///{folder / 'bench.db'}")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        stage = make_text_stage(("en", "fr", "ru", "uk"), Limits())
        loaded = time.perf_counter()
        report = ingest(Inputs([str(data)]), store, stage, Limits(), batch_size=500)
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        store.close()
    if report.new != args.n:
        sys.exit(f"expected {args.n} new documents, got {report.new} ({report})")
    print(f"documents           {args.n:,} (~{size / args.n / 1024:.1f} KB of text each)")
    print(f"model load          {loaded - started:.2f} s")
    print(f"total time          {elapsed:.2f} s")
    print(f"throughput          {args.n / elapsed:,.0f} documents/s "
          f"({args.n / (elapsed - (loaded - started)):,.0f}/s after model load)")
    print(f"peak memory (RSS)   {peak:,.0f} MB (before models: {rss_before:,.0f} MB)")


if __name__ == "__main__":
    main()
