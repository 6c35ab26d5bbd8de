"""Re-record the real `terraform -json` streams under tests/provision/streams/ (run by hand, not by pytest).

    .venv/bin/python tests/provision/record_streams.py            # the tiny config (about a minute)
    .venv/bin/python tests/provision/record_streams.py --bundle   # the real bundle -> bundle_*.jsonl (minutes)

Applies the tiny config in streams/config/ against a moto server on loopback, with the offline provider mirror.
Secrets Manager create/delete calls are slowed down so that terraform emits real `apply_progress` events for two
resources at once ("Still creating... [10s elapsed]"), which is what the interleaved-progress tests need.
The secrets have no value, so nothing secret can end up in a recording.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

HERE = Path(__file__).resolve().parent
STREAMS = HERE / "streams"
CONFIG = STREAMS / "config"
MIRROR = os.environ.get("DMS_TUI_TF_PLUGIN_DIR", "/opt/tf-plugins")
SLOW_TARGETS = {"secretsmanager.CreateSecret", "secretsmanager.DeleteSecret"}
SLOW_SECONDS = 11.5  # just over terraform's 10 s progress interval


def _slowed(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def wrapper(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET") in SLOW_TARGETS:
            time.sleep(SLOW_SECONDS)
        return app(environ, start_response)

    return wrapper


def _terraform(workdir: Path, env: dict[str, str], name: str, *args: str, suffix: str = "jsonl") -> int:
    out = STREAMS / f"{name}.{suffix}"
    with out.open("w") as handle:
        proc = subprocess.run(["terraform", *args], cwd=workdir, env=env, stdout=handle, check=False)
    print(f"{name}: exit {proc.returncode}, {sum(1 for _ in out.open())} lines", flush=True)
    return proc.returncode


def _record_interrupted_apply(workdir: Path, env: dict[str, str], var: str) -> None:
    """Apply again and press Ctrl+C (SIGINT) while the slowed secrets are being created: terraform's own reaction."""
    out = STREAMS / "apply_interrupted.jsonl"
    proc = subprocess.Popen(
        ["terraform", "apply", "-json", "-auto-approve", var], cwd=workdir, env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    with out.open("w") as handle:
        interrupted = False
        for line in proc.stdout:
            handle.write(line)
            if not interrupted and '"apply_start"' in line and "aws_secretsmanager_secret" in line:
                time.sleep(1.0)
                proc.send_signal(signal.SIGINT)
                interrupted = True
    print(f"apply_interrupted: exit {proc.wait()}", flush=True)


def _record_bundle(url: str) -> None:
    """plan, apply and destroy of the real bundle (terraform/) against moto, through the app's own workspace code."""
    os.environ.setdefault("DMS_TUI_HOME", tempfile.mkdtemp(prefix="dms-tui-record-"))
    from dms_tui.environment import Environment
    from dms_tui.provision.workspace import find_terraform, prepare_workspace, sandbox_override
    from dms_tui.sandbox.moto_gaps import apply_moto_gap_fixes

    apply_moto_gap_fixes()
    target = Environment(
        mode="sandbox", region="us-east-1", aws_endpoint_url=url, terraform_override=sandbox_override(url, "us-east-1")
    )
    workspace = prepare_workspace("dev", target)
    terraform = str(find_terraform().path)
    var = f"-var-file={workspace.var_file}"
    for name, args in (
        ("bundle_init", ("init", "-json", "-input=false")),
        ("bundle_plan", ("plan", "-json", "-input=false", "-out=tfplan", var)),
        ("bundle_apply", ("apply", "-json", "-input=false", "tfplan")),
        ("bundle_destroy", ("destroy", "-json", "-input=false", "-auto-approve", var)),
    ):
        started = time.monotonic()
        out = STREAMS / f"{name}.jsonl"
        with out.open("w") as handle:
            code = subprocess.run(
                [terraform, *args], cwd=workspace.root_module, env=workspace.env, stdout=handle, check=False
            ).returncode
        print(f"{name}: exit {code} in {time.monotonic() - started:.0f}s", flush=True)


def main() -> int:
    bundle = "--bundle" in sys.argv[1:]
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app if bundle else _slowed(app), True, request_handler=MotoRequestHandler)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    if bundle:
        _record_bundle(url)
        server.shutdown()
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp) / "config"
        shutil.copytree(CONFIG, workdir)
        cli_config = Path(tmp) / "terraform.rc"
        cli_config.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{MIRROR}"\n  }}\n}}\n')
        env = {**os.environ, "TF_CLI_CONFIG_FILE": str(cli_config), "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
        var = f"-var=endpoint={url}"
        _terraform(workdir, env, "init", "init", "-json")
        _terraform(workdir, env, "plan", "plan", "-json", "-out=tfplan", var)
        _terraform(workdir, env, "apply", "apply", "-json", "tfplan")
        # Out-of-band change so the next plan reports drift (resource_drift + refresh events).
        ec2 = boto3.client(
            "ec2",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        vpc_id = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["record"]}])["Vpcs"][0]["VpcId"]
        ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": "changed-by-hand"}])
        _terraform(workdir, env, "plan_drift", "plan", "-json", "-out=tfplan2", var)
        _terraform(workdir, env, "plan_invalid_cidr", "plan", "-json", var, '-var=subnet_cidrs=["10.0.300.0/24"]')
        # A subnet outside the VPC's CIDR passes validation but the API rejects it: apply_errored.
        _terraform(
            workdir,
            env,
            "apply_errored",
            "apply",
            "-json",
            "-auto-approve",
            var,
            '-var=subnet_cidrs=["10.0.1.0/24","10.0.2.0/24","192.168.9.0/24"]',
        )
        _terraform(workdir, env, "output", "output", "-json", suffix="json")
        _terraform(workdir, env, "destroy", "destroy", "-json", "-auto-approve", var)
        _record_interrupted_apply(workdir, env, var)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
