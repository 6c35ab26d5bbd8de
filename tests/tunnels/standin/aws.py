"""Stand-in for the AWS CLI's `aws ssm start-session` with the port-forwarding document (tests only).

Like the real CLI it checks its arguments, needs `session-manager-plugin` on PATH (with the real CLI's message when it
is missing) and runs the plugin as its child, waiting for it: so a tunnel is two processes, as on a laptop.
"""

import os
import shutil
import subprocess
import sys

args = sys.argv[1:]
if args[:2] != ["ssm", "start-session"]:
    print(f"stand-in aws: only `ssm start-session` is known, not {args[:2]}", file=sys.stderr)
    sys.exit(252)
options = dict(zip(args[2::2], args[3::2], strict=False))
if options.get("--document-name") != "AWS-StartPortForwardingSessionToRemoteHost":
    print("stand-in aws: only AWS-StartPortForwardingSessionToRemoteHost is known", file=sys.stderr)
    sys.exit(252)
parameters = dict(pair.split("=", 1) for pair in options["--parameters"].split(","))
with open(os.environ["SSM_STANDIN_LOG"], "a", encoding="utf-8") as log:
    log.write(f"aws {os.getpid()} {' '.join(args)}\n")
plugin = shutil.which("session-manager-plugin")
if plugin is None:
    print(
        "\nSessionManagerPlugin is not found. Please refer to SessionManager Documentation here: "
        "http://docs.aws.amazon.com/console/systems-manager/session-manager-plugin-not-found\n",
        flush=True,
    )
    sys.exit(255)
sys.exit(
    subprocess.call(  # noqa: S603
        [plugin, options["--target"], parameters["host"], parameters["portNumber"], parameters["localPortNumber"]]
    )
)
