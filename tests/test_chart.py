from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import lxml.html
import matplotlib.image
import matplotlib.text
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox

from tocsin.alerts.chart import (
    AlertMark,
    ChartError,
    Day,
    Milestone,
    Summary,
    figure,
    write_chart,
)
from tocsin.alerts.chart_layout import place
from tocsin.errors import TocsinError

LEVELS = {"watch": 25.0, "warning": 45.0, "critical": 70.0}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HOSTILE = '<script>alert(1)</script> & "x"'
START = datetime(2021, 1, 1, tzinfo=UTC)


def long_series(days: int = 1500) -> list[tuple[datetime, float]]:
    """Mostly zeros with a few spikes, one point a day, like a real watch."""
    spikes = {200: 35.0, 201: 60.0, 202: 20.0, 900: 80.0, 901: 95.0, 1400: 45.0}
    return [(START + timedelta(days=i), spikes.get(i, 0.0)) for i in range(days)]


MILESTONES = [
    Milestone(date(2021, 7, 20), "Exercise announced", ("exercise",), caught=True),
    Milestone(date(2023, 6, 20), HOSTILE, ("deployment", "rhetoric"), caught=False),
    Milestone(date(2024, 11, 5), "Учения ядерных сил: объявлена готовность", ("exercise",), True),
]
ALERTS = [
    AlertMark(START + timedelta(days=201, hours=6), "warning", 1, false=False),
    AlertMark(START + timedelta(days=901), "critical", 2, false=False),
    AlertMark(START + timedelta(days=1400), "watch", 3, false=True),
]


def render(tmp_path: Path, **kwargs: object) -> tuple[Path, Path]:
    png, page = tmp_path / "out" / "png" / "chart.png", tmp_path / "out" / "html" / "chart.html"
    args: dict[str, object] = {"series": long_series(), "milestones": MILESTONES,
                               "alerts": ALERTS, "title": "Watch: Europe"}
    args.update(kwargs)
    write_chart(args["series"], args["milestones"], args["alerts"],  # type: ignore[arg-type]
                png=png, html=page, title=args["title"],  # type: ignore[arg-type]
                levels=args.get("levels", LEVELS),  # type: ignore[arg-type]
                rows=args.get("rows"))  # type: ignore[arg-type]
    return png, page


def test_png_and_html_are_written_into_new_folders(tmp_path: Path) -> None:
    png, page = render(tmp_path)
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert 10_000 < len(data) < 2_000_000
    doc = lxml.html.fromstring(page.read_text(encoding="utf-8"))
    assert len(doc.xpath("//svg")) == 1
    assert doc.xpath("//title")[0].text == "Watch: Europe"
    # No temporary files are left beside the outputs.
    assert [p.name for p in png.parent.iterdir()] == ["chart.png"]
    assert [p.name for p in page.parent.iterdir()] == ["chart.html"]


def test_page_is_self_contained_with_a_strict_policy(tmp_path: Path) -> None:
    _, page = render(tmp_path)
    text = page.read_text(encoding="utf-8")
    doc = lxml.html.fromstring(text)
    policy = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert policy == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:"]
    assert not doc.xpath("//script | //link | //iframe | //object | //embed")
    # Only in-page references (#id) or data: URLs; namespace URIs are names, never fetched.
    refs = [v for el in doc.iter() if isinstance(el.tag, str)
            for k, v in el.attrib.items() if k.split(":")[-1] in ("href", "src")]
    assert refs and all(v.startswith(("#", "data:")) for v in refs)
    assert "@import" not in text and "url(http" not in text


def test_rows_become_the_table(tmp_path: Path) -> None:
    rows = [{"milestone": "Exercise announced", "lead (days)": "3", "alert": "#1"},
            {"milestone": HOSTILE, "lead (days)": "", "alert": "—"}]
    _, page = render(tmp_path, rows=rows)
    doc = lxml.html.fromstring(page.read_text(encoding="utf-8"))
    table = doc.xpath("//table")[0]
    assert [th.text for th in table.xpath(".//th")] == ["milestone", "lead (days)", "alert"]
    cells = [[td.text or "" for td in tr.xpath("td")] for tr in table.xpath("tbody/tr")]
    assert cells == [["Exercise announced", "3", "#1"], [HOSTILE, "", "—"]]


def test_without_rows_the_table_lists_milestones(tmp_path: Path) -> None:
    _, page = render(tmp_path)
    doc = lxml.html.fromstring(page.read_text(encoding="utf-8"))
    table = doc.xpath("//table")[0]
    assert [th.text for th in table.xpath(".//th")] == \
        ["#", "date", "milestone", "categories", "alert", "lead (h)"]
    cells = [[td.text or "" for td in tr.xpath("td")] for tr in table.xpath("tbody/tr")]
    assert cells[0] == ["1", "2021-07-20", "Exercise announced", "exercise", "yes", ""]
    assert cells[1] == ["2", "2023-06-20", HOSTILE, "deployment, rhetoric", "missed", ""]


def test_hostile_titles_appear_only_escaped(tmp_path: Path) -> None:
    _, page = render(tmp_path, title=HOSTILE + " $x^2$")
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;" in text
    doc = lxml.html.fromstring(text)
    assert doc.xpath("//h1")[0].text == HOSTILE + " $x^2$"
    # The chart's own labels hold the (truncated) title as text, not markup.
    svg_text = " ".join(doc.xpath("//svg//text()"))
    assert "<script>alert(1)</script>" in svg_text


def test_cyrillic_survives(tmp_path: Path) -> None:
    _, page = render(tmp_path, title="Наблюдение: Европа")
    text = page.read_text(encoding="utf-8")
    assert "Учения ядерных сил: объявлена готовность" in text
    doc = lxml.html.fromstring(text)
    assert doc.xpath("//h1")[0].text == "Наблюдение: Европа"


def test_empty_series_still_draws_and_says_no_data(tmp_path: Path) -> None:
    png, page = render(tmp_path, series=[], milestones=[], alerts=[])
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    text = page.read_text(encoding="utf-8")
    doc = lxml.html.fromstring(text)
    assert "no data" in " ".join(doc.xpath("//svg//text()"))
    assert "No rows." in text
    assert len(doc.xpath("//table")) == 0


def test_empty_series_with_milestones_and_alerts(tmp_path: Path) -> None:
    png, page = render(tmp_path, series=[])
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert "Exercise announced" in page.read_text(encoding="utf-8")


def test_svg_is_stable_between_runs(tmp_path: Path) -> None:
    _, first = render(tmp_path / "a")
    _, second = render(tmp_path / "b")
    assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")


def test_unwritable_target_raises_tocsin_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(TocsinError, match="cannot write chart"):
        write_chart([], [], [], png=blocker / "x.png", html=tmp_path / "x.html", title="t",
                    levels=LEVELS)


# -- layout, levels, hover ---------------------------------------------------------------

CROWD_START = date(2022, 2, 20)


def crowded_milestones(count: int = 40) -> list[Milestone]:
    """Many milestones a day or two apart (and a few far off), with long titles."""
    stones = [Milestone(CROWD_START + timedelta(days=n // 2), f"Milestone {n} " + "x" * 60,
                        ("readiness",), caught=n % 3 != 0) for n in range(count)]
    stones += [Milestone(date(2024, 5, 6), "Far away", (), caught=True),
               Milestone(date(2025, 1, 1), "Near the end", (), caught=False, covered=False)]
    return stones


def overlapping(boxes: list[Bbox]) -> list[tuple[int, int]]:
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes)
            if i < j and a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1]


def drawn(fig: Figure) -> RendererAgg:
    fig.canvas.draw()
    return fig.canvas.get_renderer()  # type: ignore[attr-defined]


def by_gid(fig: Figure, prefix: str) -> list[Artist]:
    return [a for a in fig.findobj(lambda a: (a.get_gid() or "").startswith(prefix))]


def test_crowded_milestone_labels_never_overlap_in_the_png(tmp_path: Path) -> None:
    stones = crowded_milestones()
    fig, _ = figure(long_series(), stones, ALERTS, levels=LEVELS, title="crowded")
    renderer = drawn(fig)
    badges = [t for t in by_gid(fig, "tocsin-hover-milestone-")
              if isinstance(t, matplotlib.text.Text)]
    assert len(badges) == len(stones)
    boxes = [t.get_bbox_patch().get_window_extent(renderer) for t in badges]  # type: ignore
    keys = [t.get_window_extent(renderer) for t in by_gid(fig, "tocsin-key-")]
    assert len(keys) == len(stones)
    assert overlapping(boxes + keys) == []
    # Everything lies inside the picture, and the badges above the plot.
    width, height = fig.canvas.get_width_height()
    assert all(0 <= b.x0 and b.x1 <= width and 0 <= b.y0 and b.y1 <= height
               for b in boxes + keys)
    plot_top = fig.axes[0].get_window_extent(renderer).y1
    assert all(b.y0 > plot_top for b in boxes)


def svg_box(group: Any) -> Bbox:
    """The bounding box of the first path in an SVG group (a badge's rounded box)."""
    path = group.xpath(".//path/@d")[0]
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", path)]
    xs, ys = numbers[0::2], numbers[1::2]
    return Bbox.from_extents(min(xs), min(ys), max(xs), max(ys))


def test_crowded_milestone_labels_never_overlap_in_the_svg(tmp_path: Path) -> None:
    stones = crowded_milestones()
    _, page = render(tmp_path, milestones=stones)
    doc = lxml.html.fromstring(page.read_text(encoding="utf-8"))
    groups = doc.xpath("//svg//g[starts-with(@id, 'tocsin-hover-milestone-')]")
    badges = [svg_box(g) for g in groups if "-line-" not in g.get("id")]
    assert len(badges) == len(stones) == len(groups) - len(badges)
    assert overlapping(badges) == []


@given(st.lists(st.tuples(st.floats(0, 1000), st.floats(4, 40)), max_size=80),
       st.floats(0, 10))
@settings(max_examples=200, deadline=None)
def test_layout_keeps_badges_of_a_row_apart_and_inside(
        badges: list[tuple[float, float]], gap: float) -> None:
    centres, widths = [c for c, _ in badges], [w for _, w in badges]
    slots = place(centres, widths, 0.0, 1000.0, gap=gap)
    assert [s.width for s in slots] == widths
    for row in {s.row for s in slots}:
        members = sorted((s for s in slots if s.row == row), key=lambda s: s.left)
        assert all(a.right + gap <= b.left + 1e-6 for a, b in itertools.pairwise(members))
        assert all(-1e-6 <= s.left and s.right <= 1000.0 + 1e-6 for s in members)


def test_layout_leaves_lone_badges_on_their_dates_in_one_row() -> None:
    slots = place([100.0, 400.0, 700.0], [20.0, 20.0, 20.0], 0.0, 1000.0)
    assert [(s.row, s.centre) for s in slots] == [(0, 100.0), (0, 400.0), (0, 700.0)]
    # Two close ones are pushed apart symmetrically around their mean date.
    pair = place([500.0, 502.0], [20.0, 20.0], 0.0, 1000.0, gap=4.0)
    assert [s.centre for s in pair] == [489.0, 513.0]
    # More than a row holds: a second row, neighbours in time alternating.
    many = place([float(i) for i in range(60)], [30.0] * 60, 0.0, 1000.0)
    assert {s.row for s in many} == {0, 1}
    assert [s.row for s in many[:4]] == [0, 1, 0, 1]


def band_limits(fig: Figure) -> dict[str, tuple[float, float]]:
    out = {}
    for band in by_gid(fig, "tocsin-band-"):
        assert isinstance(band, Rectangle)
        out[band.get_gid().removeprefix("tocsin-band-")] = (  # type: ignore[union-attr]
            band.get_y(), band.get_y() + band.get_height())
    return out


def test_bands_follow_the_levels_passed(tmp_path: Path) -> None:
    levels = {"watch": 10.0, "warning": 30.0, "critical": 60.0}
    fig, _ = figure(long_series(), MILESTONES, ALERTS, levels=levels, title="t")
    assert band_limits(fig) == {"watch": (10, 30), "warning": (30, 60), "critical": (60, 100)}
    assert list(fig.axes[0].get_yticks()) == [0, 10, 30, 60, 100]
    # The picture itself: going up the plot's right edge (index 0 there), the shade
    # changes at 10, 30 and 60 and nowhere else.
    png, _ = render(tmp_path, levels=levels, milestones=[], alerts=[])
    image = matplotlib.image.imread(png)
    fig, _ = figure(long_series(), [], [], levels=levels, title="Watch: Europe")
    drawn(fig)
    ax = fig.axes[0]
    x = ax.get_window_extent().x1 - 5
    def shade(value: float) -> tuple[float, ...]:
        _, y = ax.transData.transform((ax.get_xlim()[0], value))
        return tuple(image[image.shape[0] - int(round(y)), int(x)][:3])
    samples = [shade(v) for v in (5, 20, 45, 80)]
    assert len(set(samples)) == 4
    assert shade(12) == shade(28) == samples[1] and shade(32) == shade(58) == samples[2]


def test_alerts_rest_on_or_above_their_levels_lower_bound() -> None:
    levels = {"watch": 10.0, "warning": 30.0, "critical": 60.0}
    series = [(START + timedelta(days=i), 5.0 if i < 50 else 95.0) for i in range(100)]
    alerts = [AlertMark(START + timedelta(days=3, hours=6), "warning", 1, false=False),
              AlertMark(START + timedelta(days=10), "critical", 2, false=True),
              AlertMark(START + timedelta(days=20), "watch", 3, false=False),
              AlertMark(START + timedelta(days=70), "watch", 4, false=False)]
    fig, tips = figure(series, [], alerts, levels=levels, title="t")
    renderer = drawn(fig)
    ax = fig.axes[0]
    for mark in alerts:
        (line,) = by_gid(fig, f"tocsin-hover-alert-{mark.alert_id}")
        box = line.get_window_extent(renderer)
        _, floor = ax.transData.transform((0, levels[mark.level]))
        assert box.y0 >= floor - 0.5, mark
    # The one on a day at 95 sits at the index, not on its band's floor.
    (high,) = by_gid(fig, "tocsin-hover-alert-4")
    assert high.get_window_extent(renderer).y0 >= ax.transData.transform((0, 95))[1] - 0.5
    assert "index that day 5.0" in tips["tocsin-hover-alert-1"]


def test_levels_must_be_a_watchs_levels() -> None:
    with pytest.raises(ChartError, match="watch, warning and critical"):
        figure([], [], [], levels={"watch": 50, "warning": 40, "critical": 70}, title="t")
    with pytest.raises(ChartError):
        figure([], [], [], levels={"low": 10}, title="t")


def tooltips(doc: Any) -> dict[str, str]:
    return {t.getparent().get("id"): t.text for t in doc.xpath("//svg//title")}


def test_hover_details_for_days_milestones_and_alerts(tmp_path: Path) -> None:
    series = [Day(START + timedelta(days=i), 0.0) for i in range(40)]
    series[20] = Day(START + timedelta(days=20), 52.5, ("readiness.alert-raised", "doctrine.x"))
    stones = [Milestone(date(2021, 1, 21), "Forces on alert", ("readiness",), True,
                        alert_at=START + timedelta(days=20, hours=9), level="warning",
                        lead_hours=-1.5),
              Milestone(date(2021, 2, 5), "Quiet summit", ("doctrine",), False)]
    alerts = [AlertMark(START + timedelta(days=20, hours=9), "warning", 7, false=False)]
    _, page = render(tmp_path, series=series, milestones=stones, alerts=alerts)
    tips = tooltips(lxml.html.fromstring(page.read_text(encoding="utf-8")))
    days = [t for k, t in tips.items() if k.startswith("tocsin-hover-day-")]
    assert "2021-01-21: index 52.5 (warning)\ntop indicators: readiness.alert-raised, " \
        "doctrine.x" in days
    assert "2021-01-01 to 2021-01-20 (20 days): index 0.0 (below watch)" in days
    assert tips["tocsin-hover-milestone-1"] == (
        "milestone 1: 2021-01-21 Forces on alert\ncategories: readiness\n"
        "alerted: yes, warning at 2021-01-21 09:00 UTC\nlead: -1.5 h (first report minus alert)")
    assert "alerted: no (missed)" in tips["tocsin-hover-milestone-2"]
    assert tips["tocsin-hover-alert-7"].startswith(
        "alert #7: level warning, raised 2021-01-21 09:00 UTC")


def test_summary_figures_are_on_the_page_and_in_the_picture(tmp_path: Path) -> None:
    summary = Summary(milestones=16, covered=15, caught=14, on_day=12, median_lead_hours=-0.9,
                      alerts=17, false_alerts=2, quiet_days=1354, false_per_30=0.04)
    png, page = tmp_path / "c.png", tmp_path / "c.html"
    write_chart(long_series(), MILESTONES, ALERTS, png=png, html=page, title="t",
                levels=LEVELS, summary=summary)
    doc = lxml.html.fromstring(page.read_text(encoding="utf-8"))
    figures = dict(zip(doc.xpath("//dl/div/dt/text()"), doc.xpath("//dl/div/dd/text()"),
                       strict=True))
    assert figures == {"alerted": "14/15 covered milestones", "on the day": "12",
                       "median lead": "-0.9 h",
                       "false alerts": "0.04 per 30 quiet days (2 in 1354 quiet days)"}
    assert "alerted: 14/15 covered milestones" in " ".join(doc.xpath("//svg//text()"))


def test_hostile_milestones_and_indicators_are_escaped_everywhere(tmp_path: Path) -> None:
    hostile_indicator = '"><script>alert(2)</script>'
    series = [Day(START + timedelta(days=i), 40.0, (hostile_indicator,)) for i in range(5)]
    stones = [Milestone(date(2021, 1, 2), HOSTILE, ("<b>cat</b>",), True)]
    alerts = [AlertMark(START + timedelta(days=1), "<i>warning</i>", 1, false=False)]
    _, page = render(tmp_path, series=series, milestones=stones, alerts=alerts)
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text.lower() and "<b>" not in text and "<i>" not in text
    doc = lxml.html.fromstring(text)
    assert not doc.xpath("//script | //b | //i")
    tips = tooltips(doc)
    assert HOSTILE in tips["tocsin-hover-milestone-1"]
    assert "categories: <b>cat</b>" in tips["tocsin-hover-milestone-1"]
    assert any(hostile_indicator in t for k, t in tips.items() if "-day-" in k)
    assert doc.xpath("//table//td/text()").count(HOSTILE) == 1
