"""Where the bundled Terraform and the stylesheet live: inside the wheel, or at the top of a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _bundle_root() -> Path:
    installed = _PACKAGE_DIR / "_bundle"
    if (installed / "terraform").is_dir():
        return installed
    checkout = _PACKAGE_DIR.parent
    if (checkout / "terraform").is_dir():
        return checkout
    raise FileNotFoundError(
        "The Terraform bundle is missing from this installation; reinstall dms-tui (pip install --force-reinstall dms-tui)."
    )


def terraform_bundle_dir() -> Path:
    """The read-only Terraform bundle (copied per environment before terraform runs in it)."""
    return _bundle_root() / "terraform"


def stylesheet_path() -> Path:
    """The app's Textual stylesheet, screens.tcss."""
    return _bundle_root() / "screens.tcss"
