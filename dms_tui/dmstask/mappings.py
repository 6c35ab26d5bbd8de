"""DMS table mappings: selection, transformation and table-settings rules, their JSON, validation, and how they apply.

The matcher and name-transform functions here are the single source of truth for "which tables does this task copy,
and what are they called on the target": the sandbox engine and the preview both call them.

Semantics followed (the DMS user guide's table-mapping chapter; facts only, the wording here is ours):
- Wildcards in object-locator names: ``%`` any run of characters (also none), ``_`` exactly one character, ``[_]``
  a literal underscore, ``[ab]`` one of a set, ``[a-d]`` one of a range. Everything else matches itself, case-sensitively.
- A table is migrated when an ``include`` rule matches it (or an ``explicit`` rule names it exactly) and no
  ``exclude`` rule matches it. Tables with a higher ``load-order`` are loaded first.
- Source ``filters`` belong to include rules of tables named exactly (no ``%``): the filters of a rule are ANDed, the
  conditions of one filter ORed.
- Transformation rules locate objects by their *source* names. DMS does not let more than one transformation action
  act on the same object (schema, table, column, tablespace); the only documented exception is a data-masking action
  beside ``add-column`` or ``change-data-type`` on the same column. ``validate`` rejects rules that would act on the
  same object, and when such a document is applied anyway (the preview of a draft), only the first rule in rule-id
  order applies: actions are never chained.
- Round trip: a rule that was read from a document and not changed is written back exactly as it was written
  (``"value": null`` stays, ``"1"`` stays a string, key order kept); only rules built or changed here are rendered.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

SELECTION_ACTIONS = ("include", "exclude", "explicit")
RULE_TYPES = ("selection", "transformation", "table-settings", "post-processing")

# Which rule-actions DMS accepts for each rule-target (DMS user guide, "Transformation rules and actions").
_NAME_ACTIONS = (
    "rename",
    "add-prefix",
    "remove-prefix",
    "replace-prefix",
    "add-suffix",
    "remove-suffix",
    "replace-suffix",
    "convert-lowercase",
    "convert-uppercase",
)
MASKING_ACTIONS = ("data-masking-digits-mask", "data-masking-digits-randomize", "data-masking-hash-mask")
TRANSFORMATION_ACTIONS: dict[str, tuple[str, ...]] = {
    "schema": _NAME_ACTIONS,
    "table": (*_NAME_ACTIONS, "define-primary-key"),
    "column": (
        *_NAME_ACTIONS,
        "remove-column",
        "add-column",
        "include-column",
        "change-data-type",
        "add-before-image-columns",
        *MASKING_ACTIONS,
    ),
    "table-tablespace": _NAME_ACTIONS,
    "index-tablespace": _NAME_ACTIONS,
}

# DMS's own data types, as a data-type block names them.
DMS_DATA_TYPES = (
    "bytes",
    "date",
    "time",
    "datetime",
    "int1",
    "int2",
    "int4",
    "int8",
    "numeric",
    "real4",
    "real8",
    "string",
    "uint1",
    "uint2",
    "uint4",
    "uint8",
    "wstring",
    "blob",
    "nclob",
    "clob",
    "boolean",
    "set",
    "list",
    "map",
    "tuple",
)
FILTER_OPERATORS = ("lte", "ste", "gte", "eq", "noteq", "between", "notbetween", "null", "notnull")
_ONE_VALUE_OPERATORS = ("lte", "ste", "gte", "eq", "noteq")
_TWO_VALUE_OPERATORS = ("between", "notbetween")
PARALLEL_LOAD_TYPES = ("partitions-auto", "subpartitions-auto", "partitions-list", "ranges", "none")
SANDBOX_PARALLEL_LOAD_TYPES = ("ranges", "partitions-auto", "none")  # what the sandbox engine splits a load by
LOB_SETTINGS_MODES = ("limited", "unlimited", "none")
BEFORE_IMAGE_FILTERS = ("pk-only", "non-lob", "all")
PRIMARY_KEY_ORIGINS = ("primary-key", "unique-index")

# What the sandbox engine (through the preview's plan) carries out; anything else DMS accepts is listed by
# ``sandbox_unsupported`` and fails the sandbox task by name.
SUPPORTED_TARGETS = ("schema", "table", "column")
SUPPORTED_ACTIONS = (
    *_NAME_ACTIONS,
    "remove-column",
    "include-column",
    "change-data-type",
    "add-column",
    "define-primary-key",
)
# data types the sandbox can create on a PostgreSQL target (set/list/map/tuple are for document targets)
SANDBOX_DATA_TYPES = tuple(t for t in DMS_DATA_TYPES if t not in ("set", "list", "map", "tuple"))

_ACTIONS_NEEDING_VALUE = {
    "rename",
    "add-prefix",
    "remove-prefix",
    "replace-prefix",
    "add-suffix",
    "remove-suffix",
    "replace-suffix",
    "add-column",
}
_ACTIONS_NEEDING_OLD_VALUE = {"replace-prefix", "replace-suffix"}
_ACTIONS_NEEDING_DATA_TYPE = {"add-column", "change-data-type"}
# Actions that add an object rather than act on the located one (they never collide with an action on it).
_ADDING_ACTIONS = {"add-column", "add-before-image-columns"}
_LOCATOR_KEYS = {
    "schema": ("schema-name",),
    "table": ("schema-name", "table-name"),
    "column": ("schema-name", "table-name", "column-name"),
    "table-tablespace": ("schema-name", "table-name"),
    "index-tablespace": ("schema-name", "table-name"),
}
# column target, but located by schema and table only (the DMS guide's before-image example names no column-name)
_TABLE_LEVEL_COLUMN_ACTIONS = {"add-column", "add-before-image-columns"}


@dataclass(frozen=True)
class MappingProblem:
    """One invalid rule, named by its place in the document (``rules[3]``), its rule id and the field."""

    rule_id: str | None
    field: str
    message: str
    index: int | None = None  # position in the document's "rules" list (0-based); None: about the whole document

    @property
    def path(self) -> str:
        if self.index is None:
            return self.field
        return f"rules[{self.index}].{self.field}"

    def __str__(self) -> str:
        where = f" (rule-id {self.rule_id})" if self.rule_id not in (None, "") else ""
        return f"{self.path}: {self.message}{where}"


@dataclass(frozen=True)
class SandboxGap:
    """A rule (or setting) AWS DMS accepts that the sandbox engine cannot carry out: by rule id and feature name."""

    rule_id: str | None
    feature: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "feature": self.feature, "detail": self.detail}

    def __str__(self) -> str:
        who = f"rule {self.rule_id}" if self.rule_id is not None else "task settings"
        return f"{who}: {self.feature}: {self.detail}"


class MappingsFormatError(ValueError):
    """The document is not JSON or not shaped like table mappings at all."""


@dataclass(frozen=True)
class SelectionRule:
    rule_id: str
    schema_name: str
    table_name: str
    action: str = "include"
    rule_name: str | None = None
    load_order: int | None = None
    filters: tuple[Any, ...] | None = None  # None: the document had no "filters" key
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # unknown keys, kept verbatim

    def matches(self, schema: str, table: str) -> bool:
        if self.action == "explicit":
            return self.schema_name == schema and self.table_name == table
        return like(self.schema_name, schema) and like(self.table_name, table)


@dataclass(frozen=True)
class TransformationRule:
    rule_id: str
    rule_target: str
    action: str
    schema_name: str | None = None
    table_name: str | None = None
    column_name: str | None = None
    value: str | None = None
    old_value: str | None = None
    rule_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    # -- the action's parameters (kept in ``extra`` so they round-trip verbatim) ----------------------------------

    @property
    def data_type(self) -> dict[str, Any] | None:
        found = self.extra.get("data-type")
        return found if isinstance(found, dict) else None

    @property
    def expression(self) -> str | None:
        found = self.extra.get("expression")
        return found if isinstance(found, str) else None

    @property
    def primary_key_def(self) -> dict[str, Any] | None:
        found = self.extra.get("primary-key-def")
        return found if isinstance(found, dict) else None

    @property
    def locator_data_type(self) -> Any:
        return (self.extra.get("object-locator-extra") or {}).get("data-type")

    def locates(self, schema: str, table: str | None = None, column: str | None = None) -> bool:
        """Whether this rule's object-locator matches the given source object (at this rule's level)."""
        if self.schema_name is None or not like(self.schema_name, schema):
            return False
        if self.rule_target in ("table", "column", "table-tablespace", "index-tablespace"):
            if table is None or self.table_name is None or not like(self.table_name, table):
                return False
        if self.rule_target == "column" and self.action not in _TABLE_LEVEL_COLUMN_ACTIONS:
            if column is None or self.column_name is None or not like(self.column_name, column):
                return False
        return True

    def apply(self, name: str) -> str:
        """The name after this rule's action (remove-column is handled by the caller)."""
        value = self.value or ""
        old = self.old_value or ""
        match self.action:
            case "rename":
                return value
            case "add-prefix":
                return value + name
            case "remove-prefix":
                return name[len(value) :] if value and name.startswith(value) else name
            case "replace-prefix":
                return value + name[len(old) :] if old and name.startswith(old) else name
            case "add-suffix":
                return name + value
            case "remove-suffix":
                return name[: -len(value)] if value and name.endswith(value) else name
            case "replace-suffix":
                return name[: -len(old)] + value if old and name.endswith(old) else name
            case "convert-lowercase":
                return name.lower()
            case "convert-uppercase":
                return name.upper()
        return name


# -- wildcards --------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _like_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        elif char == "[" and (end := pattern.find("]", i + 2)) != -1:
            out.append(_char_class(pattern[i + 1 : end]))
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out), re.S)


def _char_class(body: str) -> str:
    """``[ab]`` a set, ``[a-d]`` a range, ``[_]`` a literal; every character in the brackets is taken literally."""
    parts: list[str] = []
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            low, high = body[i], body[i + 2]
            parts.append(f"{re.escape(low)}-{re.escape(high)}" if low <= high else re.escape(low + "-" + high))
            i += 3
        else:
            parts.append(re.escape(body[i]))
            i += 1
    return "[" + "".join(parts) + "]"


def like(pattern: str, name: str) -> bool:
    """DMS object-locator matching (see the module docstring); case-sensitive."""
    return _like_regex(pattern).fullmatch(name) is not None


def has_wildcard(pattern: str) -> bool:
    """Whether the pattern can match more than its own text (``%``, ``_`` or a bracket set)."""
    return _like_regex(pattern).pattern != re.escape(pattern)


def _overlap(a: str | None, b: str | None) -> bool:
    """Whether two locator patterns can name the same object (same text, or one matches the other's text)."""
    if a is None or b is None:
        return a is b
    return a == b or like(a, b) or like(b, a)


def _rule_sort_key(rule_id: str) -> tuple[int, int | str]:
    return (0, int(rule_id)) if rule_id.isdigit() else (1, rule_id)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class TableMappings:
    """A ``TableMappings`` document: its rules in document order, and any other keys kept verbatim."""

    selection: tuple[SelectionRule, ...] = ()
    transformation: tuple[TransformationRule, ...] = ()
    other_rules: tuple[dict[str, Any], ...] = ()  # table-settings and other rule types, kept as written
    order: tuple[tuple[str, int], ...] = ()  # (kind, index) per rule, to write rules back in their original order
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    raw_ids: dict[str, Any] = field(default_factory=dict, compare=False)  # rule-id as written (number or string)
    raw_rules: tuple[dict[str, Any] | None, ...] = field(default=(), compare=False)  # per ``order`` entry, as read

    # -- positions ------------------------------------------------------------------------------------------------

    def _full_order(self) -> tuple[tuple[str, int], ...]:
        return self.order or (
            tuple(("selection", i) for i in range(len(self.selection)))
            + tuple(("transformation", i) for i in range(len(self.transformation)))
            + tuple(("other", i) for i in range(len(self.other_rules)))
        )

    def _position(self, kind: str, index: int) -> int:
        return self._full_order().index((kind, index))

    # -- queries shared by the engine and the preview -------------------------------------------------------------

    def is_selected(self, schema: str, table: str) -> bool:
        included = any(r.action in ("include", "explicit") and r.matches(schema, table) for r in self.selection)
        excluded = any(r.action == "exclude" and r.matches(schema, table) for r in self.selection)
        return included and not excluded

    def load_order(self, schema: str, table: str) -> int:
        orders = [
            r.load_order or 0
            for r in self.selection
            if r.action in ("include", "explicit") and r.matches(schema, table)
        ]
        return max(orders, default=0)

    def filters_for(self, schema: str, table: str) -> list[dict[str, Any]]:
        """The source filters of the include rules that select this table (all of them apply: AND)."""
        found: list[dict[str, Any]] = []
        for rule in self.selection:
            if rule.action in ("include", "explicit") and rule.filters and rule.matches(schema, table):
                found.extend(f for f in rule.filters if isinstance(f, dict))
        return found

    def parallel_load(self, schema: str, table: str) -> dict[str, Any] | None:
        """The ``parallel-load`` block of the table-settings rule that names this table (the last one wins)."""
        found: dict[str, Any] | None = None
        for other in self.other_rules:
            locator = other.get("object-locator")
            block = other.get("parallel-load")
            if other.get("rule-type") != "table-settings" or not isinstance(block, dict):
                continue
            if (
                isinstance(locator, dict)
                and locator.get("schema-name") == schema
                and locator.get("table-name") == table
            ):
                found = block
        return found

    def _ordered_transformations(self, target: str) -> list[TransformationRule]:
        rules = [r for r in self.transformation if r.rule_target == target]
        return sorted(rules, key=lambda r: _rule_sort_key(r.rule_id))

    def _first(
        self, target: str, actions: Iterable[str], schema: str, table: str | None = None, column: str | None = None
    ) -> TransformationRule | None:
        wanted = set(actions)
        for rule in self._ordered_transformations(target):
            if rule.action in wanted and rule.locates(schema, table, column):
                return rule
        return None

    def target_schema(self, schema: str) -> str:
        rule = self._first("schema", _NAME_ACTIONS, schema)
        return schema if rule is None else rule.apply(schema)

    def target_table(self, schema: str, table: str) -> str:
        rule = self._first("table", _NAME_ACTIONS, schema, table)
        return table if rule is None else rule.apply(table)

    def target_column(self, schema: str, table: str, column: str) -> str | None:
        """The column's target name, or None when the column is not migrated (remove-column, or include-column
        rules on its table that do not name it)."""
        includes = [
            r
            for r in self._ordered_transformations("column")
            if r.action == "include-column"
            and r.schema_name is not None
            and r.table_name is not None
            and like(r.schema_name, schema)
            and like(r.table_name, table)
        ]
        rule = self._first("column", (*_NAME_ACTIONS, "remove-column", "include-column"), schema, table, column)
        if rule is not None and rule.action == "remove-column":
            return None
        if includes and not any(r.locates(schema, table, column) for r in includes):
            return None
        if rule is None or rule.action == "include-column":
            return column
        return rule.apply(column)

    def data_type_change(self, schema: str, table: str, column: str) -> dict[str, Any] | None:
        """The data-type block of the change-data-type rule for this column, if one applies."""
        rule = self._first("column", ("change-data-type",), schema, table, column)
        return None if rule is None else rule.data_type

    def added_columns(self, schema: str, table: str) -> list[TransformationRule]:
        """The add-column rules for this table, in rule-id order."""
        return [
            r for r in self._ordered_transformations("column") if r.action == "add-column" and r.locates(schema, table)
        ]

    def primary_key_definition(self, schema: str, table: str) -> TransformationRule | None:
        return self._first("table", ("define-primary-key",), schema, table)

    # -- what the sandbox cannot run ------------------------------------------------------------------------------

    def sandbox_unsupported(self) -> list[SandboxGap]:
        """Rules a valid DMS task may hold but the sandbox engine cannot carry out, by rule id and feature."""
        from dms_tui.dmstask.expressions import ExpressionUnsupported, translate

        found: list[SandboxGap] = []
        for sel in self.selection:
            table_type = (sel.extra.get("object-locator-extra") or {}).get("table-type")
            if table_type not in (None, "table"):
                found.append(SandboxGap(sel.rule_id, f"table-type {table_type}", "only tables are loaded, not views"))
        for tr in self.transformation:
            if tr.rule_target not in SUPPORTED_TARGETS:
                found.append(
                    SandboxGap(tr.rule_id, f"rule-target {tr.rule_target}", "tablespace rules are not carried out")
                )
                continue
            if tr.action in MASKING_ACTIONS:
                found.append(SandboxGap(tr.rule_id, tr.action, "data masking is not carried out"))
            elif tr.action == "add-before-image-columns":
                found.append(SandboxGap(tr.rule_id, tr.action, "before-image columns need CDC to a streaming target"))
            elif tr.action not in SUPPORTED_ACTIONS:
                found.append(SandboxGap(tr.rule_id, tr.action, "this rule-action is not carried out"))
            if tr.locator_data_type is not None:
                found.append(SandboxGap(tr.rule_id, "object-locator data-type", "columns are not located by data type"))
            data_type = tr.data_type
            if tr.action in _ACTIONS_NEEDING_DATA_TYPE and data_type is not None:
                kind = data_type.get("type")
                if kind in DMS_DATA_TYPES and kind not in SANDBOX_DATA_TYPES:
                    found.append(
                        SandboxGap(tr.rule_id, f"data-type {kind}", "not a type of a PostgreSQL target column")
                    )
            if tr.expression is not None:
                try:
                    translate(tr.expression)
                except ExpressionUnsupported as exc:
                    found.append(SandboxGap(tr.rule_id, f"expression {exc.feature}", str(exc)))
        for other in self.other_rules:
            rule_id = None if other.get("rule-id") is None else str(other.get("rule-id"))
            if other.get("rule-type") == "table-settings":
                parallel = other.get("parallel-load")
                kind = parallel.get("type") if isinstance(parallel, dict) else None
                if parallel is not None and kind not in SANDBOX_PARALLEL_LOAD_TYPES:
                    found.append(
                        SandboxGap(rule_id, f"parallel-load {kind}", "only ranges and partitions-auto are carried out")
                    )
                if "lob-settings" in other:
                    found.append(SandboxGap(rule_id, "lob-settings", "table-settings lob-settings is not carried out"))
            elif other.get("rule-type") in RULE_TYPES:
                found.append(
                    SandboxGap(rule_id, f"rule-type {other.get('rule-type')}", "this rule type is not carried out")
                )
        return found

    def unsupported(self) -> list[str]:
        """``sandbox_unsupported`` as one sentence each (the engine's failure message)."""
        return [str(gap) for gap in self.sandbox_unsupported()]

    # -- validation -----------------------------------------------------------------------------------------------

    def validate(self) -> list[MappingProblem]:
        """What DMS would reject, each naming the rule's place, its id and the field."""
        problems: list[MappingProblem] = []
        ids = Counter(
            [r.rule_id for r in self.selection]
            + [r.rule_id for r in self.transformation]
            + [str(o.get("rule-id")) for o in self.other_rules if o.get("rule-id") is not None]
        )
        reported: set[str] = set()
        for kind, index in self._full_order():
            rule_id = self._rule_id_of(kind, index)
            at = self._position(kind, index)
            if rule_id in (None, ""):
                problems.append(MappingProblem(None, "rule-id", "missing value; give every rule a numeric id.", at))
            elif not str(rule_id).isdigit():
                problems.append(
                    MappingProblem(
                        str(rule_id), "rule-id", f"{rule_id!r} is not numeric; DMS rule ids are numbers.", at
                    )
                )
            elif ids[str(rule_id)] > 1 and str(rule_id) not in reported:
                reported.add(str(rule_id))
                problems.append(
                    MappingProblem(
                        str(rule_id), "rule-id", f"used by {ids[str(rule_id)]} rules; rule ids must be unique.", at
                    )
                )
        for index, sel in enumerate(self.selection):
            problems.extend(self._selection_problems(sel, self._position("selection", index)))
        for index, tr in enumerate(self.transformation):
            problems.extend(self._transformation_problems(tr, self._position("transformation", index)))
        problems.extend(self._collisions())
        for index, other in enumerate(self.other_rules):
            problems.extend(self._other_problems(other, self._position("other", index)))
        if not any(r.action in ("include", "explicit") for r in self.selection):
            problems.append(
                MappingProblem(
                    None,
                    "rules",
                    "no selection rule includes any table; add a selection rule with rule-action include.",
                )
            )
        return problems

    def warnings(self) -> list[MappingProblem]:
        """What DMS accepts but ignores (so the task would not do what the rule seems to say)."""
        found: list[MappingProblem] = []
        for index, sel in enumerate(self.selection):
            if sel.action == "exclude" and sel.filters:
                found.append(
                    MappingProblem(
                        sel.rule_id,
                        "filters",
                        "filters apply only to include rules; DMS ignores them on an exclude rule.",
                        self._position("selection", index),
                    )
                )
        return found

    def _rule_id_of(self, kind: str, index: int) -> str | None:
        if kind == "selection":
            return self.selection[index].rule_id
        if kind == "transformation":
            return self.transformation[index].rule_id
        raw = self.other_rules[index].get("rule-id")
        return None if raw is None else str(raw)

    def _selection_problems(self, sel: SelectionRule, at: int) -> list[MappingProblem]:
        problems: list[MappingProblem] = []

        def problem(where: str, message: str) -> None:
            problems.append(MappingProblem(sel.rule_id, where, message, at))

        if sel.action not in SELECTION_ACTIONS:
            problem("rule-action", f"{sel.action!r} is not a selection action; use include, exclude or explicit.")
        for key, value in (("schema-name", sel.schema_name), ("table-name", sel.table_name)):
            if not value:
                problem(f"object-locator.{key}", "missing value; use % to match any name.")
            elif sel.action == "explicit" and "%" in value:
                problem(f"object-locator.{key}", "an explicit rule names one table; % is not allowed.")
        table_type = (sel.extra.get("object-locator-extra") or {}).get("table-type")
        if table_type is not None and table_type not in ("table", "view", "all"):
            problem("object-locator.table-type", f"{table_type!r} is not a table type; use table, view or all.")
        if sel.filters is None:
            return problems
        if not isinstance(sel.filters, tuple):
            problem("filters", "must be a list of filter objects.")
            return problems
        if sel.filters and sel.action == "include" and ("%" in sel.schema_name or "%" in sel.table_name):
            problem(
                "filters",
                "source filters need a table named exactly; DMS does not support filters with % in the "
                "object-locator. Add a selection rule for that one table with the filter.",
            )
        for f_index, flt in enumerate(sel.filters):
            where = f"filters[{f_index}]"
            if not isinstance(flt, dict):
                problem(where, "must be a JSON object with filter-type, column-name and filter-conditions.")
                continue
            if flt.get("filter-type") != "source":
                problem(f"{where}.filter-type", f'{json.dumps(flt.get("filter-type"))} is not valid; use "source".')
            if not isinstance(flt.get("column-name"), str) or not flt.get("column-name"):
                problem(f"{where}.column-name", "missing value; name the source column to filter on.")
            conditions = flt.get("filter-conditions")
            if not isinstance(conditions, list) or not conditions:
                problem(f"{where}.filter-conditions", "missing value; give a list of one or more conditions.")
                continue
            for c_index, cond in enumerate(conditions):
                problems.extend(
                    self._condition_problems(sel.rule_id, at, f"{where}.filter-conditions[{c_index}]", cond)
                )
        return problems

    @staticmethod
    def _condition_problems(rule_id: str, at: int, where: str, cond: Any) -> list[MappingProblem]:
        if not isinstance(cond, dict):
            return [MappingProblem(rule_id, where, "must be a JSON object with a filter-operator.", at)]
        operator = cond.get("filter-operator")
        if operator not in FILTER_OPERATORS:
            return [
                MappingProblem(
                    rule_id,
                    f"{where}.filter-operator",
                    f"{json.dumps(operator)} is not a filter operator; use one of {', '.join(FILTER_OPERATORS)}.",
                    at,
                )
            ]
        needed = (
            ("value",)
            if operator in _ONE_VALUE_OPERATORS
            else ("start-value", "end-value")
            if operator in _TWO_VALUE_OPERATORS
            else ()
        )
        return [
            MappingProblem(rule_id, f"{where}.{key}", f"missing value; {operator} compares with a {key}.", at)
            for key in needed
            if not _is_scalar(cond.get(key))
        ]

    def _transformation_problems(self, tr: TransformationRule, at: int) -> list[MappingProblem]:
        problems: list[MappingProblem] = []

        def problem(where: str, message: str) -> None:
            problems.append(MappingProblem(tr.rule_id, where, message, at))

        allowed = TRANSFORMATION_ACTIONS.get(tr.rule_target)
        if allowed is None:
            problem(
                "rule-target",
                f"{tr.rule_target!r} is not a rule target; use one of {', '.join(TRANSFORMATION_ACTIONS)}.",
            )
            return problems
        if tr.action not in allowed:
            problem(
                "rule-action",
                f"{tr.action!r} does not apply to rule-target {tr.rule_target!r}; use one of {', '.join(allowed)}.",
            )
        located = {"schema-name": tr.schema_name, "table-name": tr.table_name, "column-name": tr.column_name}
        keys = _LOCATOR_KEYS[tr.rule_target]
        if tr.action in _TABLE_LEVEL_COLUMN_ACTIONS:
            keys = ("schema-name", "table-name")  # add-column names its new column in "value"; before images: all
        for key in keys:
            if not located[key]:
                problem(
                    f"object-locator.{key}",
                    f"missing value; a {tr.rule_target} rule must locate its {key.removesuffix('-name')}.",
                )
        if tr.action in _ACTIONS_NEEDING_VALUE and not tr.value:
            what = "the new column's name" if tr.action == "add-column" else "a value"
            problem("value", f"missing value; {tr.action} needs {what}.")
        if tr.action in _ACTIONS_NEEDING_OLD_VALUE and not tr.old_value:
            problem("old-value", f"missing value; {tr.action} needs an old-value.")
        if tr.action in _ACTIONS_NEEDING_DATA_TYPE:
            data_type = tr.extra.get("data-type")
            if not isinstance(data_type, dict):
                problem("data-type", f"missing value; {tr.action} needs a data-type object with a type.")
            else:
                kind = data_type.get("type")
                if kind not in DMS_DATA_TYPES:
                    problem(
                        "data-type.type",
                        f"{json.dumps(kind)} is not a DMS data type; use one of {', '.join(DMS_DATA_TYPES)}.",
                    )
                for key in ("length", "precision", "scale"):
                    if key in data_type and not _is_whole(data_type[key]):
                        problem(f"data-type.{key}", f"{json.dumps(data_type[key])} is not a whole number.")
        if "expression" in tr.extra and not isinstance(tr.extra["expression"], str):
            problem("expression", "must be a string (an SQLite expression).")
        if "expression" in tr.extra and tr.action not in ("add-column", "change-data-type", *_NAME_ACTIONS):
            problem("expression", f"{tr.action} takes no expression.")
        if tr.action == "define-primary-key":
            problems.extend(self._primary_key_problems(tr, at))
        if tr.action == "add-before-image-columns":
            definition = tr.extra.get("before-image-def")
            if not isinstance(definition, dict):
                problem("before-image-def", "missing value; give column-prefix, column-suffix and column-filter.")
            else:
                if not (definition.get("column-prefix") or definition.get("column-suffix")):
                    problem("before-image-def", "give a column-prefix or a column-suffix for the before-image columns.")
                column_filter = definition.get("column-filter", "pk-only")
                if column_filter not in BEFORE_IMAGE_FILTERS:
                    problem(
                        "before-image-def.column-filter",
                        f"{json.dumps(column_filter)} is not valid; use one of {', '.join(BEFORE_IMAGE_FILTERS)}.",
                    )
        return problems

    @staticmethod
    def _primary_key_problems(tr: TransformationRule, at: int) -> list[MappingProblem]:
        definition = tr.extra.get("primary-key-def")
        if not isinstance(definition, dict):
            return [MappingProblem(tr.rule_id, "primary-key-def", "missing value; give name and columns.", at)]
        problems: list[MappingProblem] = []
        if not isinstance(definition.get("name"), str) or not definition.get("name"):
            problems.append(MappingProblem(tr.rule_id, "primary-key-def.name", "missing value; name the key.", at))
        columns = definition.get("columns")
        if not isinstance(columns, list) or not columns or not all(isinstance(c, str) and c for c in columns):
            problems.append(
                MappingProblem(tr.rule_id, "primary-key-def.columns", "missing value; list the key's columns.", at)
            )
        origin = definition.get("origin", "primary-key")
        if origin not in PRIMARY_KEY_ORIGINS:
            problems.append(
                MappingProblem(
                    tr.rule_id,
                    "primary-key-def.origin",
                    f"{json.dumps(origin)} is not valid; use primary-key or unique-index.",
                    at,
                )
            )
        return problems

    def _collisions(self) -> list[MappingProblem]:
        """Two transformation actions on one object: DMS allows only one (data masking beside a type change aside)."""
        problems: list[MappingProblem] = []
        acting = [
            (index, tr)
            for index, tr in enumerate(self.transformation)
            if tr.rule_target in _LOCATOR_KEYS and tr.action not in _ADDING_ACTIONS
        ]
        for n, (index, tr) in enumerate(acting):
            for other_index, other in acting[:n]:
                if other.rule_target != tr.rule_target:
                    continue
                if {tr.action, other.action} & set(MASKING_ACTIONS) and {tr.action, other.action} & {
                    "change-data-type"
                }:
                    continue
                if tr.locator_data_type != other.locator_data_type and None not in (
                    tr.locator_data_type,
                    other.locator_data_type,
                ):
                    continue
                located = [
                    (getattr(tr, key.replace("-", "_")), getattr(other, key.replace("-", "_")))
                    for key in _LOCATOR_KEYS[tr.rule_target]
                ]
                if all(_overlap(a, b) for a, b in located):
                    here = self._position("transformation", index)
                    there = self._position("transformation", other_index)
                    problems.append(
                        MappingProblem(
                            tr.rule_id,
                            "object-locator",
                            f"locates the same {tr.rule_target} as rules[{there}] (rule-id {other.rule_id}, "
                            f"{other.action}); DMS applies only one transformation action to an object: merge them "
                            f"into one rule (for a new name, one rename to the final name).",
                            here,
                        )
                    )
                    break
        return problems

    def _other_problems(self, other: dict[str, Any], at: int) -> list[MappingProblem]:
        rule_type = other.get("rule-type")
        rule_id = None if other.get("rule-id") is None else str(other.get("rule-id"))
        problems: list[MappingProblem] = []

        def problem(where: str, message: str) -> None:
            problems.append(MappingProblem(rule_id, where, message, at))

        if rule_type not in RULE_TYPES:
            problem("rule-type", f"{json.dumps(rule_type)} is not a rule type; use one of {', '.join(RULE_TYPES)}.")
            return problems
        if rule_type != "table-settings":
            return problems
        locator = other.get("object-locator")
        if not isinstance(locator, dict):
            problem("object-locator", "missing value; name the schema and table the settings are for.")
            locator = {}
        for key in ("schema-name", "table-name"):
            if not locator.get(key):
                problem(f"object-locator.{key}", "missing value; table settings name a schema and a table.")
        parallel = other.get("parallel-load")
        if parallel is not None:
            if not isinstance(parallel, dict) or parallel.get("type") not in PARALLEL_LOAD_TYPES:
                kind = parallel.get("type") if isinstance(parallel, dict) else parallel
                problem(
                    "parallel-load.type",
                    f"{json.dumps(kind)} is not a parallel-load type; use one of {', '.join(PARALLEL_LOAD_TYPES)}.",
                )
            else:
                if any("%" in str(locator.get(k, "")) for k in ("schema-name", "table-name")):
                    problem("object-locator", "parallel-load settings name one table; % is not allowed.")
                if parallel["type"] == "ranges":
                    columns = parallel.get("columns")
                    boundaries = parallel.get("boundaries")
                    if not isinstance(columns, list) or not columns:
                        problem("parallel-load.columns", "missing value; ranges need the columns they split on.")
                    elif not isinstance(boundaries, list) or not boundaries:
                        problem("parallel-load.boundaries", "missing value; ranges need a list of boundaries.")
                    else:
                        for b_index, boundary in enumerate(boundaries):
                            if not isinstance(boundary, list) or len(boundary) != len(columns):
                                problem(
                                    f"parallel-load.boundaries[{b_index}]",
                                    f"needs one value per column ({len(columns)}).",
                                )
                if parallel["type"] == "partitions-list" and not parallel.get("partitions"):
                    problem("parallel-load.partitions", "missing value; partitions-list names the partitions.")
        lob = other.get("lob-settings")
        if lob is not None and (not isinstance(lob, dict) or lob.get("mode") not in LOB_SETTINGS_MODES):
            mode = lob.get("mode") if isinstance(lob, dict) else lob
            problem(
                "lob-settings.mode", f"{json.dumps(mode)} is not valid; use one of {', '.join(LOB_SETTINGS_MODES)}."
            )
        return problems

    # -- JSON -----------------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        rules: list[dict[str, Any]] = []
        for position, (kind, index) in enumerate(self._full_order()):
            raw = self.raw_rules[position] if position < len(self.raw_rules) else None
            if kind == "selection":
                rule: Any = self.selection[index]
            elif kind == "transformation":
                rule = self.transformation[index]
            else:
                rules.append(copy.deepcopy(self.other_rules[index]))
                continue
            if raw is not None and _unchanged(raw, rule):
                rules.append(copy.deepcopy(raw))  # as the person wrote it
            elif kind == "selection":
                rules.append(self._selection_json(rule))
            else:
                rules.append(self._transformation_json(rule))
        return {"rules": rules, **copy.deepcopy(self.extra)}

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def _rule_id_json(self, rule_id: str) -> Any:
        return self.raw_ids.get(rule_id, rule_id)

    def _selection_json(self, rule: SelectionRule) -> dict[str, Any]:
        extra = copy.deepcopy(rule.extra)
        locator_extra = extra.pop("object-locator-extra", {})
        body: dict[str, Any] = {"rule-type": "selection", "rule-id": self._rule_id_json(rule.rule_id)}
        if rule.rule_name is not None:
            body["rule-name"] = rule.rule_name
        body["object-locator"] = {"schema-name": rule.schema_name, "table-name": rule.table_name, **locator_extra}
        body["rule-action"] = rule.action
        if rule.load_order is not None:
            body["load-order"] = rule.load_order
        if rule.filters is not None:
            body["filters"] = list(copy.deepcopy(rule.filters))
        body.update(extra)
        return body

    def _transformation_json(self, rule: TransformationRule) -> dict[str, Any]:
        extra = copy.deepcopy(rule.extra)
        locator: dict[str, Any] = {}
        for key, value in (
            ("schema-name", rule.schema_name),
            ("table-name", rule.table_name),
            ("column-name", rule.column_name),
        ):
            if value is not None:
                locator[key] = value
        locator.update(extra.pop("object-locator-extra", {}))
        body: dict[str, Any] = {"rule-type": "transformation", "rule-id": self._rule_id_json(rule.rule_id)}
        if rule.rule_name is not None:
            body["rule-name"] = rule.rule_name
        body["rule-target"] = rule.rule_target
        body["object-locator"] = locator
        body["rule-action"] = rule.action
        if rule.value is not None:
            body["value"] = rule.value
        if rule.old_value is not None:
            body["old-value"] = rule.old_value
        body.update(extra)
        return body

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> TableMappings:
        if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
            raise MappingsFormatError('Table mappings must be a JSON object with a "rules" list.')
        selection: list[SelectionRule] = []
        transformation: list[TransformationRule] = []
        others: list[dict[str, Any]] = []
        order: list[tuple[str, int]] = []
        raw_ids: dict[str, Any] = {}
        raw_rules: list[dict[str, Any] | None] = []
        for position, raw in enumerate(document["rules"], start=1):
            if not isinstance(raw, dict):
                raise MappingsFormatError(f"Rule #{position} must be a JSON object.")
            parsed = _parse_rule(raw, position)
            raw_rules.append(copy.deepcopy(raw))
            if parsed is None:
                order.append(("other", len(others)))
                others.append(copy.deepcopy(raw))
                continue
            raw_ids.setdefault(parsed.rule_id, raw.get("rule-id"))
            if isinstance(parsed, SelectionRule):
                order.append(("selection", len(selection)))
                selection.append(parsed)
            else:
                order.append(("transformation", len(transformation)))
                transformation.append(parsed)
        extra = {k: copy.deepcopy(v) for k, v in document.items() if k != "rules"}
        return cls(
            tuple(selection), tuple(transformation), tuple(others), tuple(order), extra, raw_ids, tuple(raw_rules)
        )

    @classmethod
    def from_json(cls, text: str) -> TableMappings:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MappingsFormatError(f"Table mappings are not valid JSON: {exc.msg} (line {exc.lineno}).") from exc
        return cls.from_dict(document)


def _is_whole(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.isdigit()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _parse_rule(raw: dict[str, Any], position: int) -> SelectionRule | TransformationRule | None:
    """One selection or transformation rule; None for other rule types (kept as dicts)."""
    rule = copy.deepcopy(raw)
    rule_type = rule.pop("rule-type", None)
    if rule_type not in ("selection", "transformation"):
        return None
    raw_id = rule.pop("rule-id", None)
    rule_id = "" if raw_id is None else str(raw_id)
    rule_name = rule.pop("rule-name", None)
    locator = rule.pop("object-locator", None) or {}
    if not isinstance(locator, dict):
        raise MappingsFormatError(f"Rule {rule_id or '#' + str(position)}: object-locator must be a JSON object.")
    locator = dict(locator)
    action = str(rule.pop("rule-action", "") or "")
    if rule_type == "selection":
        schema = str(locator.pop("schema-name", "") or "")
        table = str(locator.pop("table-name", "") or "")
        load_order = rule.pop("load-order", None)
        raw_filters = rule.pop("filters", None)
        filters = None if raw_filters is None else tuple(raw_filters) if isinstance(raw_filters, list) else raw_filters
        if locator:
            rule["object-locator-extra"] = locator
        try:
            order = None if load_order is None else int(load_order)
        except (TypeError, ValueError) as exc:
            raise MappingsFormatError(f"Rule {rule_id}: load-order must be a whole number.") from exc
        return SelectionRule(
            rule_id=rule_id,
            schema_name=schema,
            table_name=table,
            action=action,
            rule_name=_text(rule_name),
            load_order=order,
            filters=filters,
            extra=rule,
        )
    names = {key: locator.pop(key, None) for key in ("schema-name", "table-name", "column-name")}
    target = str(rule.pop("rule-target", "") or "")
    value = rule.pop("value", None)
    old_value = rule.pop("old-value", None)
    if locator:
        rule["object-locator-extra"] = locator
    return TransformationRule(
        rule_id=rule_id,
        rule_target=target,
        action=action,
        schema_name=_text(names["schema-name"]),
        table_name=_text(names["table-name"]),
        column_name=_text(names["column-name"]),
        value=_text(value),
        old_value=_text(old_value),
        rule_name=_text(rule_name),
        extra=rule,
    )


def _unchanged(raw: dict[str, Any], rule: SelectionRule | TransformationRule) -> bool:
    """Whether ``rule`` is still what ``raw`` says (then ``raw`` is written back verbatim)."""
    try:
        parsed = _parse_rule(raw, 0)
    except MappingsFormatError:
        return False
    return parsed == rule and parsed is not None and parsed.extra == rule.extra


def default_mappings(schema: str = "demo_schema", table: str = "%") -> TableMappings:
    """The seed's mapping: include every table of ``demo_schema`` (that is, ``demo_accounts``)."""
    return TableMappings(
        selection=(SelectionRule(rule_id="1", rule_name="1", schema_name=schema, table_name=table, filters=()),)
    )
