#!/bin/bash
# Install dms-tui on the bastion from the wheelhouse bucket with no package index (the DMS VPC has no NAT; S3 is
# reached through the VPC's gateway endpoint). The bastion's user_data runs it at boot, and `dms-tui bastion ship`
# runs the same text through `aws ssm send-command` on a bastion that booted before the upload. Safe to run again.
# Usage: install-dms-tui.sh BUCKET [PREFIX]. Exit 3: no wheelhouse uploaded yet.
set -euo pipefail
bucket="${1:?usage: install-dms-tui.sh BUCKET [PREFIX]}"
prefix="${2:-wheelhouse}"
python="${DMS_TUI_PYTHON:-python3.11}"
venv="${DMS_TUI_VENV:-/opt/dms-tui}"
link="${DMS_TUI_LINK:-/usr/local/bin/dms-tui}"
aws="${DMS_TUI_AWS:-aws}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! "$aws" s3 cp "s3://$bucket/$prefix/SHA256SUMS" "$work/SHA256SUMS" --only-show-errors; then
  echo "no wheelhouse in s3://$bucket/$prefix yet: run 'dms-tui bastion ship' where dms-tui is installed" >&2
  exit 3
fi
"$aws" s3 cp --recursive "s3://$bucket/$prefix/" "$work/" --only-show-errors
(cd "$work" && sha256sum --check --strict --quiet SHA256SUMS)
[ -x "$venv/bin/pip" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --no-index --find-links "$work" --upgrade dms-tui
ln -sf "$venv/bin/dms-tui" "$link"
echo "installed $("$venv/bin/dms-tui" --version) from s3://$bucket/$prefix"
