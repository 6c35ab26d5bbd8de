"""The full reachability checklist for a provisioned environment, and the one call that runs it."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from dms_tui.checks.aws_errors import caching_client_factory
from dms_tui.checks.identity import clock_check, identity_check, region_check
from dms_tui.checks.login import database_check, login_check
from dms_tui.checks.network import dns_check, tcp_check
from dms_tui.checks.privatelink import endpoint_check, endpoint_service_check, nlb_targets_check
from dms_tui.checks.replication import dms_connection_check, replication_instance_check
from dms_tui.checks.result import Side, VerifyReport
from dms_tui.checks.runner import Check, ClientFactory, EventSink, ignore_event, run_checks
from dms_tui.checks.secret import secret_check
from dms_tui.environment import Environment
from dms_tui.provision.outputs import EnvironmentOutputs

SIDES: tuple[Side, ...] = ("source", "target")


@dataclass(frozen=True)
class VerifyOptions:
    """Per-check deadlines (seconds): AWS API calls, network probes (DNS, TCP, login), and DMS's own connection
    test, which takes tens of seconds on AWS."""

    api_timeout: float = 15.0
    network_timeout: float = 10.0
    dms_timeout: float = 120.0
    dms_poll_interval: float = 3.0

    @classmethod
    def for_target(cls, target: Environment) -> VerifyOptions:
        t = target.verify_timeouts
        return cls(
            api_timeout=t.api, network_timeout=t.network, dms_timeout=t.dms, dms_poll_interval=t.dms_poll_interval
        )


def build_checks(target: Environment, outputs: EnvironmentOutputs, options: VerifyOptions | None = None) -> list[Check]:
    """Every check, in the order the checklist shows them (they run concurrently regardless)."""
    opts = options or VerifyOptions.for_target(target)
    api, net = opts.api_timeout, opts.network_timeout
    checks: list[Check] = [
        identity_check(target, api),
        region_check(outputs, target, api),
        clock_check(target, api),
        replication_instance_check(outputs, target, api),
    ]
    for side in SIDES:
        side_outputs = outputs.source if side == "source" else outputs.target
        checks += [
            secret_check(side, side_outputs, target, api),
            dns_check(side, side_outputs, target, net),
            tcp_check(side, side_outputs, target, net),
            login_check(side, side_outputs, target, net),
            database_check(side, side_outputs, target, net),
            endpoint_check(side, side_outputs, target, api),
            endpoint_service_check(side, side_outputs, target, api),
            nlb_targets_check(side, side_outputs, target, api),
            dms_connection_check(side, side_outputs, outputs, target, opts.dms_timeout, opts.dms_poll_interval),
        ]
    return checks


def verify(
    target: Environment,
    outputs: EnvironmentOutputs,
    *,
    options: VerifyOptions | None = None,
    on_event: EventSink = ignore_event,
    client: ClientFactory | None = None,
    cancel: threading.Event | None = None,
) -> VerifyReport:
    """Run the whole checklist concurrently; the report passes only when every check passed."""
    return run_checks(
        build_checks(target, outputs, options),
        client=client or caching_client_factory(target),
        on_event=on_event,
        cancel=cancel,
    )
