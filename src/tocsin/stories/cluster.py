"""Stories: documents that are copies or light rewrites of one report.

Two documents belong to one story when their MinHash similarity is at least
``threshold`` and they were published within ``window`` of each other; a story is a
connected component of that relation. Candidates come from LSH banding over the
signatures (``bands`` x ``rows`` = NUM_PERM), so adding a document costs a few
dictionary look-ups, not a scan. Components do not depend on the order documents
arrive in, so clustering incrementally gives the same stories as clustering all at once
(tested with Hypothesis).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain

import numpy as np

from tocsin.stories.minhash import NUM_PERM, Signature, figures_agree, similarity

MIN_SHARED_BANDS = 2


@dataclass
class StoryIndex:
    threshold: float = 0.25
    window: timedelta = timedelta(days=3)
    # 64 bands of 2 rows: a pair at similarity 0.25 shares a band with probability 0.98
    bands: int = 64
    _rows: int = field(init=False)
    # band key (its rows' values and the band number, as one int) -> documents
    _buckets: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    _signatures: dict[int, Signature] = field(default_factory=dict)
    _times: dict[int, datetime] = field(default_factory=dict)
    _parent: dict[int, int] = field(default_factory=dict)
    _figures: dict[int, frozenset[str]] = field(default_factory=dict)
    # roots absorbed into another story since the caller last cleared this list
    merged: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if NUM_PERM % self.bands:
            raise ValueError(f"bands ({self.bands}) must divide {NUM_PERM}")
        self._rows = NUM_PERM // self.bands

    def __len__(self) -> int:
        return len(self._signatures)

    def _band_keys(self, signature: Signature) -> list[int]:
        # One int a band (its rows' bytes, then the band number): a tuple of the band and
        # its bytes cost three objects a key, ten kilobytes a document.
        bands = self.bands
        if self._rows * signature.itemsize == 8:  # two 32-bit rows: one 64-bit value a band
            return [value * bands + band
                    for band, value in enumerate(signature.view(np.uint64).tolist())]
        raw = signature.tobytes()
        width = self._rows * signature.itemsize
        return [int.from_bytes(raw[band * width:(band + 1) * width], "little") * bands + band
                for band in range(bands)]

    def find(self, doc_id: int) -> int:
        """The story of a document: the smallest document id of its component."""
        root = doc_id
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[doc_id] != root:  # path compression
            self._parent[doc_id], doc_id = root, self._parent[doc_id]
        return root

    def _union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            low, high = min(ra, rb), max(ra, rb)
            self._parent[high] = low
            self.merged.append(high)

    def preload(self, doc_id: int, when: datetime, signature: Signature, story_id: int,
                figures: frozenset[str] = frozenset()) -> None:
        """A stored document with its stored story (the story id is its smallest member's
        id, which may itself lie outside the loaded window)."""
        self._parent.setdefault(story_id, story_id)
        self._parent[doc_id] = story_id if doc_id != story_id else doc_id
        self._signatures[doc_id] = signature
        self._times[doc_id] = when
        self._figures[doc_id] = figures
        for key in self._band_keys(signature):
            self._buckets[key].append(doc_id)

    def add(self, doc_id: int, when: datetime, signature: Signature,
            figures: frozenset[str] = frozenset()) -> set[int]:
        """Add a document; returns the stories (root ids) it joined, before merging.

        ``figures``: the numbers it reports; two documents whose figures disagree are
        different reports even when their wording is alike (daily summaries).
        """
        if doc_id in self._signatures:
            return {self.find(doc_id)}
        self._signatures[doc_id] = signature
        self._times[doc_id] = when
        self._figures[doc_id] = figures
        self._parent[doc_id] = doc_id
        buckets = [self._buckets[key] for key in self._band_keys(signature)]
        shared = Counter(chain.from_iterable(buckets))
        for bucket in buckets:
            bucket.append(doc_id)
        joined: set[int] = set()
        # Two shared bands before the full comparison: a pair at the threshold shares
        # about four, a chance collision rarely two.
        for other in sorted(o for o, n in shared.items() if n >= MIN_SHARED_BANDS):
            if abs(self._times[other] - when) > self.window:
                continue
            if not figures_agree(figures, self._figures.get(other, frozenset())):
                continue
            if similarity(signature, self._signatures[other]) >= self.threshold:
                joined.add(self.find(other))
                self._union(doc_id, other)
        return joined

    def has(self, doc_id: int) -> bool:
        return doc_id in self._signatures

    def stories(self) -> dict[int, list[int]]:
        """Story id -> its documents, for every document added."""
        out: dict[int, list[int]] = defaultdict(list)
        for doc_id in sorted(self._signatures):
            out[self.find(doc_id)].append(doc_id)
        return dict(out)
