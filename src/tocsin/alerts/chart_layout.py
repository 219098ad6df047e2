"""Where the chart's milestone badges go: in rows, never overlapping, each near its own date.

Pure arithmetic on extents (in pixels, or any one unit), so it is deterministic and can be
tested without drawing. Badges are first tried in one row; when their total width does not
fit, they are dealt round-robin in date order into as few rows as make every row fit, so
neighbours in time alternate rows. Within a row, a badge that would overlap its neighbour
is pushed aside: overlapping badges form a cluster laid edge to edge and centred, as a
whole, on the mean of its members' dates (least squares), then kept inside the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Slot:
    """One badge's place: its row (0 nearest the plot) and its horizontal extent."""

    row: int
    left: float
    width: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def centre(self) -> float:
        return self.left + self.width / 2


@dataclass
class _Cluster:
    members: list[int]  # positions in the row, in order
    ideal: float  # least-squares left edge, before keeping it inside the row
    width: float
    left: float = 0.0


def _fits(widths: Sequence[float], gap: float, span: float) -> bool:
    return sum(widths) + gap * (len(widths) - 1) <= span


def _dodge(centres: Sequence[float], widths: Sequence[float], low: float, high: float,
           gap: float) -> list[float]:
    """Left edges for badges sorted by centre: no two closer than ``gap``, inside the row
    when they fit, each cluster as near its members' centres as it can be."""
    def settle(cluster: _Cluster) -> _Cluster:
        # Keep the cluster in the row; the low edge wins when the row is too narrow.
        cluster.left = max(low, min(cluster.ideal, high - cluster.width))
        return cluster

    clusters: list[_Cluster] = []
    for i, (centre, width) in enumerate(zip(centres, widths, strict=True)):
        clusters.append(settle(_Cluster([i], centre - width / 2, width)))
        while len(clusters) > 1 and clusters[-2].left + clusters[-2].width + gap > \
                clusters[-1].left:
            later, earlier = clusters.pop(), clusters.pop()
            shift = earlier.width + gap  # how far the later members sit from the left edge
            count = len(earlier.members) + len(later.members)
            ideal = (len(earlier.members) * earlier.ideal
                     + len(later.members) * (later.ideal - shift)) / count
            clusters.append(settle(_Cluster(earlier.members + later.members, ideal,
                                            earlier.width + gap + later.width)))
    lefts = [0.0] * len(centres)
    for cluster in clusters:
        edge = cluster.left
        for i in cluster.members:
            lefts[i] = edge
            edge += widths[i] + gap
    return lefts


def place(centres: Sequence[float], widths: Sequence[float], low: float, high: float,
          gap: float = 3.0) -> list[Slot]:
    """One slot per badge (in the order given): badges of one row are at least ``gap``
    apart and lie within [low, high] whenever a single badge fits there at all."""
    if len(centres) != len(widths):
        raise ValueError("one width per centre")
    order = sorted(range(len(centres)), key=lambda i: (centres[i], i))
    span = high - low
    rows = 1
    while rows < len(order) and not all(
            _fits([widths[i] for i in order[r::rows]], gap, span) for r in range(rows)):
        rows += 1
    slots: list[Slot | None] = [None] * len(centres)
    for row in range(rows):
        members = order[row::rows]
        lefts = _dodge([centres[i] for i in members], [widths[i] for i in members],
                       low, high, gap)
        for i, left in zip(members, lefts, strict=True):
            slots[i] = Slot(row, left, widths[i])
    return [s for s in slots if s is not None]
