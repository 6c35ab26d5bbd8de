"""The sandbox's DMS data plane: a WSGI middleware in front of moto that makes replication tasks really run.

Moto 5.x stores DMS tasks and endpoints but moves no data: its StartReplicationTask flips a status, its
DescribeReplicationTasks returns fixed statistics (100 %, one table loaded, whatever happened), its tasks stay
``creating`` forever, its TestConnection always succeeds, and it has no DescribeTableStatistics or ReloadTables at all.
This middleware answers those DMS JSON operations itself (``X-Amz-Target: AmazonDMSv20160101.<Operation>``), reading
the task and endpoint objects from moto's in-process backend and the credentials from moto's Secrets Manager backend,
and runs each task with :class:`dms_tui.sandbox.dms_engine.FullLoadTask`. Every other request goes to moto unchanged.

Sandbox behaviour a client should know:
- A task moto reports as ``creating`` becomes ``ready`` at the first DescribeReplicationTasks (AWS takes seconds).
- Endpoints are PostgreSQL endpoints; credentials come from the secret named by
  ``PostgreSQLSettings.SecretsManagerSecretId`` (JSON: username, password, host, port, dbname), else from the
  endpoint's own Username/Password/ServerName/Port. ``DatabaseName`` on the endpoint wins over the secret's dbname.
  ``resolve`` maps the server name (the interface endpoint DNS name) and port to the local TCP forwarder.
- CDC tasks (``full-load-and-cdc``, ``cdc``): the slot is named after the task (or the source endpoint's
  ``PostgreSQLSettings.SlotName``), kept while the task is stopped, dropped when the task is deleted and when the
  daemon exits normally (``sandbox down``). ``resume-processing`` of a task this daemon never ran (the daemon was
  killed and the task re-created under the same identifier) continues from the checkpoint the target holds.
  ``CdcStartPosition`` (a native LSN) and ``CdcStopPosition`` (``server_time:...``) are passed to the engine.
- Every few seconds each CDC task's CDCLatencySource, CDCLatencyTarget, CDCIncomingChanges,
  CDCThroughputRowsSource and CDCThroughputRowsTarget go into moto's CloudWatch, namespace ``AWS/DMS``, with DMS's
  dimensions ``ReplicationInstanceIdentifier`` and ``ReplicationTaskIdentifier`` (the last part of the task ARN, as
  DMS uses the task's resource id there), so clients read them with GetMetricData as on AWS.
"""

from __future__ import annotations

import atexit
import io
import json
import logging
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from dms_tui.domain.dms import ENDED_STATUSES, ConnectionStatus, StartTaskType, TaskStatus
from dms_tui.sandbox.dms_engine import EngineEvent, FullLoadTask, PostgresEndpoint, TaskStateError

log = logging.getLogger(__name__)

WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
TARGET_PREFIX = "AmazonDMSv20160101."
DEFAULT_ACCOUNT_ID = "123456789012"
_POSTGRES_ENGINES = ("postgres", "aurora-postgresql")
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/dms/")
_TABLE_FILTERS = {"schema-name": "SchemaName", "table-name": "TableName", "table-state": "TableState"}


class DmsFault(Exception):
    """An error answered in the DMS JSON protocol's shape (botocore raises it as ``ClientError`` with this code)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class EndpointUnusable(Exception):
    """The endpoint cannot be connected to as configured (secret missing, not PostgreSQL...)."""


@dataclass
class _ConnectionTest:
    status: str = ConnectionStatus.TESTING
    message: str = ""


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()  # the JSON protocol's timestamp: epoch seconds
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class DmsDataPlaneMiddleware:
    """WSGI middleware: real DMS data-plane answers for the operations moto fakes or lacks; moto for the rest."""

    def __init__(
        self,
        app: WSGIApplication,
        resolve: Callable[[str, int], tuple[str, int]],
        account_id: str = DEFAULT_ACCOUNT_ID,
        *,
        connect_timeout: float = 5.0,
        ca_cert: Path | None = None,
    ) -> None:
        self.app = app
        self.resolve = resolve
        self.ca_cert = ca_cert  # stands in for the certificate a verify-ca/verify-full endpoint names
        self.account_id = account_id
        self.connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._runs: dict[str, FullLoadTask] = {}  # by task ARN
        self._tests: dict[tuple[str, str], _ConnectionTest] = {}  # (replication instance ARN, endpoint ARN)
        self.metrics_interval_s = 5.0
        self._published: dict[str, tuple[float, int, int]] = {}  # arn -> (time, read, applied) at last publish
        self._publisher = threading.Thread(target=self._publish_loop, name="dms-metrics", daemon=True)
        self._publisher.start()
        atexit.register(_close_at_exit, weakref.ref(self))
        self._handlers: dict[str, Callable[[dict[str, Any], dict[str, Any], str], dict[str, Any]]] = {
            "StartReplicationTask": self._start_task,
            "StopReplicationTask": self._stop_task,
            "DeleteReplicationTask": self._delete_task,
            "DescribeReplicationTasks": self._describe_tasks,
            "DescribeTableStatistics": self._describe_table_statistics,
            "ReloadTables": self._reload_tables,
            "TestConnection": self._test_connection,
            "DescribeConnections": self._describe_connections,
        }

    # -- WSGI -----------------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else ""
        handler = self._handlers.get(operation)
        if handler is None:
            return self.app(environ, start_response)
        body = self._read_body(environ)
        region = self._region(environ)
        try:
            params = json.loads(body or b"{}")
            document = handler(environ, params, region)
            status, payload = "200 OK", json.dumps(document, default=_json_default).encode()
        except DmsFault as fault:
            status = f"{fault.status} Bad Request"
            payload = json.dumps({"__type": fault.code, "message": fault.message}).encode()
        except json.JSONDecodeError:
            status = "400 Bad Request"
            payload = json.dumps({"__type": "SerializationException", "message": "Request body is not JSON"}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(payload)))]
        start_response(status, headers)
        return [payload]

    @staticmethod
    def _read_body(environ: dict[str, Any]) -> bytes:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again when the request is passed on
        return bytes(body)

    @staticmethod
    def _region(environ: dict[str, Any]) -> str:
        match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        return match.group(1) if match else "us-east-1"

    def _call_moto(self, environ: dict[str, Any]) -> dict[str, Any]:
        """Pass the request to moto and return its JSON answer; moto's errors are re-raised as DmsFault."""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"] = status
            return lambda _data: None

        environ["wsgi.input"].seek(0)
        chunks = self.app(environ, capture)
        try:
            raw = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        document = json.loads(raw or b"{}")
        if not str(captured.get("status", "200")).startswith("2"):
            raise DmsFault(
                str(document.get("__type", "InternalFailure")).split("#")[-1],
                str(document.get("message") or document.get("Message") or raw.decode(errors="replace")),
                int(str(captured.get("status", "400")).split()[0]),
            )
        return dict(document)

    # -- moto's objects -------------------------------------------------------------------------------------------

    def _backend(self, region: str) -> Any:
        from moto.backends import get_backend

        return get_backend("dms")[self.account_id][region]

    def _moto_task(self, region: str, arn: str) -> Any:
        task = self._backend(region).replication_tasks.get(arn)
        if task is None:
            raise DmsFault("ResourceNotFoundFault", f"Replication task {arn} could not be found.")
        return task

    def _endpoint(self, region: str, arn: str) -> PostgresEndpoint:
        # moto keys endpoints by identifier, not ARN
        endpoint = next((e for e in self._backend(region).endpoints.values() if e.endpoint_arn == arn), None)
        if endpoint is None:
            raise EndpointUnusable(f"Endpoint {arn} does not exist.")
        if endpoint.engine_name not in _POSTGRES_ENGINES:
            raise EndpointUnusable(
                f"Endpoint {endpoint.endpoint_identifier} uses engine {endpoint.engine_name!r}; the sandbox DMS "
                f"engine moves data between PostgreSQL endpoints only ({', '.join(_POSTGRES_ENGINES)})."
            )
        secret: dict[str, Any] = {}
        secret_id = (endpoint.postgre_sql_settings or {}).get("SecretsManagerSecretId")
        if secret_id:
            secret = self._secret(str(secret_id), region, endpoint.endpoint_identifier)
        host = secret.get("host") or endpoint.server_name
        port = secret.get("port") or endpoint.port
        dbname = endpoint.database_name or secret.get("dbname")
        user = secret.get("username") or endpoint.username
        password = secret.get("password") or endpoint.password
        missing = [n for n, v in (("host", host), ("port", port), ("dbname", dbname), ("username", user)) if not v]
        if missing:
            raise EndpointUnusable(
                f"Endpoint {endpoint.endpoint_identifier} has no {', '.join(missing)}: set it on the endpoint or in "
                "its Secrets Manager secret."
            )
        local_host, local_port = self.resolve(str(host), int(port))
        sslmode, rootcert = self._tls(endpoint)
        return PostgresEndpoint(
            local_host, int(local_port), str(dbname), str(user), str(password or ""), sslmode, rootcert
        )

    def _tls(self, endpoint: Any) -> tuple[str, str | None]:
        """libpq's sslmode for the endpoint's SslMode, as DMS connects: ``none`` is plaintext (which the sandbox's
        clusters refuse, as Aurora with rds.force_ssl does), ``require`` encrypts, ``verify-*`` checks the server
        against the certificate the endpoint names; the sandbox's CA stands in for it (DMS's imported certificates
        are not modelled by moto)."""
        mode = str(getattr(endpoint, "ssl_mode", None) or "none").lower()
        if mode in ("verify-ca", "verify-full"):
            if self.ca_cert is None or not self.ca_cert.is_file():
                raise EndpointUnusable(
                    f"Endpoint {endpoint.endpoint_identifier} uses SslMode {mode}, but the sandbox's CA certificate "
                    "is missing; run `dms-tui sandbox up` to create it."
                )
            return mode, str(self.ca_cert)
        return ("disable" if mode == "none" else "require"), None

    def _secret(self, secret_id: str, region: str, endpoint_name: str) -> dict[str, Any]:
        from moto.backends import get_backend

        secret_region = secret_id.split(":")[3] if secret_id.startswith("arn:") else region
        try:
            secrets: Any = get_backend("secretsmanager")[self.account_id][secret_region]
            value = secrets.get_secret_value(secret_id, None, None)
            document = json.loads(value.get("SecretString") or "{}")
        except Exception as exc:  # noqa: BLE001 - moto raises its own exception types; all mean "unreadable"
            raise EndpointUnusable(
                f"Endpoint {endpoint_name}: its secret {secret_id} cannot be read ({type(exc).__name__}); check "
                "SecretsManagerSecretId and that the secret holds JSON."
            ) from exc
        if not isinstance(document, dict):
            raise EndpointUnusable(f"Endpoint {endpoint_name}: secret {secret_id} does not hold a JSON object.")
        return document

    # -- tasks ----------------------------------------------------------------------------------------------------

    def _overlay(self, task_dict: dict[str, Any], run: FullLoadTask | None) -> dict[str, Any]:
        """Replace moto's invented status and statistics with the engine's (zeros for a task never started)."""
        if run is None:
            task_dict["ReplicationTaskStats"] = {
                "FullLoadProgressPercent": 0,
                "ElapsedTimeMillis": 0,
                "TablesLoaded": 0,
                "TablesLoading": 0,
                "TablesQueued": 0,
                "TablesErrored": 0,
            }
            for key in ("ReplicationTaskStartDate", "StopReason", "LastFailureMessage"):
                task_dict.pop(key, None)
            return task_dict
        task_dict.update(run.task_fields())
        if "StopReason" not in task_dict or run.status not in ENDED_STATUSES:
            task_dict.pop("StopReason", None)
        return task_dict

    def _new_run(self, region: str, moto_task: Any) -> FullLoadTask:
        def on_event(event: EngineEvent) -> None:
            log.info("DMS task %s: %s", moto_task.id, event)

        try:
            source = self._endpoint(region, moto_task.source_endpoint_arn)
            target = self._endpoint(region, moto_task.target_endpoint_arn)
            problem = None
        except EndpointUnusable as exc:
            source = target = PostgresEndpoint("", 0, "", "", "")
            problem = str(exc)
        run = FullLoadTask(
            source,
            target,
            moto_task.table_mappings or "",
            moto_task.replication_task_settings or None,
            migration_type=moto_task.migration_type,
            task_id=moto_task.id,
            on_event=on_event,
            slot_name=self._slot_setting(region, moto_task.source_endpoint_arn),
        )
        run.instance_arn = str(moto_task.replication_instance_arn)  # type: ignore[attr-defined]
        run.region = region  # type: ignore[attr-defined]
        if problem:
            run.fail_to_start(problem)
        return run

    def _start_task(self, environ: dict[str, Any], params: dict[str, Any], region: str) -> dict[str, Any]:
        arn = str(params.get("ReplicationTaskArn", ""))
        start_type = str(params.get("StartReplicationTaskType") or StartTaskType.START_REPLICATION)
        moto_task = self._moto_task(region, arn)
        with self._lock:
            run = self._runs.get(arn)
            if run is not None and run.is_active:
                raise DmsFault("InvalidResourceStateFault", f"Replication task {moto_task.id} is already {run.status}.")
            resume = start_type == StartTaskType.RESUME_PROCESSING
            # A CDC task resumes even when this daemon never ran it: the checkpoint lives on the target.
            cdc_resume = resume and moto_task.migration_type != "full-load" and (run is None or run.captures_changes)
            fresh = run is None or not resume or run.status == TaskStatus.FAILED
            if fresh or run is None:
                run = self._new_run(region, moto_task)
                self._runs[arn] = run
            if run.status != TaskStatus.FAILED:  # a new run whose endpoints cannot be used has already failed, by name
                chosen = start_type if (cdc_resume or not fresh) else StartTaskType.START_REPLICATION
                try:
                    run.start(
                        chosen,
                        cdc_start_position=params.get("CdcStartPosition") or None,
                        cdc_stop_position=params.get("CdcStopPosition") or None,
                    )
                except TaskStateError as exc:
                    raise DmsFault("InvalidParameterValueException", str(exc)) from exc
        moto_task.status = run.status  # keeps moto's own answers (e.g. to DeleteReplicationTask) close to the truth
        return {"ReplicationTask": self._overlay(moto_task.to_dict(), run)}

    def _stop_task(self, environ: dict[str, Any], params: dict[str, Any], region: str) -> dict[str, Any]:
        arn = str(params.get("ReplicationTaskArn", ""))
        moto_task = self._moto_task(region, arn)
        run = self._runs.get(arn)
        try:
            if run is None:
                raise TaskStateError("never started")
            run.stop()
        except TaskStateError as exc:
            raise DmsFault("InvalidResourceStateFault", f"Replication task {moto_task.id} is not running.") from exc
        return {"ReplicationTask": self._overlay(moto_task.to_dict(), run)}

    def _delete_task(self, environ: dict[str, Any], params: dict[str, Any], region: str) -> dict[str, Any]:
        arn = str(params.get("ReplicationTaskArn", ""))
        run = self._runs.get(arn)
        if run is not None and run.is_active:
            raise DmsFault(
                "InvalidResourceStateFault",
                f"Replication task {arn} is {run.status}; stop it and wait for 'stopped' before deleting it.",
            )
        moto_task = self._backend(region).replication_tasks.get(arn)
        document = self._call_moto(environ)
        with self._lock:
            self._runs.pop(arn, None)
        if moto_task is not None and moto_task.migration_type != "full-load":
            try:  # the task's slot goes with it (best effort: the source may be down)
                (run or self._new_run(region, moto_task)).drop_slot()
            except Exception as exc:  # noqa: BLE001 - the delete itself succeeded
                log.warning("could not drop the replication slot of %s: %s", arn, exc)
        return document

    def _describe_tasks(self, environ: dict[str, Any], params: dict[str, Any], region: str) -> dict[str, Any]:
        backend = self._backend(region)
        for task in backend.replication_tasks.values():
            if task.status == TaskStatus.CREATING:
                task.ready()  # moto never leaves "creating"; AWS reaches "ready" within seconds
        document = self._call_moto(environ)
        for entry in document.get("ReplicationTasks", []):
            self._overlay(entry, self._runs.get(entry.get("ReplicationTaskArn", "")))
            if params.get("WithoutSettings"):
                entry.pop("ReplicationTaskSettings", None)
        return document

    def _describe_table_statistics(
        self, environ: dict[str, Any], params: dict[str, Any], region: str
    ) -> dict[str, Any]:
        arn = str(params.get("ReplicationTaskArn", ""))
        self._moto_task(region, arn)
        run = self._runs.get(arn)
        entries = run.table_statistics() if run is not None else []
        for flt in params.get("Filters") or []:
            key = _TABLE_FILTERS.get(str(flt.get("Name", "")))
            if key is None:
                raise DmsFault(
                    "InvalidParameterValueException",
                    f"Filter {flt.get('Name')!r} is not supported; use {', '.join(_TABLE_FILTERS)}.",
                )
            values = set(flt.get("Values") or [])
            entries = [e for e in entries if e[key] in values]
        max_records = int(params.get("MaxRecords") or 100)
        if not 10 <= max_records <= 500:
            raise DmsFault("InvalidParameterValueException", "MaxRecords must be between 10 and 500.")
        offset = int(params.get("Marker") or 0)
        page = entries[offset : offset + max_records]
        document: dict[str, Any] = {"ReplicationTaskArn": arn, "TableStatistics": page}
        if offset + max_records < len(entries):
            document["Marker"] = str(offset + max_records)
        return document

    def _reload_tables(self, environ: dict[str, Any], params: dict[str, Any], region: str) -> dict[str, Any]:
        arn = str(params.get("ReplicationTaskArn", ""))
        moto_task = self._moto_task(region, arn)
        if params.get("ReloadOption", "data-reload") != "data-reload":
            raise DmsFault(
                "InvalidParameterValueException", "The sandbox DMS engine supports ReloadOption 'data-reload' only."
            )
        tables = [(str(t.get("SchemaName")), str(t.get("TableName"))) for t in params.get("TablesToReload") or []]
        if not tables:
            raise DmsFault("InvalidParameterValueException", "TablesToReload must name at least one table.")
        run = self._runs.get(arn)
        try:
            if run is None:
                raise TaskStateError("never started")
            run.reload_tables(tables)
        except TaskStateError as exc:
            raise DmsFault(
                "InvalidResourceStateFault",
                f"Replication task {moto_task.id} cannot reload tables now: start it once first, and wait until it "
                "is stopped.",
            ) from exc
        return {"ReplicationTaskArn": arn}

    # -- connections ----------------------------------------------------------------------------------------------

    def _test_connection(self, environ: dict[str, Any], params: dict[str, Any], region: str) -> dict[str, Any]:
        document = self._call_moto(environ)  # moto checks that both objects exist and records the connection
        key = (str(params.get("ReplicationInstanceArn")), str(params.get("EndpointArn")))
        test = _ConnectionTest()
        with self._lock:
            self._tests[key] = test
        threading.Thread(target=self._run_test, args=(region, key[1], test), daemon=True).start()
        connection = document.get("Connection", {})
        connection.update({"Status": ConnectionStatus.TESTING.value, "LastFailureMessage": ""})
        return {"Connection": connection}

    def _run_test(self, region: str, endpoint_arn: str, test: _ConnectionTest) -> None:
        try:
            endpoint = self._endpoint(region, endpoint_arn)
            conninfo = psycopg.conninfo.make_conninfo(endpoint.conninfo(), connect_timeout=int(self.connect_timeout))
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("SELECT 1")
        except EndpointUnusable as exc:
            test.message, test.status = str(exc), ConnectionStatus.FAILED
        except psycopg.Error as exc:
            detail = " ".join(str(exc).split())
            test.message = f"Test connection failed for endpoint {endpoint_arn}: {detail}"
            test.status = ConnectionStatus.FAILED
        else:
            test.status = ConnectionStatus.SUCCESSFUL

    def _describe_connections(self, environ: dict[str, Any], params: dict[str, Any], region: str) -> dict[str, Any]:
        # Moto's own filter keeps only the last filter's matches; filter here, applying every filter.
        keys = {"endpoint-arn": "EndpointArn", "replication-instance-arn": "ReplicationInstanceArn"}
        entries = [c.to_dict() for c in self._backend(region).connections]
        for flt in params.get("Filters") or []:
            key = keys.get(str(flt.get("Name", "")))
            if key is None:
                raise DmsFault("InvalidParameterValueException", f"Filter {flt.get('Name')!r} is not supported.")
            entries = [e for e in entries if e[key] in set(flt.get("Values") or [])]
        for entry in entries:
            test = self._tests.get((entry["ReplicationInstanceArn"], entry["EndpointArn"]))
            if test is not None:
                entry["Status"], entry["LastFailureMessage"] = test.status, test.message
        return {"Connections": entries}

    # -- CDC: slot names, metrics, exit ----------------------------------------------------------------------------

    def _slot_setting(self, region: str, source_arn: str) -> str | None:
        endpoint = next((e for e in self._backend(region).endpoints.values() if e.endpoint_arn == source_arn), None)
        value = (getattr(endpoint, "postgre_sql_settings", None) or {}).get("SlotName") if endpoint else None
        return str(value) if value else None

    def metric_data(self, arn: str, run: FullLoadTask, now: float) -> list[dict[str, Any]]:
        """The five CDC metrics of one task, shaped as PutMetricData's MetricData."""
        m = run.metrics
        last = self._published.get(arn)
        span = max(1e-3, now - last[0]) if last else 1.0
        read_rate = (m.changes_read - last[1]) / span if last else 0.0
        applied_rate = (m.changes_applied - last[2]) / span if last else 0.0
        self._published[arn] = (now, m.changes_read, m.changes_applied)
        instance = str(getattr(run, "instance_arn", ""))
        backend = self._backend(str(getattr(run, "region", "us-east-1")))
        found = backend.replication_instances.get(instance) if hasattr(backend, "replication_instances") else None
        instance_id = getattr(found, "id", None) or getattr(found, "identifier", None) or instance.split(":")[-1]
        dimensions = [
            {"Name": "ReplicationInstanceIdentifier", "Value": str(instance_id)},
            {"Name": "ReplicationTaskIdentifier", "Value": arn.split(":")[-1]},
        ]
        stamp = datetime.fromtimestamp(now, UTC).replace(tzinfo=None)  # moto compares naive UTC times
        values = {
            "CDCLatencySource": (m.latency_source_s, "Seconds"),
            "CDCLatencyTarget": (m.latency_target_s, "Seconds"),
            "CDCIncomingChanges": (float(m.incoming_changes), "Count"),
            "CDCThroughputRowsSource": (read_rate, "Count/Second"),
            "CDCThroughputRowsTarget": (applied_rate, "Count/Second"),
        }
        return [
            {"MetricName": name, "Value": value, "Unit": unit, "Dimensions": dimensions, "Timestamp": stamp}
            for name, (value, unit) in values.items()
        ]

    def publish_metrics(self) -> None:
        from moto.backends import get_backend

        now = time.time()
        for arn, run in list(self._runs.items()):
            if not run.captures_changes or not run.is_active or not run.metrics.phase:
                continue
            region = str(getattr(run, "region", "us-east-1"))
            try:
                cloudwatch: Any = get_backend("cloudwatch")[self.account_id][region]
                cloudwatch.put_metric_data("AWS/DMS", self.metric_data(arn, run, now))
            except Exception as exc:  # noqa: BLE001 - metrics must never stop a task
                log.warning("could not publish CDC metrics for %s: %s", arn, exc)

    def _publish_loop(self) -> None:
        while True:
            time.sleep(self.metrics_interval_s)
            self.publish_metrics()

    def close(self) -> None:
        """Stop every CDC task and drop its slot (the daemon is going down)."""
        for run in list(self._runs.values()):
            if not run.captures_changes:
                continue
            try:
                if run.is_active:
                    run.stop()
                    run.wait(10)
                run.drop_slot()
            except Exception as exc:  # noqa: BLE001 - best effort on the way out
                log.warning("could not drop the slot of %s: %s", run.task_id, exc)

    # -- for the sandbox and tests --------------------------------------------------------------------------------

    def run_for(self, task_arn: str) -> FullLoadTask | None:
        """The engine run behind a task ARN, if the task was ever started."""
        return self._runs.get(task_arn)


def _close_at_exit(ref: weakref.ReferenceType[DmsDataPlaneMiddleware]) -> None:
    middleware = ref()
    if middleware is not None:
        middleware.close()
