"""Check a task definition without creating anything: `dms-tui task check`, and the corpus of tests/fidelity.

The verdict is :meth:`dms_tui.dmstask.migration.TaskDraft.check`, the one check the Migrate screen's form runs live and
`dms-tui migrate` runs before it creates a task: valid here means the task would be created. What it finds is split
as the issue asks:

- ``problems``: what AWS DMS would reject (each named by its place: ``rules[3].object-locator.column-name``, or a
  settings field ``FullLoadSettings.CommitRate``), from the same ``validate`` calls the draft's check makes;
- ``sandbox_unsupported``: what AWS accepts and only the sandbox engine cannot run, by rule id and feature name
  (:meth:`TableMappings.sandbox_unsupported`, :meth:`TaskSettings.sandbox_unsupported`); not a problem;
- ``warnings``: what DMS accepts but ignores (a filter on an exclude rule).

Which documents: the files given; without a mappings file, the mappings the wizard's journey recorded for the
environment (what its Migrate screen would send), else the seed's (what `dms-tui migrate` sends without
``--mappings``); without a settings file, the seed's settings (what `dms-tui migrate` sends without ``--settings``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dms_tui import exit_codes
from dms_tui.dmstask.mappings import SandboxGap, TableMappings, default_mappings
from dms_tui.dmstask.migration import DEFAULT_TASK_ID, TaskDraft
from dms_tui.dmstask.settings import SettingsFormatError, TaskSettings, default_settings
from dms_tui.domain.dms import MigrationType
from dms_tui.errors import StepError

if TYPE_CHECKING:
    from collections.abc import Callable

    from dms_tui.dmstask.assessment import Finding
    from dms_tui.environment import Environment
    from dms_tui.provision.outputs import EnvironmentOutputs

__all__ = [
    "AssessmentUnavailable",
    "CheckedDocument",
    "TaskCheck",
    "TaskProblem",
    "assess_definition",
    "check_documents",
    "check_task",
    "read_json_file",
]

MAPPINGS = "table mappings"
SETTINGS = "task settings"


@dataclass(frozen=True)
class TaskProblem:
    """One thing AWS DMS would reject: which document, where in it, the rule id, and what to change."""

    document: str  # MAPPINGS or SETTINGS
    path: str  # "rules[3].object-locator.column-name", "FullLoadSettings.CommitRate", or "" for the whole document
    message: str
    rule_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""  # about the whole document: its message names the document
        rule = f" (rule-id {self.rule_id})" if self.rule_id not in (None, "") else ""
        return f"{where}{self.message}{rule}"

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "path": self.path,
            "rule_id": self.rule_id,
            "message": self.message,
            "text": str(self),
        }


@dataclass(frozen=True)
class CheckedDocument:
    """Which document was checked: a file, or what the environment would send (said in words)."""

    what: str  # MAPPINGS or SETTINGS
    source: str  # a path, or a sentence ("the seed's table mappings (what `dms-tui migrate` sends ...)")
    path: Path | None = None

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "path": None if self.path is None else str(self.path)}


@dataclass(frozen=True)
class TaskCheck:
    """The verdict on one task definition."""

    mappings: CheckedDocument
    settings: CheckedDocument
    problems: tuple[TaskProblem, ...]
    sandbox_unsupported: tuple[SandboxGap, ...]
    warnings: tuple[TaskProblem, ...] = ()
    mappings_text: str = ""  # the documents checked (what an assessment reads next)
    settings_text: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return exit_codes.OK if self.ok else exit_codes.NOT_RUN

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": [p.to_json() for p in self.problems],
            "sandbox_unsupported": [g.to_json() for g in self.sandbox_unsupported],
            "warnings": [w.to_json() for w in self.warnings],
            "mappings": self.mappings.to_json(),
            "settings": self.settings.to_json(),
        }


def read_json_file(path: Path, what: str) -> str:
    """The file's text, once it is known to be JSON; StepError (what, where: line and column, what to do) if not."""
    flag = "--mappings" if what == MAPPINGS else "--settings"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise StepError(
            f"The {what} file {path} does not exist.",
            f"{flag} {path}: no such file.",
            f"Give the path of a {what} JSON document: `dms-tui task check {flag} FILE`.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise StepError(
            f"Cannot read the {what} file {path}.",
            f"{flag} {path}: {why}.",
            f"Give a readable UTF-8 JSON file: `dms-tui task check {flag} FILE`.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise StepError(
            f"The {what} file {path} is not valid JSON.",
            f"{path}, line {exc.lineno}, column {exc.colno}: {exc.msg}.",
            f"Fix the JSON at line {exc.lineno}, column {exc.colno} (a missing comma or quote, a trailing comma) "
            f"and run `dms-tui task check {flag} {path}` again.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    return text


def check_documents(
    mappings_text: str,
    settings_text: str | None,
    *,
    mappings: CheckedDocument | None = None,
    settings: CheckedDocument | None = None,
) -> TaskCheck:
    """The verdict on two JSON documents (``settings_text`` None: the seed's settings); the draft's check decides."""
    mappings_doc = mappings or CheckedDocument(MAPPINGS, "the given table mappings")
    settings_doc = settings or CheckedDocument(SETTINGS, "the seed's task settings")
    problems: list[TaskProblem] = []
    try:
        task_settings = default_settings() if settings_text is None else TaskSettings.from_json(settings_text)
    except SettingsFormatError as exc:
        # A typed key holding a value of the wrong JSON type ("LobMaxSize": "32"): DMS rejects the document.
        path, _, message = str(exc).partition(": ")
        problems.append(TaskProblem(SETTINGS, path if message else "", message or str(exc)))
        task_settings = None
    draft = TaskDraft.from_documents(
        DEFAULT_TASK_ID, MigrationType.FULL_LOAD.value, task_settings or default_settings(), mappings_text
    )
    check = draft.check()  # the one check: the Migrate screen's form and `dms-tui migrate` run it too
    if task_settings is not None:
        problems += [TaskProblem(SETTINGS, p.field, p.message) for p in check.settings.validate()]
    gaps: list[SandboxGap] = []
    warnings: list[TaskProblem] = []
    parsed: TableMappings | None = check.mappings
    if parsed is None:  # not shaped like table mappings: the draft's message names what is wrong
        problems += [TaskProblem(MAPPINGS, "", text) for text in check.mappings_problems]
    else:
        problems += [TaskProblem(MAPPINGS, p.path, p.message, p.rule_id) for p in parsed.validate()]
        gaps += parsed.sandbox_unsupported()
        warnings += [TaskProblem(MAPPINGS, w.path, w.message, w.rule_id) for w in parsed.warnings()]
    if task_settings is not None:
        gaps += [SandboxGap(None, name, why) for name, why in check.settings.sandbox_unsupported()]
    # The draft's check is the verdict: anything it says that the field-by-field lists above lack is kept too.
    known = {str(p) for p in problems}
    said = [
        *(check.settings_problems if task_settings is not None else ()),
        *(check.mappings_problems if parsed else ()),
    ]
    for text in said:
        if text not in known:
            path, _, message = text.partition(": ")
            document = MAPPINGS if text in check.mappings_problems else SETTINGS
            problems.append(TaskProblem(document, path if message else "", message or text))
    return TaskCheck(
        mappings_doc, settings_doc, tuple(problems), tuple(gaps), tuple(warnings), mappings_text, settings_text
    )


def check_task(
    mappings_file: Path | None,
    settings_file: Path | None,
    *,
    env: str = "dev",
    mode: str = "aws",
) -> TaskCheck:
    """`dms-tui task check`: the files given, else what the environment would send (see the module docstring)."""
    if mappings_file is not None:
        mappings_text = read_json_file(mappings_file, MAPPINGS)
        mappings_doc = CheckedDocument(MAPPINGS, str(mappings_file), mappings_file)
    else:
        mappings_text, mappings_doc = _environment_mappings(env, mode)
    if settings_file is not None:
        settings_text: str | None = read_json_file(settings_file, SETTINGS)
        settings_doc = CheckedDocument(SETTINGS, str(settings_file), settings_file)
    else:
        settings_text = None
        settings_doc = CheckedDocument(
            SETTINGS, "the seed's task settings (what `dms-tui migrate` sends without --settings)"
        )
    return check_documents(mappings_text, settings_text, mappings=mappings_doc, settings=settings_doc)


def _environment_mappings(env: str, mode: str) -> tuple[str, CheckedDocument]:
    from dms_tui.journey import checkpoint_path, load_checkpoint

    state = load_checkpoint(env, mode)
    recorded = state.task.table_mappings if state is not None and state.task is not None else None
    if recorded:
        where = checkpoint_path(env, mode)
        return recorded, CheckedDocument(
            MAPPINGS, f"the table mappings the wizard recorded for {mode} environment {env!r} ({where})"
        )
    return default_mappings().to_json(), CheckedDocument(
        MAPPINGS,
        f"the seed's table mappings (no task is recorded for {mode} environment {env!r}; "
        "what `dms-tui migrate` sends without --mappings)",
    )


# -- our own premigration assessment (both catalogs) -------------------------------------------------------------------


class AssessmentUnavailable(StepError):
    """A catalog the assessment needs could not be read."""


def assess_definition(
    environment: Environment,
    outputs: EnvironmentOutputs,
    mappings_text: str,
    settings_text: str | None,
    migration_type: str,
) -> list[Finding]:
    """The premigration findings for a valid definition, from the source and target catalogs (read with the
    environments' secrets, kept in memory): see :mod:`dms_tui.dmstask.assessment`."""
    import psycopg
    from botocore.exceptions import BotoCoreError, ClientError

    from dms_tui.data.connect import SecretFormatError, connect, read_credentials
    from dms_tui.dmstask.assessment import assess, read_source_server, read_unique_keyed
    from dms_tui.dmstask.preview import plan_tables, read_source_catalog

    mappings = TableMappings.from_json(mappings_text)
    settings = default_settings() if settings_text is None else TaskSettings.from_json(settings_text)
    catalogs = {}
    for side, secret in (("source", outputs.source.secret_arn), ("target", outputs.target.secret_arn)):
        try:
            credentials = read_credentials(environment, secret)
        except (ClientError, BotoCoreError, SecretFormatError) as exc:
            raise AssessmentUnavailable(
                f"Could not read the {side} database secret.", str(exc), "Run `dms-tui verify` to check the secrets."
            ) from None
        try:
            with connect(credentials, environment, connect_timeout=5) as conn:
                tables = read_source_catalog(conn)
                extra = (read_unique_keyed(conn), read_source_server(conn)) if side == "source" else None
                catalogs[side] = (tables, extra)
        except psycopg.Error as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise AssessmentUnavailable(
                f"Could not read the {side} catalog.", first_line, "Run `dms-tui verify` to check the databases."
            ) from None
    source_tables, source_extra = catalogs["source"]
    assert source_extra is not None
    keyed, server = source_extra
    plans = plan_tables(source_tables, mappings, settings)
    found = assess(plans, settings, migration_type, keyed=keyed, target_tables=catalogs["target"][0], server=server)
    from dms_tui.steps.cdc_prerequisites import logical_replication_fix

    return aurora_fix_said_with_this_tool(found, server, logical_replication_fix(environment, outputs, migration_type))


def aurora_fix_said_with_this_tool(found: list[Finding], server: Any, fix: Callable[[bool], str]) -> list[Finding]:
    """An Aurora source without logical decoding gets the fix Migrate's CDC prerequisite gives, with this tool's
    commands (the bundle sets rds.logical_replication from the configured type; a static parameter, so the writer
    reboots), instead of the assessment's generic one. Other sources and findings are left as they are."""
    if server is None or server.rds_logical_replication is None:
        return found
    text = fix(server.rds_logical_replication in ("1", "on"))
    return [dataclasses.replace(f, fix=text) if f.check == "cdc-wal-level" else f for f in found]
