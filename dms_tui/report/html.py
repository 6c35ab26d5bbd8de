"""The hand-over report as one self-contained HTML page: inline CSS, no script, nothing fetched.

Sections (each a ``<section id=...>`` a test or a reader can find): ``summary``, ``architecture`` (the three VPCs and
every hop with the real resource ids), ``verify`` (the checklist with each check's time), ``task`` (the DMS task's
statistics, per table), ``diff`` (the row-by-row verdict per table), ``cutover`` (its timings, when the journey had
one) and ``commands`` (the equivalent commands of what was run, to run again by hand).
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from dms_tui.environment import EnvironmentRequest
from dms_tui.journey import STEPS, Step, WizardState
from dms_tui.provision.outputs import EnvironmentOutputs, SideOutputs
from dms_tui.report.evidence import redact

SECTIONS = ("summary", "architecture", "verify", "task", "diff", "cutover", "commands")
SEED_DEFAULT_ROWS = 4  # `dms-tui seed` without --rows writes the seed's four rows

_CSS = """
:root { --ink:#1b2733; --muted:#5b6b7a; --line:#d5dde5; --ok:#1f7a3a; --warn:#a86400; --fail:#b3261e;
        --box:#f4f7fa; --accent:#2c5d8a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1180px; padding: 24px 28px 60px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 30px 0 8px; border-bottom: 2px solid
     var(--line); padding-bottom: 4px; } h3 { font-size: 14px; margin: 0 0 6px; }
.muted { color: var(--muted); } code, pre, .id { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace;
     font-size: 12px; } .id { overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 4px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--box); font-weight: 600; } td.num, th.num { text-align: right; white-space: nowrap; }
.ok { color: var(--ok); font-weight: 600; } .warn { color: var(--warn); font-weight: 600; }
.fail { color: var(--fail); font-weight: 600; } .skipped { color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; border: 1px solid currentColor; }
.arch { display: grid; grid-template-columns: 1fr 64px 1.25fr 64px 1fr; align-items: stretch; gap: 0; }
.vpc { border: 2px solid var(--accent); border-radius: 8px; padding: 10px; background: #fff; }
.vpc > h3 { color: var(--accent); } .res { background: var(--box); border: 1px solid var(--line);
     border-radius: 6px; padding: 6px 8px; margin: 6px 0; } .res b { display: block; font-size: 12px; }
.link { display: flex; flex-direction: column; justify-content: center; align-items: center; color: var(--accent);
     font-size: 11px; text-align: center; } .link .arrow { font-size: 26px; line-height: 1; }
pre.cmd { background: #0f1b24; color: #e6edf3; padding: 8px 10px; border-radius: 6px; white-space: pre-wrap;
     overflow-wrap: anywhere; margin: 4px 0; }
ol.cmds { padding-left: 22px; } ol.cmds li { margin-bottom: 8px; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
@media print { body { max-width: none; } pre.cmd { background: #fff; color: #000; border: 1px solid #999; } }
"""


# -- formatting ----------------------------------------------------------------------------------------------------


def seconds_text(seconds: float | None) -> str:
    """``0.042`` → "42 ms", ``1.43`` → "1.4 s", ``370`` → "6m10s"."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _n(value: Any) -> str:
    return f"{int(value):,}" if isinstance(value, int | float) else escape(str(value or "—"))


def _e(value: Any) -> str:
    return escape(redact(str(value)), quote=True)


def _id(value: Any) -> str:
    return f'<span class="id">{_e(value)}</span>' if value else '<span class="muted">—</span>'


def _time(value: str | None) -> str:
    if not value:
        return "—"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return _e(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return escape(moment.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if moment.tzinfo is not None else ""))


def _status(status: str) -> str:
    css = {"ok": "ok", "warn": "warn", "fail": "fail", "skipped": "skipped"}.get(status, "")
    return f'<span class="{css}">{escape(status)}</span>'


def _verdict(good: bool, yes: str, no: str) -> str:
    return f'<span class="badge {"ok" if good else "fail"}">{escape(yes if good else no)}</span>'


def _name_of(arn: str) -> str:
    """The readable end of an ARN (``…:loadbalancer/net/dev-source-nlb/abc`` → ``dev-source-nlb``)."""
    tail = arn.rsplit(":", 1)[-1]
    parts = tail.split("/")
    return parts[2] if len(parts) >= 4 else parts[-1]


# -- the page ------------------------------------------------------------------------------------------------------


def render_report(
    state: WizardState,
    outputs: EnvironmentOutputs | None,
    evidence: dict[str, Any],
    *,
    generated_at: dt.datetime,
) -> str:
    request = EnvironmentRequest(sandbox=state.mode == "sandbox", env=state.env)
    title = f"dms-tui hand-over report · {state.env} · {'sandbox' if request.sandbox else 'AWS'}"
    body = [
        f"<header><h1>{escape(title)}</h1>",
        f'<div class="muted">Generated {escape(generated_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))}'
        " by dms-tui. Holds resource ids, timings and counts; no password, no row contents.</div></header>",
        _summary(state, outputs, request),
        _architecture(outputs),
        _verify(state, evidence.get("verify")),
        _task(state, evidence.get("task")),
        _diff(state, evidence.get("diff")),
        _cutover(evidence.get("cutover")),
        _commands(state, outputs, evidence, request),
        "<footer>Self-contained page: no script, nothing loaded from elsewhere; prints as it shows.</footer>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _section(section_id: str, heading: str, content: str) -> str:
    return f'<section id="{section_id}"><h2>{escape(heading)}</h2>\n{content}\n</section>'


def _summary(state: WizardState, outputs: EnvironmentOutputs | None, request: EnvironmentRequest) -> str:
    steps = " › ".join(
        f'<span class="{"ok" if state.is_done(s) else "muted"}">{escape(s.title)}{" ✓" if state.is_done(s) else ""}'
        "</span>"
        for s in STEPS
    )
    rows = [
        ("Environment", escape(state.env)),
        ("Mode", escape(request.label)),
        ("Region", _id(outputs.region) if outputs else "—"),
        ("Journey", steps),
    ]
    if state.prepare is not None:
        rows.append(
            (
                "Source data",
                f"{_n(state.prepare.source_rows)} rows in demo_schema.demo_accounts"
                + (", with a primary key" if state.prepare.primary_key else ", no primary key"),
            )
        )
    return _section("summary", "Summary", _kv(rows))


def _kv(rows: Iterable[tuple[str, str]]) -> str:
    return '<dl class="kv">' + "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _res(label: str, *lines: str) -> str:
    return f'<div class="res"><b>{escape(label)}</b>{"<br>".join(lines)}</div>'


def _side_column(title: str, side: SideOutputs) -> str:
    return (
        f'<div class="vpc"><h3>{escape(title)}</h3>'
        + _res("VPC", _id(side.vpc_id), f'<span class="muted">{_e(side.vpc_cidr)}</span>')
        + _res(
            "Aurora PostgreSQL cluster",
            _id(side.cluster_identifier),
            f'<span class="muted">database {_e(side.database_name)} · port {_e(side.port)}</span>',
        )
        + _res("Network Load Balancer", _id(_name_of(side.nlb_arn)), _id(side.nlb_arn))
        + _res("target group (the writer)", _id(side.target_group_arn))
        + _res("endpoint service (PrivateLink)", _id(side.endpoint_service_id))
        + _res("Secrets Manager secret (referenced by ARN)", _id(side.secret_arn))
        + "</div>"
    )


def _architecture(outputs: EnvironmentOutputs | None) -> str:
    if outputs is None:
        return _section("architecture", "Architecture", '<p class="muted">Not provisioned yet: no resource ids.</p>')
    s, t = outputs.source, outputs.target
    dms = (
        '<div class="vpc"><h3>DMS VPC</h3>'
        + _res("VPC", _id(outputs.dms_vpc_id), f'<span class="muted">{_e(outputs.dms_vpc_cidr)}</span>')
        + _res("interface endpoint → source", _id(s.vpc_endpoint_id), _id(s.endpoint_dns_name))
        + _res("interface endpoint → target", _id(t.vpc_endpoint_id), _id(t.endpoint_dns_name))
        + _res("DMS replication instance", _id(_name_of(outputs.dms_replication_instance_arn)))
        + _res("DMS endpoints", "source " + _id(s.dms_endpoint_arn), "target " + _id(t.dms_endpoint_arn))
        + _res("DMS secrets access role", _id(outputs.dms_access_role_arn))
        + _res("bastion (Session Manager)", _id(outputs.bastion_instance_id))
        + "</div>"
    )
    link = '<div class="link"><span class="arrow">⇆</span>PrivateLink<br>port {port}</div>'
    diagram = (
        '<div class="arch">'
        + _side_column("Source VPC (on-premises stand-in)", s)
        + link.format(port=_e(s.port))
        + dms
        + link.format(port=_e(t.port))
        + _side_column("Target VPC", t)
        + "</div>"
    )
    hops = (
        "<p>DMS reads the source through "
        f"{_id(s.vpc_endpoint_id)} → {_id(s.endpoint_service_id)} → {_id(_name_of(s.nlb_arn))} → "
        f"{_id(s.cluster_identifier)}, and writes the target through {_id(t.vpc_endpoint_id)} → "
        f"{_id(t.endpoint_service_id)} → {_id(_name_of(t.nlb_arn))} → {_id(t.cluster_identifier)}. "
        "The three VPCs are never peered (their CIDRs may overlap); only the interface endpoints cross.</p>"
    )
    return _section("architecture", "Architecture", diagram + hops)


def _verify(state: WizardState, recorded: dict[str, Any] | None) -> str:
    if recorded:
        counts = recorded.get("counts", {})
        head = (
            f"<p>{_verdict(bool(recorded.get('passed')), 'every hop proven', 'not every check passed')} "
            f"{_n(counts.get('ok', 0))} ok, {_n(counts.get('warn', 0))} warning(s), {_n(counts.get('fail', 0))} failed, "
            f"{_n(counts.get('skipped', 0))} skipped in {seconds_text(recorded.get('seconds'))} · "
            f"run at {_time(recorded.get('recorded_at'))}</p>"
        )
        rows = "".join(
            f"<tr><td>{_e(c.get('title', c.get('id', '')))}</td><td>{_e(c.get('side', ''))}</td>"
            f"<td>{_status(str(c.get('status', '')))}</td><td class='num'>{seconds_text(c.get('duration'))}</td>"
            f"<td>{_e(c.get('detail', ''))}</td></tr>"
            for c in recorded.get("checks", [])
        )
        table = (
            "<table><thead><tr><th>check</th><th>side</th><th>result</th><th class='num'>time</th><th>what it saw"
            f"</th></tr></thead><tbody>{rows}</tbody></table>"
        )
        return _section("verify", "Verify: the reachability checklist", head + table)
    if state.verify is not None:
        v = state.verify
        text = ", ".join(f"{_n(n)} {escape(k)}" for k, n in v.counts.items())
        return _section(
            "verify",
            "Verify: the reachability checklist",
            f"<p>{_verdict(v.passed, 'every hop proven', 'not every check passed')} {text} in "
            f"{seconds_text(v.seconds)} (the per-check times were not recorded).</p>",
        )
    return _section("verify", "Verify: the reachability checklist", '<p class="muted">Verify has not run yet.</p>')


def _task(state: WizardState, recorded: dict[str, Any] | None) -> str:
    heading = "Migrate: the DMS task's statistics"
    snapshot = (recorded or {}).get("snapshot")
    if not snapshot:
        if state.task is None:
            return _section("task", heading, '<p class="muted">No DMS task has run yet.</p>')
        t = state.task
        return _section(
            "task",
            heading,
            _kv(
                [
                    ("Task", _id(t.identifier)),
                    ("ARN", _id(t.arn)),
                    ("Status", _e(t.status or "—")),
                    ("Tables", _n(t.tables)),
                    ("Rows loaded", _n(t.rows)),
                ]
            ),
        )
    stats = snapshot.get("stats") or {}
    tables = snapshot.get("tables") or []
    rows_loaded = sum(int(t.get("full_load_rows") or 0) for t in tables)
    elapsed = (stats.get("elapsed_time_ms") or 0) / 1000
    start, finish = stats.get("full_load_start_date"), stats.get("full_load_finish_date")
    load_seconds = _between(start, finish)
    facts = [
        ("Task", _id(snapshot.get("identifier"))),
        ("ARN", _id(snapshot.get("task_arn"))),
        ("Migration type", _e(snapshot.get("migration_type", "—"))),
        (
            "Status",
            _e(snapshot.get("status", "—"))
            + (f" · {_e(snapshot['stop_reason'])}" if snapshot.get("stop_reason") else ""),
        ),
        ("Full load", f"{_n(stats.get('full_load_progress_percent', 0))}% · {_time(start)} → {_time(finish)}"),
        ("Rows loaded", _n(rows_loaded) + (f" in {seconds_text(load_seconds)}" if load_seconds else "")),
        ("Throughput", f"{rows_loaded / load_seconds:,.0f} rows/s" if load_seconds else "—"),
        ("Elapsed (DMS)", seconds_text(elapsed) if elapsed else "—"),
        (
            "Tables",
            f"{_n(stats.get('tables_loaded', 0))} loaded, {_n(stats.get('tables_errored', 0))} errored, "
            f"{_n(stats.get('tables_loading', 0))} loading, {_n(stats.get('tables_queued', 0))} queued",
        ),
        ("Read at", _time(snapshot.get("taken_at"))),
    ]
    if snapshot.get("last_failure_message"):
        facts.append(("Last failure", _e(snapshot["last_failure_message"])))
    rows = "".join(
        f"<tr><td>{_e(t.get('schema_name'))}.{_e(t.get('table_name'))}</td><td>{_e(t.get('table_state'))}</td>"
        f"<td class='num'>{_n(t.get('full_load_rows', 0))}</td><td class='num'>{_n(t.get('inserts', 0))}</td>"
        f"<td class='num'>{_n(t.get('updates', 0))}</td><td class='num'>{_n(t.get('deletes', 0))}</td>"
        f"<td class='num'>{_n(t.get('full_load_error_rows', 0))}</td>"
        f"<td class='num'>{seconds_text(_between(t.get('full_load_start_time'), t.get('full_load_end_time')))}</td>"
        f"<td>{_e(t.get('validation_state') or '—')}</td></tr>"
        for t in tables
    )
    table = (
        "<table><thead><tr><th>table</th><th>state</th><th class='num'>full-load rows</th><th class='num'>inserts"
        "</th><th class='num'>updates</th><th class='num'>deletes</th><th class='num'>error rows</th>"
        f"<th class='num'>load time</th><th>validation</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    return _section("task", heading, _kv(facts) + table)


def _between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    try:
        seconds = (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()
    except (ValueError, TypeError):
        return None
    return seconds if seconds >= 0 else None


def _diff(state: WizardState, recorded: dict[str, Any] | None) -> str:
    heading = "Diff: source and target, row by row"
    if recorded:
        tables = recorded.get("tables", [])
        identical = bool(recorded.get("identical"))
        head = (
            f"<p>{_verdict(identical, 'identical', 'differences found')} {_n(len(tables))} table(s) compared in "
            f"{seconds_text(recorded.get('elapsed_seconds'))} · run at {_time(recorded.get('recorded_at'))}</p>"
        )
        rows = "".join(
            f"<tr><td>{_e(t.get('source_table'))}</td><td>{_e(t.get('target_table'))}</td>"
            f"<td>{_e(', '.join(t['key']) if t.get('key') else '(none: compared as a multiset)')}</td>"
            f"<td class='num'>{_n(t.get('source_rows', 0))}</td><td class='num'>{_n(t.get('target_rows', 0))}</td>"
            f"<td>{_table_verdict(t)}</td><td class='num'>{seconds_text(t.get('elapsed_seconds'))}</td></tr>"
            for t in tables
        )
        table = (
            "<table><thead><tr><th>source table</th><th>target table</th><th>key</th><th class='num'>source rows</th>"
            "<th class='num'>target rows</th><th>result</th><th class='num'>time</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
        return _section("diff", heading, head + table)
    if state.diff is not None:
        d = state.diff
        return _section(
            "diff",
            heading,
            f"<p>{_verdict(d.identical, 'identical', 'differences found')} {_n(d.tables)} table(s), "
            f"{_n(d.differences)} difference(s).</p>",
        )
    return _section("diff", heading, '<p class="muted">The diff has not run yet.</p>')


def _table_verdict(table: dict[str, Any]) -> str:
    if table.get("identical"):
        return '<span class="ok">identical</span>' + (" (after a re-check)" if table.get("rechecked") else "")
    parts = [f"{len(table.get('schema_drift') or [])} schema drift"] if table.get("schema_drift") else []
    more = "+" if table.get("truncated") else ""
    for label in ("missing_in_target", "extra_in_target", "changed"):
        if table.get(label):
            parts.append(f"{table[label]}{more} {label.replace('_', ' ')}")
    return f'<span class="fail">{escape(", ".join(parts) or "differences")}</span>'


def _cutover(recorded: dict[str, Any] | None) -> str:
    heading = "Cutover"
    timings = (recorded or {}).get("timings") or {}
    if not timings:
        return _section(
            "cutover",
            heading,
            '<p class="muted">No cutover in this journey: a full load, no change data capture. A journey with CDC '
            "shows here how long each cutover stage took.</p>",
        )
    total = sum(timings.values())
    rows = "".join(
        f"<tr><td>{_e(name)}</td><td class='num'>{seconds_text(seconds)}</td></tr>" for name, seconds in timings.items()
    )
    return _section(
        "cutover",
        heading,
        f"<p>{seconds_text(total)} in all · recorded {_time(recorded.get('recorded_at') if recorded else None)}</p>"
        f"<table><thead><tr><th>stage</th><th class='num'>time</th></tr></thead><tbody>{rows}</tbody></table>",
    )


def equivalent_commands(
    state: WizardState, outputs: EnvironmentOutputs | None, evidence: dict[str, Any], request: EnvironmentRequest
) -> list[tuple[str, str]]:
    """(what, command line) for every step this journey ran, in order: the commands to run it again by hand."""
    flags = request.cli_flags()
    out: list[tuple[str, str]] = []
    if request.sandbox:
        out.append(("start the sandbox", "dms-tui sandbox up"))
    if outputs is not None or state.is_done(Step.PROVISION):
        out.append(("provision (terraform apply)", shlex.join(["dms-tui", "provision", "apply", *flags])))
    verify = evidence.get("verify") or {}
    if verify.get("command") or state.verify is not None:
        out.append(("verify every hop", verify.get("command") or shlex.join(["dms-tui", "verify", *flags])))
    if state.prepare is not None:
        argv = ["dms-tui", "seed", *flags]
        if state.prepare.source_rows != SEED_DEFAULT_ROWS:
            argv += ["--rows", str(state.prepare.source_rows)]
        if state.prepare.primary_key:
            argv.append("--primary-key")
        out.append(("prepare the source", shlex.join(argv)))
    task = evidence.get("task") or {}
    if task or state.task is not None:
        out.append(("run the DMS task", shlex.join(["dms-tui", "migrate", *flags])))
        out.extend(("the DMS API call made", c) for c in task.get("commands", []))
    diff = evidence.get("diff") or {}
    if diff.get("command") or state.diff is not None:
        out.append(("compare row by row", diff.get("command") or shlex.join(["dms-tui", "diff", *flags])))
    out.extend(("cutover", c) for c in (evidence.get("cutover") or {}).get("commands", []))
    return [(what, redact(line)) for what, line in out]


def _commands(
    state: WizardState, outputs: EnvironmentOutputs | None, evidence: dict[str, Any], request: EnvironmentRequest
) -> str:
    commands: Sequence[tuple[str, str]] = equivalent_commands(state, outputs, evidence, request)
    if not commands:
        return _section("commands", "Commands that were run", '<p class="muted">Nothing has run yet.</p>')
    items = "".join(f'<li>{escape(what)}<pre class="cmd">{escape(line)}</pre></li>' for what, line in commands)
    note = (
        "<p class='muted'>The equivalent of each step, as a person would type it; the `aws` lines carry the "
        "sandbox's endpoint and dummy keys, which mean nothing outside it.</p>"
        if request.sandbox
        else "<p class='muted'>The equivalent of each step, as a person would type it (add --profile/--region as "
        "you use them).</p>"
    )
    return _section("commands", "Commands that were run", note + f'<ol class="cmds">{items}</ol>')
