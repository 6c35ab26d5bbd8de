"""Numbers and durations as the screens print them: short enough for an 80-column table cell, never wrong."""

from __future__ import annotations

import pytest

from dms_tui.domain.units import abbreviate, format_duration, format_rate


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1.0k"),
        (1234, "1.2k"),
        (9949, "9.9k"),
        (9950, "10k"),
        (481_234, "481k"),
        (999_400, "999k"),
        (999_600, "1.0M"),
        (1_000_000, "1.0M"),
        (12_500_000, "12M"),
        (3_000_000_000, "3.0G"),
        (-1500, "-1.5k"),
    ],
)
def test_counts_abbreviate_to_four_characters_or_fewer(value: float, text: str) -> None:
    assert abbreviate(value) == text
    assert len(abbreviate(abs(value))) <= 4


def test_rates_carry_their_unit() -> None:
    assert format_rate(481_234.5) == "481k rows/s"
    assert format_rate(0) == "0 rows/s"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "–"),
        (0, "0ms"),
        (0.0042, "4ms"),
        (0.35, "350ms"),
        (0.9996, "1s"),
        (1.0, "1s"),
        (59.9, "59s"),
        (370, "6m10s"),
        (3723.9, "1h02m03s"),
    ],
)
def test_durations_under_a_second_show_milliseconds(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_a_table_cell_drops_the_seconds_past_an_hour() -> None:
    assert format_duration(3723.9, coarse=True) == "1h02m"
