"""Row diff engine: prove that a target's tables hold the same rows as the source's, or show which differ.

Public API: :func:`diff_databases`, :class:`DiffOptions`, the result model (:class:`DiffReport`, :class:`TableDiff`,
:class:`RowImage`, :class:`ChangedRow`, :class:`CellChange`), the progress events and :class:`DiffError`.
"""

from dms_tui.data.diff.engine import DiffOptions, diff_databases
from dms_tui.data.diff.errors import DiffError
from dms_tui.data.diff.events import BucketsScanned, DiffEvent, Rechecking, TableCompared, TableStarted
from dms_tui.data.diff.result import CellChange, ChangedRow, DiffReport, RowImage, TableDiff

__all__ = [
    "BucketsScanned",
    "CellChange",
    "ChangedRow",
    "DiffError",
    "DiffEvent",
    "DiffOptions",
    "DiffReport",
    "Rechecking",
    "RowImage",
    "TableCompared",
    "TableDiff",
    "TableStarted",
    "diff_databases",
]
