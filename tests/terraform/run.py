"""Run terraform in a prepared workspace the way the bundle tests do: no colour, output captured, never raising on
a non-zero exit (the tests read it), bounded by a timeout."""

from __future__ import annotations

import subprocess

from dms_tui.provision.workspace import TerraformBinary, Workspace


def terraform_in(
    tf: TerraformBinary, workspace: Workspace, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the machine's terraform, on our bundle
        [str(tf.path), *args, "-no-color"],
        cwd=workspace.root_module,
        env=workspace.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
