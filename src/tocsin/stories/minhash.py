"""MinHash signatures of documents (rensa), with shingles suited to each language."""

from __future__ import annotations

import re
from array import array
from functools import cache
from importlib import resources

import rensa
import yaml

from tocsin.indicators.forms import match_key

NUM_PERM = 128
SEED = 20221
_WORD = re.compile(r"\w+")


@cache
def _settings() -> dict[str, dict[str, int]]:
    data = yaml.safe_load(resources.files("tocsin.stories").joinpath(
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
    return [" ".join(words[i:i + k]) for i in range(len(words) - k + 1)]


def signature(text: str, language: str) -> array:
    """128 unsigned 32-bit values; stored as bytes with the document."""
    minhash = rensa.RMinHash(num_perm=NUM_PERM, seed=SEED)
    minhash.update(shingles(text, language) or [""])
    return array("I", minhash.digest())


def similarity(a: array, b: array) -> float:
    """Estimated Jaccard similarity: the share of equal positions."""
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)
