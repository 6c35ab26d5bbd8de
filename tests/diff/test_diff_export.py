"""Exports of a diff: JSON in the headless contract's shape, CSV with NULL told apart from the empty string."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

from dms_tui.data.diff import DiffReport
from dms_tui.data.diff.export import CSV_HEADER, export_dir, to_csv, to_json, write_export
from dms_tui.data.diff.lines import DifferenceKind, diff_lines, display_columns
from tests.ui.diff_reports import differences_report, identical_report


def _records(report: DiffReport) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(to_csv(report))))


def test_json_export_is_the_headless_document() -> None:
    report = differences_report()
    assert json.loads(to_json(report)) == report.to_json()
    one = report.tables[1]
    assert json.loads(to_json(one)) == one.to_json()


def test_csv_tells_null_from_empty_from_the_text_null() -> None:
    records = _records(differences_report())
    assert tuple(records[0]) == CSV_HEADER

    def cell(key: str, column: str) -> dict[str, str]:
        return next(r for r in records if r["key"] == json.dumps({"id": key}) and r["column"] == column)

    null_to_empty = cell("2", "note")
    assert (null_to_empty["source"], null_to_empty["source_is_null"]) == ("", "true")
    assert (null_to_empty["target"], null_to_empty["target_is_null"]) == ("", "false")
    text_null = cell("3", "note")
    assert (text_null["source"], text_null["source_is_null"], text_null["target_is_null"]) == ("NULL", "false", "true")
    assert cell("3", "customer")["target"] == "Cy  "  # trailing spaces kept verbatim
    # only changed cells are listed for a changed row
    assert {r["column"] for r in records if r["key"] == json.dumps({"id": "2"})} == {"status", "note"}


def test_csv_lists_whole_rows_that_exist_on_one_side_only() -> None:
    records = _records(differences_report())
    missing = [r for r in records if r["difference"] == "missing_in_target" and r["source_table"] == "public.orders"]
    assert [r["column"] for r in missing] == ["id", "customer", "status", "note", "amount", "placed_at"]
    assert all(r["target_is_null"] == "" and r["target"] == "" for r in missing)  # absent, not NULL
    assert next(r for r in missing if r["column"] == "note")["source_is_null"] == "true"
    multiset = [r for r in records if r["source_table"] == "demo_schema.demo_table"]
    assert {(r["key"], r["source_count"], r["target_count"]) for r in multiset} == {("", "2", "1")}
    # the row also occurs (once) in the target, so both sides carry its value
    assert [(r["column"], r["source"], r["target"]) for r in multiset] == [("id", "2", "2"), ("txt", "two", "two")]


def test_csv_names_drift_and_identical_tables() -> None:
    records = _records(differences_report())
    drift = [r for r in records if r["difference"] == "schema_drift"]
    assert [(r["source_table"], r["target_table"], r["note"]) for r in drift] == [
        ("public.items", "sales.items", "column price: numeric in source, text in target")
    ]
    identical = _records(identical_report())
    assert [r["difference"] for r in identical] == ["none"] * 3
    assert identical[1]["note"] == "identical: 12000 rows on each side"


def test_write_export_puts_files_under_the_state_dir(dms_home: Path) -> None:
    report = differences_report()
    when = datetime(2024, 5, 1, 12, 30, 5)
    json_path = write_export(report, "json", now=when)
    csv_path = write_export(report, "csv", now=when)
    assert json_path == export_dir() / "diff-20240501-123005.json"
    assert json_path.is_relative_to(dms_home)
    assert csv_path.read_text() == to_csv(report)
    assert not [p for p in json_path.parent.iterdir() if p.name.startswith(".diff-")]  # no temp file left


def test_lines_put_key_columns_first_and_keep_the_engine_order() -> None:
    orders = differences_report().tables[1]
    lines = diff_lines(orders)
    assert [line.kind for line in lines] == [DifferenceKind.MISSING, DifferenceKind.EXTRA] + [
        DifferenceKind.CHANGED
    ] * 3
    assert lines[1].source is None and lines[1].target is not None
    assert lines[2].changed_columns == {"status", "note"}
    assert display_columns(orders)[0] == "id"
    assert [line.kind for line in diff_lines(orders, {DifferenceKind.EXTRA})] == [DifferenceKind.EXTRA]
