"""Key ranges and names without a database: the arithmetic the engine relies on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dms_tui.data.diff.buckets import INT8_MAX, INT8_MIN, Checksum, KeyRange, differing_buckets, plan_shift
from dms_tui.data.diff.catalog import TableRef, choose_key, target_name

int8 = st.integers(INT8_MIN, INT8_MAX)


@given(int8, int8, st.integers(1, 4096))
def test_a_key_always_falls_inside_the_range_of_its_bucket(a: int, b: int, buckets: int) -> None:
    low, high = min(a, b), max(a, b)
    shift = plan_shift(low, high, buckets)
    assert 0 <= shift <= 63  # PostgreSQL shifts modulo 64
    assert (high >> shift) - (low >> shift) + 1 <= max(buckets, 2)
    for key in (low, high, (low + high) // 2):
        key_range = KeyRange.of_bucket(key >> shift, shift)
        assert key_range.low <= key <= key_range.high
        assert INT8_MIN <= key_range.low and key_range.high <= INT8_MAX


def test_differing_buckets_include_one_sided_ones() -> None:
    source = {1: Checksum(2, 10), 2: Checksum(1, 5), 3: Checksum(1, 7)}
    target = {1: Checksum(2, 10), 2: Checksum(1, 6), 4: Checksum(1, 1)}
    assert differing_buckets(source, target) == [2, 3, 4]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("orders", TableRef("public", "orders")),
        ("sales.orders", TableRef("sales", "orders")),
        ('"my.schema"."a""b"', TableRef("my.schema", 'a"b')),
    ],
)
def test_table_names_parse(text: str, expected: TableRef) -> None:
    assert TableRef.parse(text) == expected


def test_keys_prefer_the_primary_key_then_the_narrowest_not_null_unique_index() -> None:
    assert choose_key([(False, ["a", "b"], True), (True, ["id"], True)]) == ("id",)
    assert choose_key([(False, ["a", "b"], True), (False, ["c"], False), (False, ["d"], True)]) == ("d",)
    assert choose_key([(False, ["c"], False)]) is None


def test_mappings_rename_tables_and_fall_back_to_the_same_name() -> None:
    ref = TableRef("public", "t")
    assert target_name(ref, {"public.t": "x.y"}) == TableRef("x", "y")
    assert target_name(ref, lambda name: None) == ref
    assert target_name(ref, None) == ref
