"""Prepared diff results for the Diff screen's snapshot tests (fixed times, so the pictures are deterministic).

Each value is written the way PostgreSQL's text form would carry it: None is SQL NULL, '' the empty string.
"""

from __future__ import annotations

from dms_tui.data.diff import CellChange, ChangedRow, DiffReport, RowImage, TableDiff

ORDER_COLUMNS = ("id", "customer", "status", "note", "amount", "placed_at")


def _order(id_: int, customer: str, status: str | None, note: str | None, amount: str, placed_at: str) -> dict:
    return dict(zip(ORDER_COLUMNS, (str(id_), customer, status, note, amount, placed_at), strict=True))


def identical_report() -> DiffReport:
    return DiffReport(
        tables=(
            TableDiff("public.customers", "public.customers", ("id",), ("id", "name"), 250, 250, elapsed_seconds=0.04),
            TableDiff("public.orders", "public.orders", ("id",), ORDER_COLUMNS, 12_000, 12_000, elapsed_seconds=0.21),
            TableDiff(
                "demo_schema.demo_table", "demo_schema.demo_table", None, ("id", "txt"), 4, 4, elapsed_seconds=0.01
            ),
        ),
        elapsed_seconds=0.27,
    )


def _changed(source: dict, target: dict) -> ChangedRow:
    columns = {c: CellChange(source[c], target[c]) for c in ORDER_COLUMNS if source[c] != target[c]}
    return ChangedRow({"id": source["id"]}, columns, source, target)


def differences_report() -> DiffReport:
    """Every kind of difference: missing, extra and changed rows (NULL vs '' vs 'NULL', trailing spaces, a long
    value), a key-less table with duplicates, and a renamed table whose column type drifted."""
    long_note = "gift wrap, leave at the side door, call ahead; fragile glassware inside"
    orders = TableDiff(
        "public.orders",
        "public.orders",
        ("id",),
        ORDER_COLUMNS,
        6,
        6,
        missing_in_target=(
            RowImage({"id": "4"}, _order(4, "Dana", "new", None, "12.50", "2024-05-01 09:00:00+00"), 1, 1, 0),
        ),
        extra_in_target=(
            RowImage({"id": "9"}, _order(9, "Eve", "new", "", "3.00", "2024-05-03 10:15:00.5+00"), 1, 0, 1),
        ),
        changed=(
            _changed(
                _order(2, "Bob", "shipped", None, "20.00", "2024-05-01 12:00:00+00"),
                _order(2, "Bob", "SHIPPED", "", "20.00", "2024-05-01 12:00:00+00"),
            ),
            _changed(
                _order(3, "Cy", "paid", "NULL", "7.10", "2024-05-02 08:30:00+00"),
                _order(3, "Cy  ", "paid", None, "7.10", "2024-05-02 08:30:00+00"),
            ),
            _changed(
                _order(5, "Ann", "paid", long_note, "99.99", "2024-05-02 18:45:00+00"),
                _order(5, "Ann", "paid", long_note[:40], "99.99", "2024-05-02 18:45:00+00"),
            ),
        ),
        elapsed_seconds=0.12,
    )
    events = TableDiff(
        "demo_schema.demo_table",
        "demo_schema.demo_table",
        None,
        ("id", "txt"),
        4,
        3,
        missing_in_target=(RowImage(None, {"id": "2", "txt": "two"}, 1, 2, 1),),
        elapsed_seconds=0.02,
    )
    items = TableDiff(
        "public.items",
        "sales.items",
        ("sku",),
        ("sku", "price"),
        3,
        3,
        schema_drift=("column price: numeric in source, text in target",),
        elapsed_seconds=0.01,
    )
    customers = TableDiff(
        "public.customers", "public.customers", ("id",), ("id", "name"), 250, 250, elapsed_seconds=0.04
    )
    return DiffReport(tables=(customers, orders, events, items), elapsed_seconds=0.19)
