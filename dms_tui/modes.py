"""What a step needs to know about the machine it runs on (not about the mode: the environment owns that)."""

from __future__ import annotations


def terraform_available() -> str | None:
    """None when a usable terraform is installed, else the reason (which says how to install it)."""
    from dms_tui.provision.workspace import WorkspaceError, find_terraform

    try:
        find_terraform()
    except WorkspaceError as exc:
        return str(exc)
    return None
