"""The preview reads a real source catalog and says which tables the mappings select and what each becomes."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from dms_tui.dmstask.mappings import TableMappings, default_mappings
from dms_tui.dmstask.migration import MigrationType
from dms_tui.dmstask.preview import QualifiedName, preview


@pytest.fixture(scope="module")
def catalog_url(pg_source: Any) -> str:
    url = pg_source.fresh_database("preview_catalog")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """
            CREATE SCHEMA demo_schema;
            CREATE TABLE demo_schema.demo_accounts (accountNumber BIGINT NOT NULL, firstName VARCHAR(20),
                lastName VARCHAR(20), creationTime TIME NOT NULL);
            CREATE TABLE demo_schema.audit_log (id serial PRIMARY KEY, secret_token text, happened timestamptz,
                total numeric(10,2) GENERATED ALWAYS AS (1.5) STORED);
            CREATE TABLE demo_schema.tmp_work (x int);
            CREATE VIEW demo_schema.a_view AS SELECT 1 AS one;
            CREATE SCHEMA "Mixed Case";
            CREATE TABLE "Mixed Case"."Orders" ("Id" int);
            """
        )
    return url


def test_the_seed_mapping_selects_every_table_of_demo_schema_and_nothing_else(catalog_url):
    with psycopg.connect(catalog_url) as conn:
        tables = preview(conn, default_mappings())
    assert [str(t.source) for t in tables] == [
        "demo_schema.audit_log",
        "demo_schema.demo_accounts",
        "demo_schema.tmp_work",
    ]  # not the view, not the other schema
    accounts = tables[1]
    assert accounts.target == accounts.source and not accounts.renamed
    assert [(c.source.name, c.source.type_sql, c.source.not_null) for c in accounts.columns] == [
        ("accountnumber", "bigint", True),
        ("firstname", "character varying(20)", False),
        ("lastname", "character varying(20)", False),
        ("creationtime", "time without time zone", True),
    ]
    assert accounts.table.primary_key == ()
    audit = tables[0]
    assert audit.table.primary_key == ("id",)
    assert "total" not in [c.source.name for c in audit.columns]  # generated columns are not copied


def test_a_preview_shows_renames_removed_columns_exclusions_and_load_order(catalog_url):
    mappings = TableMappings.from_dict(
        {
            "rules": [
                {
                    "rule-type": "selection",
                    "rule-id": "1",
                    "object-locator": {"schema-name": "%", "table-name": "%"},
                    "rule-action": "include",
                },
                {
                    "rule-type": "selection",
                    "rule-id": "2",
                    "object-locator": {"schema-name": "%", "table-name": "tmp%"},
                    "rule-action": "exclude",
                },
                {
                    "rule-type": "selection",
                    "rule-id": "3",
                    "load-order": 2,
                    "object-locator": {"schema-name": "Mixed Case", "table-name": "Orders"},
                    "rule-action": "include",
                },
                {
                    "rule-type": "transformation",
                    "rule-id": "4",
                    "rule-target": "schema",
                    "rule-action": "convert-lowercase",
                    "object-locator": {"schema-name": "Mixed%"},
                },
                {
                    "rule-type": "transformation",
                    "rule-id": "5",
                    "rule-target": "column",
                    "rule-action": "remove-column",
                    "object-locator": {
                        "schema-name": "demo_schema",
                        "table-name": "audit_log",
                        "column-name": "secret%",
                    },
                },
                {
                    "rule-type": "transformation",
                    "rule-id": "6",
                    "rule-target": "table",
                    "rule-action": "rename",
                    "object-locator": {"schema-name": "demo_schema", "table-name": "demo_accounts"},
                    "value": "accounts",
                },
            ]
        }
    )
    with psycopg.connect(catalog_url) as conn:
        tables = preview(conn, mappings)
    assert [(str(t.source), str(t.target)) for t in tables] == [
        ("Mixed Case.Orders", "mixed case.Orders"),  # load-order 2 first
        ("demo_schema.audit_log", "demo_schema.audit_log"),
        ("demo_schema.demo_accounts", "demo_schema.accounts"),
    ]
    assert tables[1].columns_removed == ("secret_token",)
    assert tables[1].primary_key_target == ("id",)
    assert tables[2].renamed and tables[0].target == QualifiedName("mixed case", "Orders")


def test_migration_types_say_what_they_need():
    assert MigrationType("full-load") is MigrationType.FULL_LOAD and not MigrationType.FULL_LOAD.captures_changes
    for kind in (MigrationType.FULL_LOAD_AND_CDC, MigrationType.CDC):
        needs = " ".join(kind.needs)
        assert kind.captures_changes
        assert "wal_level = logical" in needs and "primary key" in needs
    assert "already" in " ".join(MigrationType.CDC.needs)
    assert all(kind.label and kind.summary for kind in MigrationType)
