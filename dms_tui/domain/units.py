"""How numbers and durations read on a screen 80 columns wide: ``1.0M`` rows, ``481k rows/s``, ``350ms``, ``6m10s``.

One place for these, so the per-table view, the progress lines, terraform's timers and the report agree.
"""

from __future__ import annotations

_SUFFIXES = ((1_000_000_000_000, "T"), (1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k"))


def abbreviate(value: float) -> str:
    """``999``, ``1.2k``, ``481k``, ``1.0M``: at most four characters for any count up to 999T.

    Under 1,000 the exact figure is shown; above, one decimal below 10 and none from 10 on, so the width stays small.
    """
    if value < 0:
        return "-" + abbreviate(-value)
    if value < 1000:
        return f"{value:.0f}"
    for index, (size, suffix) in enumerate(_SUFFIXES):
        if value >= size * 0.9995:  # 999,950 reads as 1.0M, not 1000k
            scaled = value / size
            if scaled >= 999.5 and index > 0:  # rounding up into the next unit
                size, suffix = _SUFFIXES[index - 1]
                scaled = value / size
            return f"{scaled:.1f}{suffix}" if scaled < 9.95 else f"{scaled:.0f}{suffix}"
    return f"{value:.0f}"


def format_rate(rows_per_second: float, unit: str = "rows/s") -> str:
    """``481k rows/s``; ``0 rows/s`` when nothing moved."""
    return f"{abbreviate(rows_per_second)} {unit}" if unit else abbreviate(rows_per_second)


def format_duration(seconds: float | None, *, coarse: bool = False) -> str:
    """``350ms`` under a second, then ``45s``, ``6m10s``, ``1h02m03s``; a dash when unknown.

    ``coarse`` drops the seconds past an hour (``1h02m``) for a narrow table cell.
    """
    if seconds is None:
        return "–"
    seconds = max(0.0, seconds)
    if seconds < 0.9995:  # 0.9996 s reads as 1s, not 1000ms
        return f"{seconds * 1000:.0f}ms"
    whole = max(1, int(seconds))  # 0.9995 s and up: at least "1s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m" if coarse else f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
