from datetime import UTC, datetime

import pytest

from tocsin.text.dates import parse_published

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("raw", "expected"), [
    ("2022-02-27T14:05:00+03:00", datetime(2022, 2, 27, 11, 5, tzinfo=UTC)),
    ("2022-02-27T11:05:00Z", datetime(2022, 2, 27, 11, 5, tzinfo=UTC)),
    ("Tue, 21 Feb 2023 14:30:00 +0300", datetime(2023, 2, 21, 11, 30, tzinfo=UTC)),
    ("Tue, 21 Feb 2023 11:30:00 GMT", datetime(2023, 2, 21, 11, 30, tzinfo=UTC)),
    ("21 February 2023 14:30 +01:00", datetime(2023, 2, 21, 13, 30, tzinfo=UTC)),
    (1677000000, datetime(2023, 2, 21, 17, 20, tzinfo=UTC)),
    (1677000000000, datetime(2023, 2, 21, 17, 20, tzinfo=UTC)),
])
def test_dates_become_utc(raw: str | int, expected: datetime) -> None:
    parsed = parse_published(raw, NOW)
    assert parsed.value == expected
    assert parsed.flag is None


def test_a_date_without_zone_is_read_as_utc_and_flagged() -> None:
    parsed = parse_published("2023-02-21 14:30", NOW)
    assert parsed.value == datetime(2023, 2, 21, 14, 30, tzinfo=UTC)
    assert parsed.flag == "no-timezone"


@pytest.mark.parametrize(("raw", "flag"), [
    ("2023-02-30T10:00:00Z", "unparseable"),
    ("Mon, 31 Feb 2023 10:00:00 GMT", "unparseable"),
    ("yesterday", "unparseable"),
    ("5", "unparseable"),
    ("2091-01-01T00:00:00Z", "future"),
    ("2026-11-27T12:00:00Z", "future"),
    ("1850-05-01", "too-old"),
    (None, "missing"),
    ("  ", "missing"),
])
def test_impossible_and_far_future_dates_are_flagged_not_trusted(raw: str | None,
                                                                 flag: str) -> None:
    parsed = parse_published(raw, NOW)
    assert parsed.value is None
    assert parsed.flag == flag
    if raw and raw.strip():
        assert parsed.raw == raw.strip()


def test_a_few_hours_of_clock_skew_is_tolerated() -> None:
    parsed = parse_published("2026-11-25T18:00:00Z", NOW)
    assert parsed.value is not None and parsed.flag is None


def test_dotted_dates_are_day_first_and_unix_strings_are_read() -> None:
    assert parse_published("03.04.2022", NOW).value == datetime(2022, 4, 3, tzinfo=UTC)
    assert parse_published("1645964700", NOW).value == datetime(2022, 2, 27, 12, 25,
                                                                 tzinfo=UTC)


@pytest.mark.parametrize(("raw", "expected"), [
    ("2024-06-01T12:00:00 PST", datetime(2024, 6, 1, 20, 0, tzinfo=UTC)),
    ("1 Mar 2024 12:00 MSK", datetime(2024, 3, 1, 9, 0, tzinfo=UTC)),
    ("Sat, 02 Mar 2024 10:00:00 EST", datetime(2024, 3, 2, 15, 0, tzinfo=UTC)),
])
def test_zone_names_of_the_press_are_read(raw: str, expected: datetime) -> None:
    parsed = parse_published(raw, NOW)
    assert (parsed.value, parsed.flag) == (expected, None)


@pytest.mark.parametrize("raw", ["2024-01-01T00:00:00+25:00", "Fri, 01 Mar 2024 12:00:00 +2500",
                                 "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00-99:99"])
def test_an_offset_of_a_day_or_more_is_unparseable_not_a_crash(raw: str) -> None:
    parsed = parse_published(raw, NOW)
    assert (parsed.value, parsed.raw, parsed.flag) == (None, raw, "unparseable")
