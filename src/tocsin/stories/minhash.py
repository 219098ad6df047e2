"""MinHash signatures of documents (rensa), with shingles suited to each language."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import numpy as np
import rensa

from tocsin.indicators.forms import match_key
from tocsin.indicators.yamlfile import load_plain

NUM_PERM = 128
SEED = 20221
_WORD = re.compile(r"\w+")


@cache
def _settings() -> dict[str, dict[str, int]]:
    data = load_plain(resources.files("tocsin.stories").joinpath(
        "data/shingles.yaml").read_text("utf-8"))
    table: dict[str, dict[str, int]] = dict(data["languages"])
    table["*"] = data["default"]
    return table


def shingles(text: str, language: str) -> list[str]:
    settings = _settings().get(language, _settings()["*"])
    k, stem = settings["k"], settings["stem"]
    words = _WORD.findall(match_key(text))
    if stem:
        words = [w[:stem] for w in words]
    if len(words) < k:
        return [" ".join(words)] if words else []
    return list(map(" ".join, zip(*(words[i:] for i in range(k)), strict=False)))


Signature = np.ndarray


def signature(text: str, language: str) -> Signature:
    """128 unsigned 32-bit values; stored as bytes with the document."""
    return signature_of(shingles(text, language))


def signature_of(pieces: list[str]) -> Signature:
    """The signature of a text's shingles (when the caller has them already)."""
    minhash = rensa.RMinHash(num_perm=NUM_PERM, seed=SEED)
    minhash.update(pieces or [""])
    return np.asarray(minhash.digest(), dtype=np.uint32)


def from_bytes(raw: bytes) -> Signature:
    return np.frombuffer(raw, dtype=np.uint32)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


@cache
def _weekdays() -> tuple[re.Pattern[str], dict[str, int]]:
    """One pattern for every weekday stem of every language, and stem -> day number."""
    data = load_plain(resources.files("tocsin.stories").joinpath(
        "data/shingles.yaml").read_text("utf-8"))
    numbers = {stem: n for stems in data["weekdays"].values() for n, stem in enumerate(stems)}
    stems = sorted(numbers, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(re.escape(s) for s in stems) + r")")
    return pattern, numbers


def figures(text: str) -> frozenset[str]:
    """The facts a report gives that a template does not: its numbers ("34 of 40 drones",
    "53.20 euros") and its weekdays. Copies and rewrites of one report keep them; the
    next day's summary in the same template does not."""
    found = {m.group().replace(",", ".") for m in _NUMBER.finditer(text)}
    pattern, numbers = _weekdays()
    found.update(f"weekday:{numbers[m.group(1)]}" for m in pattern.finditer(match_key(text)))
    return frozenset(found)


def figures_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    """False when both reports give facts and most of them differ."""
    if not a or not b:
        return True
    return len(a & b) / min(len(a), len(b)) >= 0.5


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity: the share of equal positions."""
    return int(np.count_nonzero(a == b)) / len(a)
