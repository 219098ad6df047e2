"""The fault probe as a script: bad inputs, concurrent ingests, slow and dead webhooks.

    python bench/faults.py [--only fuzz|concurrency|webhooks] [--bad N] [--good N]

- fuzz: the generated corpus of tests/fuzz (bad and odd files mixed with good ones)
  ingested as one folder: inputs, documents stored, quarantined by reason, good
  documents lost, crashes (a traceback or an exit code other than 0/3).
- concurrency: the demo corpus dealt into 1, 2 and 4 shards ingested by as many
  processes at once: multi-document stories reproduced (against one process), open
  alerts, notifications per alert event, duplicates.
- webhooks: the demo ingested with a webhook that sleeps 30 s, and with one on a closed
  port: seconds the webhook added to the ingest, notifications left pending for
  `tocsin deliver`, dropped (must be 0).

Everything runs in a temporary folder through the real CLI in subprocesses. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(str(resources.files("tocsin.demo").joinpath("corpus")))
REGISTRY = Path(str(resources.files("tocsin.demo").joinpath("sources.yaml")))


def tocsin(data: Path, *args: str, extra: dict[str, str] | None = None,
           wait: bool = True) -> subprocess.Popen[str] | subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update(TOCSIN_DATA_DIR=str(data), TOCSIN_CONFIG=str(data / "tocsin.toml"),
               TOCSIN_CACHE_DIR=str(data.parent / "cache"), **(extra or {}))
    command = [sys.executable, "-m", "tocsin", *args]
    if wait:
        return subprocess.run(command, env=env, text=True, capture_output=True)
    return subprocess.Popen(command, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def fresh(root: Path, name: str, config: str = "") -> Path:
    data = root / name
    data.mkdir(parents=True)
    (data / "tocsin.toml").write_text(config, encoding="utf-8")
    return data


def crashed(result: Any) -> bool:
    return result.returncode not in (0, 3) or "Traceback" in (result.stderr or "")


# -- fuzz ------------------------------------------------------------------------------------

def fuzz(root: Path, bad: int, good: int) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.fuzz.audit import audit
    from tests.fuzz.corpus import write_corpus

    folder = root / "fuzz-inputs"
    manifest = write_corpus(folder, seed=0, bad=bad, good=good)
    data = fresh(root, "fuzz")
    started = time.perf_counter()
    # small limits, as in tests/fuzz, so that the size faults stay small files
    result = tocsin(data, "ingest", str(folder), extra={
        "TOCSIN_LIMITS__MAX_FILE_BYTES": "65536", "TOCSIN_LIMITS__MAX_DOCUMENT_CHARS": "20000"})
    seconds = time.perf_counter() - started
    assert isinstance(result, subprocess.CompletedProcess)
    found = audit(manifest, data / "tocsin.db")
    with sqlite3.connect(data / "tocsin.db") as db:
        stored = db.execute("SELECT count(*) FROM documents").fetchone()[0]
        reasons = dict(db.execute("SELECT reason, count(*) FROM quarantine GROUP BY reason"))
    files = manifest.files()
    untraced = [e for e in found.silent() if not e.twin]
    print(f"fuzz: {len(files):,} inputs ({len(manifest.of_kind('bad')):,} bad or odd, "
          f"{len(manifest.of_kind('good')):,} good) in {seconds:.1f} s; exit "
          f"{result.returncode}; crashes {int(crashed(result))}")
    print(f"  stored {stored:,} documents; good documents expected "
          f"{len(manifest.expected_serials()):,}, lost {len(found.lost(manifest))}; "
          f"inputs without a trace {len(untraced)}")
    print(f"  quarantined {sum(reasons.values()):,}: " +
          ", ".join(f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])))


# -- concurrency -----------------------------------------------------------------------------

def shards(folder: Path, n: int) -> list[Path]:
    lines = [line for path in sorted(CORPUS.glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for k in range(n):
        path = folder / f"shard-{n}-{k}.jsonl"
        path.write_text("\n".join(lines[k::n]) + "\n", encoding="utf-8")
        out.append(path)
    return out


def state(data: Path) -> tuple[set[frozenset[str]], int, list[dict[str, Any]]]:
    with sqlite3.connect(data / "tocsin.db") as db:
        key = dict(db.execute("SELECT id, doc_hash FROM documents"))
        groups: dict[int, set[str]] = {}
        for doc, story in db.execute("SELECT id, story_id FROM documents "
                                     "WHERE story_id IS NOT NULL"):
            groups.setdefault(story, set()).add(key[doc])
        alerts = db.execute("SELECT count(*) FROM alerts WHERE state != 'withdrawn'").fetchone()
    sent = [json.loads(x) for x in (data / "sent.jsonl").read_text("utf-8").splitlines()]
    return {frozenset(g) for g in groups.values() if len(g) > 1}, alerts[0], sent


def concurrency(root: Path) -> None:
    reference: set[frozenset[str]] | None = None
    for n in (1, 2, 4):
        data = fresh(root, f"procs{n}", f'[[tocsin.channels]]\nkind = "jsonl"\n'
                                        f'path = "{root / f"procs{n}" / "sent.jsonl"}"\n')
        tocsin(data, "sources", "load", str(REGISTRY))
        started = time.perf_counter()
        procs = [tocsin(data, "ingest", str(s), extra={"TOCSIN_BATCH_SIZE": "16"}, wait=False)
                 for s in shards(root, n)]
        crashes = 0
        for proc in procs:
            assert isinstance(proc, subprocess.Popen)
            _, err = proc.communicate()
            crashes += int(proc.returncode not in (0, 3) or "Traceback" in err)
        seconds = time.perf_counter() - started
        stories, open_alerts, sent = state(data)
        reference = stories if reference is None else reference
        events = Counter(json.dumps(p, sort_keys=True) for p in sent)
        kinds = Counter(p["event"] for p in sent)
        raised = Counter(p["id"] for p in sent if p["event"] == "raised")
        print(f"concurrency {n} process(es): {seconds:.1f} s, crashes {crashes}; "
              f"multi-document stories {len(stories)} ({len(stories & reference)} of "
              f"{len(reference)} reproduced); open alerts {open_alerts}; notifications "
              f"{len(sent)} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}; "
              f"{max(raised.values(), default=0)} 'raised' at most per alert, "
              f"{sum(c - 1 for c in events.values())} sent twice)")


# -- webhooks --------------------------------------------------------------------------------

def sleepy_server(seconds: float) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            time.sleep(seconds)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/hook"


def webhooks(root: Path) -> None:
    base = fresh(root, "hookless")
    tocsin(base, "sources", "load", str(REGISTRY))
    tocsin(fresh(root, "warm"), "ingest", str(CORPUS / "en.jsonl"))  # compile the pack once
    started = time.perf_counter()
    tocsin(base, "ingest", str(CORPUS))
    plain = time.perf_counter() - started
    print(f"webhooks: ingest without a webhook {plain:.1f} s")
    server, slow = sleepy_server(30)
    try:
        for name, url in (("sleeps 30 s", slow), ("dead", closed_port())):
            data = fresh(root, f"hook-{name.split()[0]}",
                         f'[[tocsin.channels]]\nkind = "webhook"\nurl = "{url}"\n')
            tocsin(data, "sources", "load", str(REGISTRY))
            started = time.perf_counter()
            result = tocsin(data, "ingest", str(CORPUS),
                            extra={"TOCSIN_FETCH_ALLOW_PRIVATE": "1"})
            seconds = time.perf_counter() - started
            with sqlite3.connect(data / "tocsin.db") as db:
                states = dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state"))
                alerts = db.execute("SELECT count(*) FROM alerts").fetchone()[0]
            kept = sum(states.values())
            print(f"  webhook that {name}: ingest {seconds:.1f} s (+{seconds - plain:.1f} s), "
                  f"exit {result.returncode}; {alerts} alerts, outbox {states} "
                  f"(dropped {alerts - kept if kept < alerts else 0})")
    finally:
        server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("fuzz", "concurrency", "webhooks"))
    parser.add_argument("--bad", type=int, default=2100)
    parser.add_argument("--good", type=int, default=450)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tocsin-faults-") as temp:
        root = Path(temp)
        if args.only in (None, "fuzz"):
            fuzz(root, args.bad, args.good)
        if args.only in (None, "concurrency"):
            concurrency(root)
        if args.only in (None, "webhooks"):
            webhooks(root)


if __name__ == "__main__":
    main()
