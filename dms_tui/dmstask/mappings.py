"""DMS table mappings: selection and transformation rules, their JSON, their validation, and how they apply.

The matcher and name-transform functions here are the single source of truth for "which tables does this task copy,
and what are they called on the target": the sandbox engine and the preview both call them.

Semantics followed (from the DMS user guide's table-mapping chapter):
- ``%`` in an object-locator matches any run of characters; every other character matches itself.
- A table is migrated when an ``include`` rule matches it (or an ``explicit`` rule names it exactly) and no
  ``exclude`` rule matches it. Tables with a higher ``load-order`` are loaded first.
- Transformation rules locate objects by their *source* names; rules apply in ascending rule-id order.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

SELECTION_ACTIONS = ("include", "exclude", "explicit")

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
TRANSFORMATION_ACTIONS: dict[str, tuple[str, ...]] = {
    "schema": _NAME_ACTIONS,
    "table": (*_NAME_ACTIONS, "define-primary-key", "add-before-image-columns"),
    "column": (
        *_NAME_ACTIONS,
        "remove-column",
        "add-column",
        "include-column",
        "change-data-type",
        "data-masking-digits-mask",
        "data-masking-digits-randomize",
        "data-masking-hash-mask",
    ),
    "table-tablespace": _NAME_ACTIONS,
    "index-tablespace": _NAME_ACTIONS,
}

# What the sandbox engine (and the preview) can carry out; anything else DMS knows fails the sandbox task by name.
SUPPORTED_TARGETS = ("schema", "table", "column")
SUPPORTED_ACTIONS = (*_NAME_ACTIONS, "remove-column")

_ACTIONS_NEEDING_VALUE = {
    "rename",
    "add-prefix",
    "remove-prefix",
    "replace-prefix",
    "add-suffix",
    "remove-suffix",
    "replace-suffix",
}
_ACTIONS_NEEDING_OLD_VALUE = {"replace-prefix", "replace-suffix"}
_LOCATOR_KEYS = {"schema": ("schema-name",), "table": ("schema-name", "table-name")}
_LOCATOR_KEYS["column"] = ("schema-name", "table-name", "column-name")
_LOCATOR_KEYS["table-tablespace"] = ("schema-name", "table-name")
_LOCATOR_KEYS["index-tablespace"] = ("schema-name", "table-name")


@dataclass(frozen=True)
class MappingProblem:
    """One invalid rule, named by rule id and field."""

    rule_id: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"rule {self.rule_id}" if self.rule_id is not None else "table mappings"
        return f"{where}: {self.field}: {self.message}"


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

    def locates(self, schema: str, table: str | None = None, column: str | None = None) -> bool:
        """Whether this rule's object-locator matches the given source object (at this rule's level)."""
        if self.schema_name is None or not like(self.schema_name, schema):
            return False
        if self.rule_target in ("table", "column", "table-tablespace", "index-tablespace"):
            if table is None or self.table_name is None or not like(self.table_name, table):
                return False
        if self.rule_target == "column":
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


@lru_cache(maxsize=512)
def _like_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if part == "%" else re.escape(part) for part in re.split("(%)", pattern)), re.S)


def like(pattern: str, name: str) -> bool:
    """DMS object-locator matching: ``%`` is any run of characters, the rest is literal (case-sensitive)."""
    return _like_regex(pattern).fullmatch(name) is not None


def _rule_sort_key(rule_id: str) -> tuple[int, int | str]:
    return (0, int(rule_id)) if rule_id.isdigit() else (1, rule_id)


@dataclass(frozen=True)
class TableMappings:
    """A ``TableMappings`` document: its rules in document order, and any other keys kept verbatim."""

    selection: tuple[SelectionRule, ...] = ()
    transformation: tuple[TransformationRule, ...] = ()
    other_rules: tuple[dict[str, Any], ...] = ()  # rule types this tool does not model (e.g. table-settings)
    order: tuple[tuple[str, int], ...] = ()  # (kind, index) per rule, to write rules back in their original order
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    raw_ids: dict[str, Any] = field(default_factory=dict, compare=False)  # rule-id as written (number or string)

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

    def _ordered_transformations(self, target: str) -> list[TransformationRule]:
        rules = [r for r in self.transformation if r.rule_target == target]
        return sorted(rules, key=lambda r: _rule_sort_key(r.rule_id))

    def target_schema(self, schema: str) -> str:
        name = schema
        for rule in self._ordered_transformations("schema"):
            if rule.locates(schema):
                name = rule.apply(name)
        return name

    def target_table(self, schema: str, table: str) -> str:
        name = table
        for rule in self._ordered_transformations("table"):
            if rule.locates(schema, table):
                name = rule.apply(name)
        return name

    def target_column(self, schema: str, table: str, column: str) -> str | None:
        """The column's target name, or None when a remove-column rule drops it."""
        name = column
        for rule in self._ordered_transformations("column"):
            if rule.locates(schema, table, column):
                if rule.action == "remove-column":
                    return None
                name = rule.apply(name)
        return name

    def unsupported(self) -> list[str]:
        """Rules a valid DMS task may hold but the sandbox engine cannot carry out, one sentence each."""
        found: list[str] = []
        for sel in self.selection:
            if sel.filters:
                found.append(f"rule {sel.rule_id} (selection): column filters are not supported")
            table_type = sel.extra.get("object-locator-extra", {}).get("table-type")
            if table_type not in (None, "table"):
                found.append(f"rule {sel.rule_id} (selection): table-type {table_type!r} is not supported")
        for tr in self.transformation:
            if tr.rule_target not in SUPPORTED_TARGETS:
                found.append(f"rule {tr.rule_id} (transformation): rule-target {tr.rule_target!r} is not supported")
            elif tr.action not in SUPPORTED_ACTIONS:
                found.append(f"rule {tr.rule_id} (transformation): rule-action {tr.action!r} is not supported")
        for other in self.other_rules:
            found.append(f"rule {other.get('rule-id')} ({other.get('rule-type')}): this rule type is not supported")
        return found

    # -- validation -----------------------------------------------------------------------------------------------

    def validate(self) -> list[MappingProblem]:
        """What DMS would reject, each naming the rule id and the field."""
        problems: list[MappingProblem] = []
        ids = Counter(
            [r.rule_id for r in self.selection]
            + [r.rule_id for r in self.transformation]
            + [str(o.get("rule-id")) for o in self.other_rules]
        )
        for rule_id, count in ids.items():
            if count > 1:
                problems.append(MappingProblem(rule_id, "rule-id", f"used by {count} rules; rule ids must be unique."))
        for sel in self.selection:
            if sel.action not in SELECTION_ACTIONS:
                problems.append(
                    MappingProblem(
                        sel.rule_id,
                        "rule-action",
                        f"{sel.action!r} is not a selection action; use include, exclude or explicit.",
                    )
                )
            for key, value in (("schema-name", sel.schema_name), ("table-name", sel.table_name)):
                if not value:
                    problems.append(
                        MappingProblem(sel.rule_id, f"object-locator.{key}", "missing value; use % to match any name.")
                    )
                elif sel.action == "explicit" and "%" in value:
                    problems.append(
                        MappingProblem(
                            sel.rule_id, f"object-locator.{key}", "an explicit rule names one table; % is not allowed."
                        )
                    )
        for tr in self.transformation:
            allowed = TRANSFORMATION_ACTIONS.get(tr.rule_target)
            if allowed is None:
                problems.append(
                    MappingProblem(
                        tr.rule_id,
                        "rule-target",
                        f"{tr.rule_target!r} is not a rule target; use one of {', '.join(TRANSFORMATION_ACTIONS)}.",
                    )
                )
                continue
            if tr.action not in allowed:
                problems.append(
                    MappingProblem(
                        tr.rule_id,
                        "rule-action",
                        f"{tr.action!r} does not apply to rule-target {tr.rule_target!r}; use one of "
                        f"{', '.join(allowed)}.",
                    )
                )
            located = {"schema-name": tr.schema_name, "table-name": tr.table_name, "column-name": tr.column_name}
            for key in _LOCATOR_KEYS[tr.rule_target]:
                if not located[key]:
                    problems.append(
                        MappingProblem(
                            tr.rule_id,
                            f"object-locator.{key}",
                            f"missing value; a {tr.rule_target} rule must locate its {key.removesuffix('-name')}.",
                        )
                    )
            if tr.action in _ACTIONS_NEEDING_VALUE and not tr.value:
                problems.append(MappingProblem(tr.rule_id, "value", f"missing value; {tr.action} needs a value."))
            if tr.action in _ACTIONS_NEEDING_OLD_VALUE and not tr.old_value:
                problems.append(
                    MappingProblem(tr.rule_id, "old-value", f"missing value; {tr.action} needs an old-value.")
                )
        if not any(r.action in ("include", "explicit") for r in self.selection):
            problems.append(
                MappingProblem(
                    None,
                    "rules",
                    "no selection rule includes any table; add a selection rule with rule-action include.",
                )
            )
        return problems

    # -- JSON -----------------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        rules: list[dict[str, Any]] = []
        order = self.order or (
            tuple(("selection", i) for i in range(len(self.selection)))
            + tuple(("transformation", i) for i in range(len(self.transformation)))
            + tuple(("other", i) for i in range(len(self.other_rules)))
        )
        for kind, index in order:
            if kind == "selection":
                rules.append(self._selection_json(self.selection[index]))
            elif kind == "transformation":
                rules.append(self._transformation_json(self.transformation[index]))
            else:
                rules.append(copy.deepcopy(self.other_rules[index]))
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
        for position, raw in enumerate(document["rules"], start=1):
            if not isinstance(raw, dict):
                raise MappingsFormatError(f"Rule #{position} must be a JSON object.")
            rule = copy.deepcopy(raw)
            rule_type = rule.pop("rule-type", None)
            if rule_type not in ("selection", "transformation"):
                order.append(("other", len(others)))
                others.append(copy.deepcopy(raw))
                continue
            raw_id = rule.pop("rule-id", None)
            rule_id = "" if raw_id is None else str(raw_id)
            raw_ids[rule_id] = raw_id
            rule_name = rule.pop("rule-name", None)
            locator = rule.pop("object-locator", None) or {}
            if not isinstance(locator, dict):
                raise MappingsFormatError(f"Rule {rule_id}: object-locator must be a JSON object.")
            locator = dict(locator)
            action = str(rule.pop("rule-action", ""))
            if rule_type == "selection":
                schema = str(locator.pop("schema-name", "") or "")
                table = str(locator.pop("table-name", "") or "")
                load_order = rule.pop("load-order", None)
                raw_filters = rule.pop("filters", None)
                filters = None if raw_filters is None else tuple(raw_filters)
                if locator:
                    rule["object-locator-extra"] = locator
                order.append(("selection", len(selection)))
                selection.append(
                    SelectionRule(
                        rule_id=rule_id,
                        schema_name=schema,
                        table_name=table,
                        action=action,
                        rule_name=None if rule_name is None else str(rule_name),
                        load_order=None if load_order is None else int(load_order),
                        filters=filters,
                        extra=rule,
                    )
                )
            else:
                names = {key: locator.pop(key, None) for key in ("schema-name", "table-name", "column-name")}
                target = str(rule.pop("rule-target", ""))
                value = rule.pop("value", None)
                old_value = rule.pop("old-value", None)
                if locator:
                    rule["object-locator-extra"] = locator
                order.append(("transformation", len(transformation)))
                transformation.append(
                    TransformationRule(
                        rule_id=rule_id,
                        rule_target=target,
                        action=action,
                        schema_name=names["schema-name"],
                        table_name=names["table-name"],
                        column_name=names["column-name"],
                        value=None if value is None else str(value),
                        old_value=None if old_value is None else str(old_value),
                        rule_name=None if rule_name is None else str(rule_name),
                        extra=rule,
                    )
                )
        extra = {k: copy.deepcopy(v) for k, v in document.items() if k != "rules"}
        return cls(tuple(selection), tuple(transformation), tuple(others), tuple(order), extra, raw_ids)

    @classmethod
    def from_json(cls, text: str) -> TableMappings:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MappingsFormatError(f"Table mappings are not valid JSON: {exc.msg} (line {exc.lineno}).") from exc
        return cls.from_dict(document)


def default_mappings(schema: str = "demo_schema", table: str = "%") -> TableMappings:
    """The seed's mapping: include every table of ``demo_schema`` (that is, ``demo_accounts``)."""
    return TableMappings(
        selection=(SelectionRule(rule_id="1", rule_name="1", schema_name=schema, table_name=table, filters=()),)
    )
