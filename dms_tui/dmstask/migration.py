"""The replication task's definition: its identifier, migration type and two JSON documents, checked field by field.

:class:`TaskDraft` is what a person typed (the Migrate screen's form, or `dms-tui migrate`'s flags and files);
:meth:`TaskDraft.check` is the one check both faces run, and the only way to a :class:`TaskDefinition`. The migration
types themselves (and what each needs) are DMS vocabulary, defined in :mod:`dms_tui.domain.dms`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from dms_tui.dmstask.mappings import MappingsFormatError, TableMappings, default_mappings
from dms_tui.dmstask.settings import MAX_FULL_LOAD_SUBTASKS, TargetTablePrepMode, TaskSettings, default_settings
from dms_tui.domain.dms import MigrationType

__all__ = ["DEFAULT_TASK_ID", "DraftCheck", "MigrationType", "TaskDefinition", "TaskDraft"]

DEFAULT_TASK_ID = "dms-tui-demo-task"

# DMS's rule for ReplicationTaskIdentifier: 1-255 letters, digits or hyphens; starts with a letter; no trailing
# hyphen and no two consecutive hyphens.
_IDENTIFIER = re.compile(r"^[A-Za-z](?:-?[A-Za-z0-9])*$")


@dataclass(frozen=True)
class TaskDefinition:
    """A checked task: its name, migration type and the two JSON documents as DMS takes them."""

    identifier: str
    migration_type: MigrationType
    table_mappings: str  # JSON text
    task_settings: str  # JSON text


def identifier_problem(identifier: str) -> str | None:
    if 1 <= len(identifier) <= 255 and _IDENTIFIER.match(identifier):
        return None
    return (
        f"task identifier {identifier!r} is not valid: use 1-255 letters, digits and single hyphens, starting with "
        "a letter and not ending with a hyphen."
    )


@dataclass(frozen=True)
class DraftCheck:
    """The outcome of checking a draft: the parsed documents (when they parse), problems, and the definition."""

    settings: TaskSettings
    mappings: TableMappings | None
    settings_problems: tuple[str, ...]
    mappings_problems: tuple[str, ...]
    task_problems: tuple[str, ...]
    definition: TaskDefinition | None  # None while any problem remains

    @property
    def problems(self) -> tuple[str, ...]:
        return self.task_problems + self.settings_problems + self.mappings_problems

    @property
    def ok(self) -> bool:
        return self.definition is not None


@dataclass(frozen=True)
class TaskDraft:
    """The task as typed, before it exists (field text is checked, not trusted)."""

    identifier: str = DEFAULT_TASK_ID
    migration_type: str = MigrationType.FULL_LOAD.value
    prep_mode: str = TargetTablePrepMode.TRUNCATE_BEFORE_LOAD.value
    max_subtasks: str = str(default_settings().full_load.max_full_load_sub_tasks)
    mappings_text: str = field(default_factory=lambda: default_mappings().to_json())
    base_settings: TaskSettings = field(default_factory=default_settings)  # keys the form does not edit, kept
    # From whole documents with no --prep-mode: the settings' own prep mode, so a fragment that leaves it out is
    # sent without it (what a person wrote is what DMS receives). The form always sends its choice.
    prep_mode_as_written: bool = False

    @classmethod
    def from_documents(
        cls,
        identifier: str,
        migration_type: str,
        settings: TaskSettings,
        mappings_text: str,
        *,
        prep_mode: str | None = None,
    ) -> TaskDraft:
        """A draft from whole documents (`dms-tui migrate`'s files); ``prep_mode`` overrides the settings' own."""
        return cls(
            identifier=identifier,
            migration_type=migration_type,
            prep_mode=prep_mode or settings.full_load.target_table_prep_mode,
            max_subtasks=str(settings.full_load.max_full_load_sub_tasks),
            mappings_text=mappings_text,
            base_settings=settings,
            prep_mode_as_written=prep_mode is None,
        )

    def check(self) -> DraftCheck:
        """Parse and validate every field; each problem names the rule id or settings field it is about."""
        settings_problems: list[str] = []
        settings = self.base_settings
        if not (self.prep_mode_as_written and self.prep_mode == settings.full_load.target_table_prep_mode):
            settings = settings.with_prep_mode(self.prep_mode)
        raw = self.max_subtasks.strip()
        if raw.isdigit():
            settings = replace(settings, full_load=replace(settings.full_load, max_full_load_sub_tasks=int(raw)))
        else:
            settings_problems.append(
                f"FullLoadSettings.MaxFullLoadSubTasks: {raw!r} is not a whole number; type 1 to "
                f"{MAX_FULL_LOAD_SUBTASKS} (how many tables load in parallel)."
            )
        settings_problems += [str(p) for p in settings.validate()]
        mappings: TableMappings | None = None
        mappings_problems: list[str] = []
        try:
            mappings = TableMappings.from_json(self.mappings_text)
        except MappingsFormatError as exc:
            mappings_problems.append(str(exc))
        if mappings is not None:
            mappings_problems += [str(p) for p in mappings.validate()]
        task_problems: list[str] = []
        identifier = self.identifier.strip()
        problem = identifier_problem(identifier)
        if problem:
            task_problems.append(problem)
        kinds = [t.value for t in MigrationType]
        if self.migration_type not in kinds:
            task_problems.append(f"migration type {self.migration_type!r} is not one of {', '.join(kinds)}.")
        definition: TaskDefinition | None = None
        if mappings is not None and not (task_problems or settings_problems or mappings_problems):
            definition = TaskDefinition(
                identifier,
                MigrationType(self.migration_type),
                mappings.to_json(indent=None),
                settings.to_json(indent=None),
            )
        return DraftCheck(
            settings,
            mappings,
            tuple(settings_problems),
            tuple(mappings_problems),
            tuple(task_problems),
            definition,
        )
