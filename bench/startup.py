"""Start-up costs: the commands a user types once, and loading the compiled pack.

    python bench/startup.py [--runs 7]

Times, as subprocesses against a fresh data dir (median of --runs, after one run that
fills the compiled-pack cache): ``tocsin --version`` and ``tocsin analyze one.txt``
(one short post). Then, in this process, ``Detector.load`` of the built-in pack with an
empty cache (compiling: inflected forms, gazetteer, automaton) and with a warm one
(median of --runs). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tocsin.indicators.detect import Detector

POST = ("⚡️ Russia moved Iskander-M launchers to Belarus, the ministry said on Tuesday, "
        "and put its nuclear forces on high alert.\n")


def tocsin_command() -> list[str]:
    """The installed `tocsin` beside this interpreter, else `python -m tocsin`."""
    script = Path(sys.executable).with_name("tocsin")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tocsin"]


def wall(command: list[str], env: dict[str, str], runs: int) -> float:
    """Median wall time of ``runs`` runs, after one run not counted."""
    subprocess.run(command, env=env, capture_output=True, check=True)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        post = folder / "one.txt"
        post.write_text(POST, "utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
        env["TOCSIN_DATA_DIR"] = str(folder / "data")
        command = tocsin_command()
        version = wall([*command, "--version"], env, args.runs)
        analyze = wall([*command, "analyze", str(post)], env, args.runs)
        print(f"tocsin --version          {version * 1e3:7.0f} ms (median of {args.runs})")
        print(f"tocsin analyze one.txt    {analyze * 1e3:7.0f} ms (median of {args.runs}, "
              f"warm pack cache)")
        cache = folder / "cache"
        started = time.perf_counter()
        Detector.load("nuclear", cache)
        cold = time.perf_counter() - started
        warm = []
        for _ in range(args.runs):
            started = time.perf_counter()
            detector = Detector.load("nuclear", cache)
            warm.append(time.perf_counter() - started)
            del detector
        shutil.rmtree(cache, ignore_errors=True)
    print(f"Detector.load, cold       {cold * 1e3:7.0f} ms (compiles the pack)")
    print(f"Detector.load, warm       {statistics.median(warm) * 1e3:7.0f} ms "
          f"(median of {args.runs}, from the cache)")


if __name__ == "__main__":
    main()
