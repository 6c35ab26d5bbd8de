"""The row diff on real PostgreSQL: each case of issue 7, one small table per test."""

# ruff: noqa: S608  -- the SQL here is built from the tests' own constant table names

from __future__ import annotations

from collections.abc import Callable

import pytest

from dms_tui.data.diff import (
    BucketsScanned,
    DiffError,
    DiffEvent,
    Rechecking,
    TableCompared,
    TableDiff,
    TableStarted,
    diff_databases,
)
from dms_tui.data.diff.hashing import HashStrategy

from .conftest import SqlRunner, run_sql

Diff = Callable[..., TableDiff]


def changes(diff: TableDiff) -> dict[str, dict[str, tuple[str | None, str | None]]]:
    """{key text: {column: (source, target)}} of the changed rows."""
    return {
        ",".join(str(v) for v in row.key.values()): {name: (c.source, c.target) for name, c in row.columns.items()}
        for row in diff.changed
    }


def test_identical_tables_are_identical_with_their_row_counts(both: SqlRunner, diff_table: Diff) -> None:
    both(
        "CREATE TABLE same (id int PRIMARY KEY, name text, at timestamptz)",
        "INSERT INTO same SELECT g, 'n' || g, '2024-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 500) g",
    )
    diff = diff_table("public.same")
    assert diff.identical and diff.key == ("id",)
    assert (diff.source_rows, diff.target_rows) == (500, 500)
    assert diff.to_json()["missing_in_target"] == [] and diff.to_json()["changed"] == []


def test_updates_deletes_and_inserts_are_listed_with_the_changed_columns(
    both: SqlRunner, target_sql: SqlRunner, diff_table: Diff
) -> None:
    both(
        "CREATE TABLE orders (id bigint PRIMARY KEY, item text, qty int)",
        "INSERT INTO orders SELECT g, 'item ' || g, g % 10 FROM generate_series(1, 3000) g",
    )
    target_sql(
        "UPDATE orders SET qty = 99 WHERE id = 1500",
        "UPDATE orders SET item = 'renamed', qty = 0 WHERE id = 2999",
        "DELETE FROM orders WHERE id IN (1, 2000)",
        "INSERT INTO orders VALUES (5000, 'new', 1)",
    )
    diff = diff_table("public.orders")
    assert not diff.identical
    assert [r.key for r in diff.missing_in_target] == [{"id": "1"}, {"id": "2000"}]
    assert diff.missing_in_target[0].row == {"id": "1", "item": "item 1", "qty": "1"}
    assert [(r.key, r.row["item"]) for r in diff.extra_in_target] == [({"id": "5000"}, "new")]
    assert changes(diff) == {
        "1500": {"qty": ("0", "99")},
        "2999": {"item": ("item 2999", "renamed"), "qty": ("9", "0")},
    }
    assert diff.changed[0].source_row["item"] == "item 1500" == diff.changed[0].target_row["item"]
    assert (diff.source_rows, diff.target_rows) == (3000, 2999)


def test_null_empty_string_and_the_text_null_are_three_different_values(
    source_sql: SqlRunner, target_sql: SqlRunner, diff_table: Diff
) -> None:
    create = "CREATE TABLE nulls (id int PRIMARY KEY, v text)"
    source_sql(create, "INSERT INTO nulls VALUES (1, NULL), (2, ''), (3, 'NULL'), (4, NULL)")
    target_sql(create, "INSERT INTO nulls VALUES (1, ''), (2, 'NULL'), (3, NULL), (4, NULL)")
    assert changes(diff_table("public.nulls")) == {
        "1": {"v": (None, "")},
        "2": {"v": ("", "NULL")},
        "3": {"v": ("NULL", None)},
    }


def test_a_null_moving_to_another_column_is_a_change(
    source_sql: SqlRunner, target_sql: SqlRunner, diff_table: Diff
) -> None:
    create = "CREATE TABLE moving (id int PRIMARY KEY, a text, b text)"
    source_sql(create, "INSERT INTO moving VALUES (1, NULL, 'x'), (2, 'y', 'y')")
    target_sql(create, "INSERT INTO moving VALUES (1, 'x', NULL), (2, 'y', 'y')")
    assert changes(diff_table("public.moving")) == {"1": {"a": (None, "x"), "b": ("x", None)}}


def test_trailing_spaces_are_a_difference_and_stay_visible(
    source_sql: SqlRunner, target_sql: SqlRunner, diff_table: Diff
) -> None:
    create = "CREATE TABLE spaces (id int PRIMARY KEY, v varchar(20))"
    source_sql(create, "INSERT INTO spaces VALUES (1, 'abc'), (2, 'same ')")
    target_sql(create, "INSERT INTO spaces VALUES (1, 'abc  '), (2, 'same ')")
    assert changes(diff_table("public.spaces")) == {"1": {"v": ("abc", "abc  ")}}


def test_timestamptz_written_and_read_under_different_session_time_zones_is_equal(
    databases: tuple[str, str], diff_table: Diff
) -> None:
    source_url, target_url = databases
    create = "CREATE TABLE instants (id int PRIMARY KEY, at timestamptz, day date)"
    run_sql(
        source_url,
        "SET TimeZone = 'America/New_York'",
        create,
        "INSERT INTO instants VALUES (1, '2024-03-10 01:30:00', '2024-03-10'), (2, '2024-07-01 12:00:00.25', '2024-07-01')",
    )
    run_sql(
        target_url,
        "SET TimeZone = 'Asia/Tokyo'",
        create,
        "INSERT INTO instants VALUES (1, '2024-03-10 15:30:00', '2024-03-10'), (2, '2024-07-02 01:00:00.25', '2024-07-01')",
    )
    # The target's sessions default to another zone too: the engine pins both sessions to UTC.
    tokyo = target_url + " options='-c TimeZone=Asia/Tokyo'"
    report = diff_databases(source_url, tokyo, tables=["instants"])
    assert report.identical
    run_sql(target_url, "UPDATE instants SET at = at + interval '1 microsecond' WHERE id = 2")
    diff = diff_table("instants")
    assert changes(diff) == {"2": {"at": ("2024-07-01 16:00:00.25+00", "2024-07-01 16:00:00.250001+00")}}


def test_numeric_scale_does_not_matter_but_the_value_does(
    source_sql: SqlRunner, target_sql: SqlRunner, diff_table: Diff
) -> None:
    create = "CREATE TABLE prices (id int PRIMARY KEY, price numeric)"
    source_sql(create, "INSERT INTO prices VALUES (1, 1.5), (2, 10), (3, 2.25)")
    target_sql(create, "INSERT INTO prices VALUES (1, 1.50), (2, 10.000), (3, 2.26)")
    diff = diff_table("prices")
    assert changes(diff) == {"3": {"price": ("2.25", "2.26")}}


def test_enums_compare_by_label_even_when_their_oids_differ(
    source_sql: SqlRunner, target_sql: SqlRunner, diff_table: Diff
) -> None:
    source_sql(
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE TABLE moods (id int PRIMARY KEY, m mood)",
        "INSERT INTO moods VALUES (1, 'sad'), (2, 'happy'), (3, 'ok')",
    )
    target_sql(
        "CREATE TYPE filler AS ENUM ('a', 'b')",  # shifts the OIDs of the target's enum labels
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE TABLE moods (id int PRIMARY KEY, m mood)",
        "INSERT INTO moods VALUES (1, 'sad'), (2, 'happy'), (3, 'sad')",
    )
    assert changes(diff_table("moods")) == {"3": {"m": ("ok", "sad")}}


def test_jsonb_compares_by_value_and_json_by_its_exact_text(
    source_sql: SqlRunner, target_sql: SqlRunner, diff_table: Diff
) -> None:
    create = "CREATE TABLE docs (id int PRIMARY KEY, b jsonb, j json)"
    source_sql(
        create, """INSERT INTO docs VALUES (1, '{"a": 1, "b": [1, 2]}', '{"a": 1}'), (2, '{"x": null}', '{"k": 2}')"""
    )
    target_sql(
        create, """INSERT INTO docs VALUES (1, '{"b":[1,2],  "a":1}', '{"a": 1}'), (2, '{"x": null}', '{"k":2}')"""
    )
    assert changes(diff_table("docs")) == {"2": {"j": ('{"k": 2}', '{"k":2}')}}


def test_arrays_distinguish_a_null_element_from_the_text_null(
    source_sql: SqlRunner, target_sql: SqlRunner, diff_table: Diff
) -> None:
    create = "CREATE TABLE arrays (id int PRIMARY KEY, tags text[], nums numeric[])"
    source_sql(create, "INSERT INTO arrays VALUES (1, ARRAY['a', NULL], ARRAY[1.5]), (2, ARRAY['x'], ARRAY[1, 2])")
    target_sql(create, "INSERT INTO arrays VALUES (1, ARRAY['a', 'NULL'], ARRAY[1.5]), (2, ARRAY['x'], ARRAY[1, 3])")
    assert changes(diff_table("arrays")) == {
        "1": {"tags": ("{a,NULL}", '{a,"NULL"}')},
        "2": {"nums": ("{1,2}", "{1,3}")},
    }


def test_bytea_is_compared_and_shown_in_hex(source_sql: SqlRunner, target_sql: SqlRunner, diff_table: Diff) -> None:
    create = "CREATE TABLE blobs (id int PRIMARY KEY, data bytea)"
    source_sql(create, "INSERT INTO blobs VALUES (1, '\\x00'), (2, '\\xdeadbeef')")
    target_sql(create, "INSERT INTO blobs VALUES (1, '\\x0000'), (2, '\\xdeadbeef')")
    assert changes(diff_table("blobs")) == {"1": {"data": ("\\x00", "\\x0000")}}


def test_time_with_fractions_of_a_second(source_sql: SqlRunner, target_sql: SqlRunner, diff_table: Diff) -> None:
    create = "CREATE TABLE clock (id int PRIMARY KEY, t time, tz timetz)"
    source_sql(create, "INSERT INTO clock VALUES (1, '12:00:00.5', '12:00:00+02'), (2, '08:00', '08:00+00')")
    target_sql(create, "INSERT INTO clock VALUES (1, '12:00:00', '12:00:00+02'), (2, '08:00', '08:00+00')")
    assert changes(diff_table("clock")) == {"1": {"t": ("12:00:00.5", "12:00:00")}}


def test_composite_and_text_keys_are_hash_bucketed_and_reported_by_key(
    both: SqlRunner, target_sql: SqlRunner, diff_table: Diff
) -> None:
    both(
        "CREATE TABLE lines (region text, line_no int, amount numeric, PRIMARY KEY (region, line_no))",
        "INSERT INTO lines SELECT r, g, g * 1.5 FROM unnest(ARRAY['eu', 'us', 'ap']) r, generate_series(1, 400) g",
    )
    target_sql(
        "UPDATE lines SET amount = 0 WHERE region = 'us' AND line_no = 7",
        "DELETE FROM lines WHERE region = 'ap' AND line_no = 400",
        "INSERT INTO lines VALUES ('sa', 1, 1)",
    )
    diff = diff_table("lines")
    assert diff.key == ("region", "line_no")
    assert changes(diff) == {"us,7": {"amount": ("10.5", "0")}}
    assert [r.key for r in diff.missing_in_target] == [{"region": "ap", "line_no": "400"}]
    assert [r.key for r in diff.extra_in_target] == [{"region": "sa", "line_no": "1"}]


def test_a_text_primary_key(source_sql: SqlRunner, target_sql: SqlRunner, diff_table: Diff) -> None:
    create = "CREATE TABLE codes (code text PRIMARY KEY, label text)"
    source_sql(create, "INSERT INTO codes VALUES ('A', 'alpha'), ('B', 'beta'), ('b', 'small beta')")
    target_sql(create, "INSERT INTO codes VALUES ('A', 'alpha'), ('B', 'BETA'), ('c', 'gamma')")
    diff = diff_table("codes")
    assert changes(diff) == {"B": {"label": ("beta", "BETA")}}
    assert [r.key for r in diff.missing_in_target] == [{"code": "b"}]
    assert [r.key for r in diff.extra_in_target] == [{"code": "c"}]


@pytest.mark.parametrize("leaf_rows", [1_000_000, 4], ids=["fetched-whole", "re-bucketed"])
def test_integer_keys_with_huge_gaps_and_negative_values(
    both: SqlRunner, target_sql: SqlRunner, diff_table: Diff, leaf_rows: int
) -> None:
    table = "gaps_split" if leaf_rows == 4 else "gaps_whole"
    both(
        f"CREATE TABLE {table} (id bigint PRIMARY KEY, v text)",
        f"INSERT INTO {table} VALUES (-9223372036854775808, 'min'), (-5, 'neg'), (0, 'zero'), "
        f"(9223372036854775807, 'max'), (1000000000000000, 'far')",
        f"INSERT INTO {table} SELECT g, 'dense' FROM generate_series(1, 2000) g",
        f"ANALYZE {table}",
    )
    target_sql(
        f"UPDATE {table} SET v = 'MIN' WHERE id = -9223372036854775808",
        f"UPDATE {table} SET v = 'MAX' WHERE id = 9223372036854775807",
        f"UPDATE {table} SET v = 'changed' WHERE id = 1234",
        f"DELETE FROM {table} WHERE id = -5",
        f"INSERT INTO {table} VALUES (-4611686018427387904, 'new')",
    )
    events: list[DiffEvent] = []
    diff = diff_table(table, leaf_rows=leaf_rows, on_event=events.append)
    assert changes(diff) == {
        "-9223372036854775808": {"v": ("min", "MIN")},
        "1234": {"v": ("dense", "changed")},
        "9223372036854775807": {"v": ("max", "MAX")},
    }
    assert [r.key for r in diff.missing_in_target] == [{"id": "-5"}]
    assert [r.key for r in diff.extra_in_target] == [{"id": "-4611686018427387904"}]
    scans = [e for e in events if isinstance(e, BucketsScanned)]
    # The whole-table pass, then one bucketed pass; with tiny leaves the skewed buckets (all 2000 dense keys share
    # a range) are split again.
    assert (len(scans) > 2) == (leaf_rows == 4)


def test_identical_tables_are_proven_by_one_whole_table_pass(both: SqlRunner, diff_table: Diff) -> None:
    both(
        "CREATE TABLE whole (id int PRIMARY KEY, v text)",
        "INSERT INTO whole SELECT g, 'v' || g FROM generate_series(1, 500) g",
    )
    events: list[DiffEvent] = []
    diff = diff_table("whole", on_event=events.append)
    scans = [e for e in events if isinstance(e, BucketsScanned)]
    assert diff.identical and diff.source_rows == diff.target_rows == 500
    assert [(s.buckets, s.differing, s.rows) for s in scans] == [(1, 0, 1000)]


def test_booleans_keep_true_false_and_null_apart_in_every_column(
    both: SqlRunner, target_sql: SqlRunner, diff_table: Diff
) -> None:
    both(
        "CREATE TABLE flags (id int PRIMARY KEY, a boolean, b boolean)",
        "INSERT INTO flags VALUES (1, true, false), (2, NULL, true), (3, false, NULL), (4, true, true)",
    )
    # Each change keeps the multiset of values in the row (or the table) the same, so only per-column hashing finds it.
    target_sql(
        "UPDATE flags SET a = false, b = true WHERE id = 1",
        "UPDATE flags SET a = true, b = NULL WHERE id = 2",
        "UPDATE flags SET a = NULL, b = false WHERE id = 3",
    )
    assert changes(diff_table("flags")) == {
        "1": {"a": ("true", "false"), "b": ("false", "true")},
        "2": {"a": (None, "true"), "b": ("true", None)},
        "3": {"a": ("false", None), "b": (None, "false")},
    }


def test_tables_without_a_key_compare_as_multisets_counting_duplicates(
    source_sql: SqlRunner, target_sql: SqlRunner, diff_table: Diff
) -> None:
    create = "CREATE TABLE demo (name text, score numeric)"
    source_sql(create, "INSERT INTO demo VALUES ('a', 1), ('a', 1), ('a', 1.0), ('b', 2), ('d', NULL)")
    target_sql(create, "INSERT INTO demo VALUES ('a', 1), ('b', 2), ('c', 3), ('c', 3), ('d', NULL)")
    diff = diff_table("demo")
    assert diff.key is None
    [missing] = diff.missing_in_target
    assert (missing.key, missing.row["name"], missing.count, missing.source_count, missing.target_count) == (
        None,
        "a",
        2,
        3,
        1,
    )
    [extra] = diff.extra_in_target
    assert (extra.row, extra.count, extra.source_count, extra.target_count) == ({"name": "c", "score": "3"}, 2, 0, 2)
    assert diff.to_json()["missing_in_target"][0]["count"] == 2


def test_identical_multisets_are_identical(both: SqlRunner, diff_table: Diff) -> None:
    both("CREATE TABLE dupes (v text)", "INSERT INTO dupes SELECT 'same' FROM generate_series(1, 50)")
    assert diff_table("dupes").identical


def test_renamed_tables_are_paired_through_the_mappings(
    source_sql: SqlRunner, target_sql: SqlRunner, databases: tuple[str, str]
) -> None:
    source_sql(
        "CREATE TABLE customers (id int PRIMARY KEY, name text)", "INSERT INTO customers VALUES (1, 'ann'), (2, 'bo')"
    )
    target_sql(
        "CREATE SCHEMA crm",
        "CREATE TABLE crm.clients (id int PRIMARY KEY, name text)",
        "INSERT INTO crm.clients VALUES (1, 'ann'), (2, 'bob')",
    )
    for mapping in (
        {"public.customers": "crm.clients"},
        lambda name: "crm.clients" if name == "public.customers" else None,
    ):
        report = diff_databases(*databases, tables=["customers"], mapping=mapping)
        [diff] = report.tables
        assert (diff.source_table, diff.target_table) == ("public.customers", "crm.clients")
        assert changes(diff) == {"2": {"name": ("bo", "bob")}}


def test_column_type_drift_is_reported_and_equal_values_still_match(
    source_sql: SqlRunner, target_sql: SqlRunner, diff_table: Diff
) -> None:
    source_sql(
        "CREATE TABLE drift (id int PRIMARY KEY, n int, only_source text)",
        "INSERT INTO drift VALUES (1, 10, 'x'), (2, 20, 'y')",
    )
    target_sql(
        "CREATE TABLE drift (id int PRIMARY KEY, n bigint, only_target text)",
        "INSERT INTO drift VALUES (1, 10, 'z'), (2, 21, 'z')",
    )
    diff = diff_table("drift")
    assert diff.schema_drift == (
        "column n changed type: integer in source, bigint in target",
        "column only_source (text) is missing in the target",
        "column only_target (text) exists only in the target",
    )
    assert diff.columns == ("id", "n")
    assert changes(diff) == {"2": {"n": ("20", "21")}}
    assert not diff.identical


def test_a_table_missing_in_the_target_is_drift_and_a_missing_source_table_an_error(
    source_sql: SqlRunner, diff_table: Diff
) -> None:
    source_sql("CREATE TABLE lonely (id int PRIMARY KEY)", "INSERT INTO lonely VALUES (1), (2)")
    diff = diff_table("lonely")
    assert diff.schema_drift == ("table public.lonely does not exist in the target",)
    assert (diff.source_rows, diff.target_rows, diff.identical) == (2, 0, False)
    with pytest.raises(DiffError, match="does not exist in the source"):
        diff_table("public.nowhere")


def test_long_lists_are_truncated_at_max_rows(both: SqlRunner, target_sql: SqlRunner, diff_table: Diff) -> None:
    both("CREATE TABLE many (id int PRIMARY KEY, v int)", "INSERT INTO many SELECT g, g FROM generate_series(1, 300) g")
    target_sql("UPDATE many SET v = -v WHERE id % 3 = 0")
    diff = diff_table("many", max_rows=5, fetch_batch=1)
    assert diff.truncated and len(diff.changed) == 5 and not diff.identical
    full = diff_table("many", max_rows=100)
    assert not full.truncated and len(full.changed) == 100


def test_differences_that_disappear_while_the_task_catches_up_are_not_reported(
    both: SqlRunner, target_sql: SqlRunner, diff_table: Diff
) -> None:
    both("CREATE TABLE catching_up (id int PRIMARY KEY, v text)", "INSERT INTO catching_up VALUES (1, 'a'), (2, 'b')")
    target_sql("UPDATE catching_up SET v = 'stale' WHERE id IN (1, 2)")

    def task_applies_one_change(event: DiffEvent) -> None:
        if isinstance(event, Rechecking):
            target_sql("UPDATE catching_up SET v = 'a' WHERE id = 1")

    diff = diff_table("catching_up", recheck=True, recheck_delay_seconds=0.01, on_event=task_applies_one_change)
    assert diff.rechecked
    assert changes(diff) == {"2": {"v": ("b", "stale")}}


@pytest.mark.parametrize("strategy", list(HashStrategy), ids=lambda s: s.value)
def test_every_hash_strategy_finds_the_same_differences(
    both: SqlRunner, target_sql: SqlRunner, diff_table: Diff, strategy: HashStrategy
) -> None:
    table = f"mixed_{strategy.value}"
    both(
        f"CREATE TABLE {table} (id int PRIMARY KEY, price numeric, at timestamptz, note text, doc jsonb)",
        f"INSERT INTO {table} SELECT g, g * 1.25, '2024-01-01'::timestamptz + g * interval '1 hour', "
        f"CASE WHEN g % 5 = 0 THEN NULL ELSE 'n' || g END, jsonb_build_object('g', g) FROM generate_series(1, 200) g",
    )
    target_sql(f"UPDATE {table} SET price = price * 1.00 WHERE id < 50", f"UPDATE {table} SET note = '' WHERE id = 10")
    diff = diff_table(table, strategy=strategy)
    assert changes(diff) == {"10": {"note": (None, "")}}


def test_progress_events_tell_the_story_of_the_run(both: SqlRunner, databases: tuple[str, str]) -> None:
    both("CREATE TABLE progress (id int PRIMARY KEY)", "INSERT INTO progress SELECT generate_series(1, 100)")
    events: list[DiffEvent] = []
    diff_databases(*databases, tables=["progress"], on_event=events.append)
    assert isinstance(events[0], TableStarted) and (events[0].position, events[0].total) == (1, 1)
    scanned = [e for e in events if isinstance(e, BucketsScanned)]
    assert scanned and scanned[0].rows == 200 and scanned[0].rows_per_second > 0
    assert isinstance(events[-1], TableCompared) and events[-1].diff.identical


@pytest.mark.parametrize("keyed", [True, False], ids=["integer-key", "no-key"])
def test_a_first_pass_split_into_block_ranges_finds_the_same_differences(
    both: SqlRunner, target_sql: SqlRunner, diff_table: Diff, keyed: bool
) -> None:
    table = "split_keyed" if keyed else "split_bag"
    both(
        f"CREATE TABLE {table} (id int {'PRIMARY KEY' if keyed else ''}, v text)",
        f"INSERT INTO {table} SELECT g, repeat('x', 200) || g FROM generate_series(1, 3000) g",
    )
    target_sql(f"UPDATE {table} SET v = 'changed' WHERE id = 2999", f"DELETE FROM {table} WHERE id = 5")
    events: list[DiffEvent] = []
    diff = diff_table(table, scan_parts=3, min_blocks_to_split=1, on_event=events.append)
    scanned = next(e for e in events if isinstance(e, BucketsScanned))
    assert scanned.rows == 3000 + 2999  # every row counted exactly once across the three block ranges
    if keyed:
        assert changes(diff) == {"2999": {"v": (f"{'x' * 200}2999", "changed")}}
        assert [r.key for r in diff.missing_in_target] == [{"id": "5"}]
    else:
        assert sorted(r.row["id"] for r in diff.missing_in_target) == ["2999", "5"]
        assert [r.row["v"] for r in diff.extra_in_target] == ["changed"]


def test_keys_straddling_zero_in_a_small_analyzed_table(
    both: SqlRunner, target_sql: SqlRunner, diff_table: Diff
) -> None:
    # One planned bucket cannot hold keys on both sides of zero: the plan must not overflow the shift (>> 64 is >> 0).
    both(
        "CREATE TABLE straddle (id int PRIMARY KEY, v int)",
        "INSERT INTO straddle SELECT g, g FROM generate_series(-1, 600) g",
        "ANALYZE straddle",
    )
    target_sql("UPDATE straddle SET v = 0 WHERE id IN (-1, 300)")
    assert changes(diff_table("straddle")) == {"-1": {"v": ("-1", "0")}, "300": {"v": ("300", "0")}}
