from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import lxml.html
import pytest

from tocsin.alerts.chart import AlertMark, Milestone, write_chart
from tocsin.errors import TocsinError

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
    assert [th.text for th in doc.xpath("//table//th")] == ["milestone", "lead (days)", "alert"]
    cells = [[td.text or "" for td in tr.xpath("td")] for tr in doc.xpath("//table/tbody/tr")]
    assert cells == [["Exercise announced", "3", "#1"], [HOSTILE, "", "—"]]


def test_without_rows_the_table_lists_milestones(tmp_path: Path) -> None:
    _, page = render(tmp_path)
    doc = lxml.html.fromstring(page.read_text(encoding="utf-8"))
    cells = [[td.text for td in tr.xpath("td")] for tr in doc.xpath("//table/tbody/tr")]
    assert cells[0] == ["2021-07-20", "Exercise announced", "exercise", "yes"]
    assert cells[1] == ["2023-06-20", HOSTILE, "deployment, rhetoric", "no"]


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
        write_chart([], [], [], png=blocker / "x.png", html=tmp_path / "x.html", title="t")
