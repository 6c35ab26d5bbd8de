"""DMS task settings: the sections a person sets in this tool, typed, emitted as the JSON DMS accepts.

Only the keys this tool edits are typed. Everything else a settings document carries (``ErrorBehavior``,
``ChangeProcessingTuning``, keys of a newer DMS release...) is kept verbatim, so reading a document and writing it back
loses nothing.

The defaults reproduce the seed's ``task-settings.json``. The seed's file could not be consulted here, so the prep mode
follows the seed walkthrough's demo (run the full load again and again over the same target table):
``TRUNCATE_BEFORE_LOAD``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class TargetTablePrepMode(StrEnum):
    """What DMS does to a target table that already exists before it loads it."""

    DO_NOTHING = "DO_NOTHING"
    DROP_AND_CREATE = "DROP_AND_CREATE"
    TRUNCATE_BEFORE_LOAD = "TRUNCATE_BEFORE_LOAD"

    @property
    def explanation(self) -> str:
        return _PREP_MODE_EXPLANATIONS[self]


_PREP_MODE_EXPLANATIONS = {
    TargetTablePrepMode.DO_NOTHING: (
        "Leave existing target tables and their rows as they are; rows are appended (a re-run duplicates them). "
        "Missing tables are created."
    ),
    TargetTablePrepMode.DROP_AND_CREATE: (
        "Drop each existing target table and create it again from the source definition, then load it "
        "(indexes and grants made on the target by hand are lost)."
    ),
    TargetTablePrepMode.TRUNCATE_BEFORE_LOAD: (
        "Keep the target table's definition but delete its rows before loading (safe to re-run; the table must "
        "already match the source's columns, or is created when missing)."
    ),
}

MAX_FULL_LOAD_SUBTASKS = 49


@dataclass(frozen=True)
class SettingsProblem:
    """One invalid value, named by its path in the settings document (``FullLoadSettings.MaxFullLoadSubTasks``)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class FullLoadSettings:
    target_table_prep_mode: str = TargetTablePrepMode.TRUNCATE_BEFORE_LOAD.value
    max_full_load_sub_tasks: int = 8
    commit_rate: int = 10000
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Logging:
    enable_logging: bool = True
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ValidationSettings:
    enable_validation: bool = False
    thread_count: int = 5
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class TargetMetadata:
    """LOB handling. Limited-size LOB mode truncates LOBs above LobMaxSize (KB); full LOB mode copies them in chunks."""

    target_schema: str = ""
    support_lobs: bool = True
    full_lob_mode: bool = False
    lob_chunk_size: int = 64
    limited_size_lob_mode: bool = True
    lob_max_size: int = 32
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


# (JSON key, attribute, expected type) per section; the order is the order DMS documents them in.
_FIELDS: dict[str, list[tuple[str, str, type]]] = {
    "TargetMetadata": [
        ("TargetSchema", "target_schema", str),
        ("SupportLobs", "support_lobs", bool),
        ("FullLobMode", "full_lob_mode", bool),
        ("LobChunkSize", "lob_chunk_size", int),
        ("LimitedSizeLobMode", "limited_size_lob_mode", bool),
        ("LobMaxSize", "lob_max_size", int),
    ],
    "FullLoadSettings": [
        ("TargetTablePrepMode", "target_table_prep_mode", str),
        ("MaxFullLoadSubTasks", "max_full_load_sub_tasks", int),
        ("CommitRate", "commit_rate", int),
    ],
    "Logging": [("EnableLogging", "enable_logging", bool)],
    "ValidationSettings": [
        ("EnableValidation", "enable_validation", bool),
        ("ThreadCount", "thread_count", int),
    ],
}
_SECTION_TYPES: dict[str, type] = {
    "TargetMetadata": TargetMetadata,
    "FullLoadSettings": FullLoadSettings,
    "Logging": Logging,
    "ValidationSettings": ValidationSettings,
}
_SECTION_ATTRS = {
    "TargetMetadata": "target_metadata",
    "FullLoadSettings": "full_load",
    "Logging": "logging",
    "ValidationSettings": "validation",
}


# What DMS assumes for each typed key a settings document leaves out (DMS user guide, task settings). The seed's
# defaults above differ in two places (TRUNCATE_BEFORE_LOAD, logging on); a fragment read from a file means DMS's.
DMS_DEFAULTS: dict[str, Any] = {
    "TargetMetadata.TargetSchema": "",
    "TargetMetadata.SupportLobs": True,
    "TargetMetadata.FullLobMode": False,
    "TargetMetadata.LobChunkSize": 64,
    "TargetMetadata.LimitedSizeLobMode": True,
    "TargetMetadata.LobMaxSize": 32,
    "FullLoadSettings.TargetTablePrepMode": TargetTablePrepMode.DROP_AND_CREATE.value,
    "FullLoadSettings.MaxFullLoadSubTasks": 8,
    "FullLoadSettings.CommitRate": 10000,
    "Logging.EnableLogging": False,
    "ValidationSettings.EnableValidation": False,
    "ValidationSettings.ThreadCount": 5,
}

# The ErrorBehavior keys the sandbox engine carries out (dms_tui.sandbox.dms_engine).
SANDBOX_ERROR_BEHAVIOR = frozenset(
    {"DataErrorPolicy", "DataErrorEscalationPolicy", "DataErrorEscalationCount", "TableErrorPolicy"}
)

# Settings DMS honours that the sandbox engine runs without (it loads anyway): listed apart by ``sandbox_unsupported``.
_SANDBOX_IGNORES = {
    "ErrorBehavior": (
        "only DataErrorPolicy, DataErrorEscalationPolicy / Count and TableErrorPolicy are carried out; the other "
        "ErrorBehavior keys (truncation, apply and CDC error handling) are not"
    ),
    "CharacterSetSettings": "character-set substitution is not carried out",
    "ChangeProcessingTuning": "CDC tuning is not modelled",
    "ChangeProcessingDdlHandlingPolicy": "DDL handling is not modelled",
    "BeforeImageSettings": "before images are not produced",
    "ControlTablesSettings": "control tables are not written",
}


class SettingsFormatError(ValueError):
    """The document is not JSON, or a typed key holds a value of the wrong JSON type."""


@dataclass(frozen=True)
class TaskSettings:
    """A whole ``ReplicationTaskSettings`` document."""

    target_metadata: TargetMetadata = field(default_factory=TargetMetadata)
    full_load: FullLoadSettings = field(default_factory=FullLoadSettings)
    logging: Logging = field(default_factory=Logging)
    validation: ValidationSettings = field(default_factory=ValidationSettings)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # sections this tool does not type
    # "Section" and "Section.Key" names the document held; None: a whole document built here (every key is written)
    given: frozenset[str] | None = field(default=None, compare=False)

    @property
    def prep_mode(self) -> TargetTablePrepMode | None:
        """The prep mode, or None when the document names one DMS does not know (see ``validate``)."""
        try:
            return TargetTablePrepMode(self.full_load.target_table_prep_mode)
        except ValueError:
            return None

    def with_prep_mode(self, mode: TargetTablePrepMode | str) -> TaskSettings:
        given = (
            None if self.given is None else self.given | {"FullLoadSettings", "FullLoadSettings.TargetTablePrepMode"}
        )
        return replace(self, full_load=replace(self.full_load, target_table_prep_mode=str(mode)), given=given)

    # -- JSON -----------------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The document: a whole one as built here, or what was read (a fragment stays a fragment: no key or section
        is added unless its value was changed away from what DMS assumes when it is absent)."""
        document: dict[str, Any] = {}
        given = self.given
        for section, fields in _FIELDS.items():
            model = getattr(self, _SECTION_ATTRS[section])
            body: dict[str, Any] = {
                key: getattr(model, attr)
                for key, attr, _ in fields
                if given is None
                or f"{section}.{key}" in given
                or getattr(model, attr) != DMS_DEFAULTS.get(f"{section}.{key}")
            }
            body.update(copy.deepcopy(model.extra))
            if given is None or section in given or body:
                document[section] = body
        document.update(copy.deepcopy(self.extra))
        return document

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> TaskSettings:
        if not isinstance(document, dict):
            raise SettingsFormatError("Task settings must be a JSON object ({...}).")
        sections: dict[str, Any] = {}
        given: set[str] = set()
        for section, fields in _FIELDS.items():
            if section in document:
                given.add(section)
            body = document.get(section, {})
            if not isinstance(body, dict):
                raise SettingsFormatError(f"{section}: must be a JSON object, not {type(body).__name__}.")
            values: dict[str, Any] = {}
            for key, attr, expected in fields:
                if key not in body:
                    values[attr] = DMS_DEFAULTS[f"{section}.{key}"]  # what DMS assumes for an absent key
                    continue
                given.add(f"{section}.{key}")
                value = body[key]
                if not _is_json_type(value, expected):
                    raise SettingsFormatError(
                        f"{section}.{key}: expected {_JSON_TYPE_NAMES[expected]}, got {json.dumps(value)}."
                    )
                values[attr] = value
            known = {key for key, _, _ in fields}
            values["extra"] = {k: copy.deepcopy(v) for k, v in body.items() if k not in known}
            sections[_SECTION_ATTRS[section]] = _SECTION_TYPES[section](**values)
        extra = {k: copy.deepcopy(v) for k, v in document.items() if k not in _FIELDS}
        return cls(**sections, extra=extra, given=frozenset(given))

    @classmethod
    def from_json(cls, text: str) -> TaskSettings:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettingsFormatError(f"Task settings are not valid JSON: {exc.msg} (line {exc.lineno}).") from exc
        return cls.from_dict(document)

    # -- validation -----------------------------------------------------------------------------------------------

    def validate(self) -> list[SettingsProblem]:
        """Every value DMS would reject, each naming its field and the allowed values."""
        problems: list[SettingsProblem] = []
        fl = self.full_load
        if self.prep_mode is None:
            allowed = ", ".join(m.value for m in TargetTablePrepMode)
            problems.append(
                SettingsProblem(
                    "FullLoadSettings.TargetTablePrepMode",
                    f"{fl.target_table_prep_mode!r} is not a prep mode; use one of {allowed}.",
                )
            )
        if not 1 <= fl.max_full_load_sub_tasks <= MAX_FULL_LOAD_SUBTASKS:
            problems.append(
                SettingsProblem(
                    "FullLoadSettings.MaxFullLoadSubTasks",
                    f"{fl.max_full_load_sub_tasks} is out of range; DMS loads 1 to {MAX_FULL_LOAD_SUBTASKS} tables "
                    "in parallel.",
                )
            )
        if not 1 <= fl.commit_rate <= 50000:
            problems.append(
                SettingsProblem(
                    "FullLoadSettings.CommitRate",
                    f"{fl.commit_rate} is out of range; use 1 to 50000 rows per commit.",
                )
            )
        vs = self.validation
        if not 1 <= vs.thread_count <= 64:
            problems.append(
                SettingsProblem("ValidationSettings.ThreadCount", f"{vs.thread_count} is out of range; use 1 to 64.")
            )
        tm = self.target_metadata
        if tm.support_lobs and tm.full_lob_mode == tm.limited_size_lob_mode:
            problems.append(
                SettingsProblem(
                    "TargetMetadata.FullLobMode",
                    "with SupportLobs on, choose exactly one of FullLobMode and LimitedSizeLobMode.",
                )
            )
        if tm.support_lobs and tm.full_lob_mode and tm.lob_chunk_size < 1:
            problems.append(
                SettingsProblem("TargetMetadata.LobChunkSize", "full LOB mode needs a chunk size of at least 1 KB.")
            )
        if tm.support_lobs and tm.limited_size_lob_mode and tm.lob_max_size < 1:
            problems.append(
                SettingsProblem("TargetMetadata.LobMaxSize", "limited-size LOB mode needs a maximum of at least 1 KB.")
            )
        return problems

    def sandbox_unsupported(self) -> list[tuple[str, str]]:
        """(setting, what the sandbox does instead) for settings DMS honours and the sandbox engine does not."""
        found: list[tuple[str, str]] = []
        for section, why in _SANDBOX_IGNORES.items():
            body = self.extra.get(section)
            if section == "ErrorBehavior" and isinstance(body, dict):
                body = {k: v for k, v in body.items() if k not in SANDBOX_ERROR_BEHAVIOR}  # the engine honours those
            if body:
                found.append((section, why))
        if self.target_metadata.target_schema:
            found.append(("TargetMetadata.TargetSchema", "refused; rename the schema with a transformation rule"))
        if self.full_load.commit_rate != DMS_DEFAULTS["FullLoadSettings.CommitRate"]:
            found.append(("FullLoadSettings.CommitRate", "each table is committed once, whatever CommitRate says"))
        if "CreatePkAfterFullLoad" in self.full_load.extra and not self.full_load.extra["CreatePkAfterFullLoad"]:
            found.append(("FullLoadSettings.CreatePkAfterFullLoad", "the key is always built after the load"))
        return found


_JSON_TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer"}


def _is_json_type(value: Any, expected: type) -> bool:
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def default_settings() -> TaskSettings:
    """The seed's task settings."""
    return TaskSettings()
