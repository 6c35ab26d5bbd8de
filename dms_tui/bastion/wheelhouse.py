"""A wheelhouse of dms-tui and every dependency, for the bastion's platform (Amazon Linux 2023, x86_64, the Python
the bastion's install script uses), installable there with ``pip install --no-index --find-links DIR dms-tui``.

- dms-tui's own wheel: built from the source checkout when this runs from one (``pip wheel --no-deps``), else
  repacked from the installed distribution's files (its RECORD), so an installed dms-tui can ship itself.
- The dependencies: ``pip download --only-binary=:all: --platform manylinux…_x86_64 --python-version X`` against the
  index this machine uses. A pure-Python dependency published only as an sdist is built here (``pip wheel --no-deps``)
  and offered to the download through ``--find-links``; one that needs compiling for the bastion is refused.
- ``SHA256SUMS`` (``sha256sum`` format) lists every file; the bastion checks it before installing.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from dms_tui import __version__, exit_codes
from dms_tui.bastion.bucket import MANIFEST_NAME, bastion_python
from dms_tui.errors import StepError

#: Amazon Linux 2023 ships glibc 2.34: every manylinux tag up to it installs there.
BASTION_PLATFORMS: tuple[str, ...] = (
    "manylinux_2_34_x86_64",
    "manylinux_2_28_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
)
INFO_NAME = "WHEELHOUSE.json"
_MISSING = re.compile(r"No matching distribution found for ([A-Za-z0-9_.\-]+)")
_MAX_LOCAL_BUILDS = 10


@dataclass(frozen=True)
class WheelhouseProgress:
    text: str


@dataclass(frozen=True)
class Wheelhouse:
    directory: Path
    files: tuple[str, ...]  # every file the manifest lists (wheels, then INFO_NAME)
    python_version: str
    tool_wheel: str

    @property
    def manifest(self) -> Path:
        return self.directory / MANIFEST_NAME

    @property
    def total_bytes(self) -> int:
        return sum((self.directory / name).stat().st_size for name in self.files)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pip_download_command(
    dest: Path, requirement: str, python_version: str, find_links: Path | None = None
) -> list[str]:
    """The ``pip download`` that fetches ``requirement`` and its dependencies for the bastion."""
    command = [sys.executable, "-m", "pip", "download", "--dest", str(dest), "--only-binary=:all:"]
    for platform in BASTION_PLATFORMS:
        command += ["--platform", platform]
    command += ["--implementation", "cp", "--python-version", python_version]
    if find_links is not None:
        command += ["--find-links", str(find_links)]
    return [*command, requirement]


def equivalent_commands(dest: Path, python_version: str) -> list[str]:
    """What a person runs by hand from a source checkout for the same wheelhouse."""
    platforms = " ".join(f"--platform {p}" for p in BASTION_PLATFORMS)
    return [
        f"pip wheel --no-deps --wheel-dir {dest} .",
        f"pip download --dest {dest} --only-binary=:all: {platforms} --implementation cp "
        f"--python-version {python_version} {dest}/dms_tui-{__version__}-py3-none-any.whl",
        f"(cd {dest} && sha256sum *.whl > {MANIFEST_NAME})",
    ]


def build_wheelhouse(
    dest: Path, *, python_version: str | None = None, on_progress: Callable[[WheelhouseProgress], None] | None = None
) -> Wheelhouse:
    """Fill ``dest`` (created; must hold no wheels yet) with the wheelhouse; raise StepError saying what to do."""
    report = on_progress or (lambda _: None)
    python_version = python_version or bastion_python()
    dest = dest.resolve()
    if dest.exists() and any(dest.glob("*.whl")):
        raise StepError(
            f"{dest} already holds wheels.",
            "A wheelhouse is built into an empty directory, so no stale wheel is shipped by mistake.",
            "Give a new directory, or empty this one.",
            exit_code=exit_codes.NOT_RUN,
        )
    dest.mkdir(parents=True, exist_ok=True)
    report(WheelhouseProgress(f"building dms-tui {__version__}'s wheel"))
    tool_wheel = build_tool_wheel(dest)
    report(WheelhouseProgress(f"downloading its dependencies for Python {python_version} on manylinux x86_64"))
    _download_dependencies(dest, tool_wheel, python_version, report)
    wheels = sorted(path.name for path in dest.glob("*.whl"))
    info = {
        "tool": "dms-tui",
        "version": __version__,
        "tool_wheel": tool_wheel.name,
        "python_version": python_version,
        "platforms": list(BASTION_PLATFORMS),
        "install": "pip install --no-index --find-links DIR dms-tui",
    }
    (dest / INFO_NAME).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    files = (*wheels, INFO_NAME)
    write_manifest(dest, files)
    report(WheelhouseProgress(f"{len(wheels)} wheels and {MANIFEST_NAME} in {dest}"))
    return Wheelhouse(dest, files, python_version, tool_wheel.name)


def write_manifest(directory: Path, files: tuple[str, ...]) -> None:
    lines = [f"{sha256_of(directory / name)}  {name}\n" for name in files]
    (directory / MANIFEST_NAME).write_text("".join(lines), encoding="utf-8")


def read_wheelhouse(directory: Path) -> Wheelhouse:
    """A wheelhouse built earlier, after checking every file against its manifest."""
    directory = directory.resolve()
    manifest = directory / MANIFEST_NAME
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise StepError(
            f"{directory} is not a wheelhouse.",
            f"{MANIFEST_NAME} is missing ({exc.strerror or exc}).",
            f"Build one with `dms-tui bastion wheelhouse {directory}`.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    files: list[str] = []
    for line in lines:
        digest, _, name = line.partition("  ")
        path = directory / name
        if not name or not path.is_file() or sha256_of(path) != digest:
            raise StepError(
                f"The wheelhouse in {directory} does not match its manifest.",
                f"{name or line!r} is missing or changed since {MANIFEST_NAME} was written.",
                "Rebuild it: `dms-tui bastion wheelhouse NEW_DIR`.",
                exit_code=exit_codes.FAILED,
            )
        files.append(name)
    tools = [name for name in files if name.startswith("dms_tui-") and name.endswith(".whl")]
    try:
        info = json.loads((directory / INFO_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    return Wheelhouse(directory, tuple(files), str(info.get("python_version", "")), tools[0] if tools else "")


# -- dms-tui's own wheel ----------------------------------------------------------------------------------------------


def source_checkout() -> Path | None:
    """The source checkout this dms-tui runs from, if any (pyproject.toml naming dms-tui beside the package)."""
    root = Path(__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return None
    return root if re.search(r'^name\s*=\s*"dms-tui"', text, re.MULTILINE) else None


def build_tool_wheel(dest: Path) -> Path:
    checkout = source_checkout()
    if checkout is not None:
        return _wheel_from_checkout(checkout, dest)
    return repack_installed(dest)


def _wheel_from_checkout(checkout: Path, dest: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="dms-tui-wheel-") as scratch:
        completed = _pip(["wheel", "--no-deps", "--wheel-dir", scratch, str(checkout)])
        if completed.returncode != 0:
            raise StepError(
                "dms-tui's own wheel did not build.",
                _tail(completed.stderr or completed.stdout),
                f"Run `pip wheel --no-deps --wheel-dir {dest} {checkout}` to see the whole error.",
                exit_code=exit_codes.FAILED,
            )
        built = sorted(Path(scratch).glob("dms_tui-*.whl"))
        if not built:  # pragma: no cover - pip said it succeeded
            raise StepError("dms-tui's own wheel did not build.", "pip wrote no wheel.", "Try again.")
        target = dest / built[0].name
        target.write_bytes(built[0].read_bytes())
        return target


def repack_installed(dest: Path, distribution_name: str = "dms-tui") -> Path:
    """Rebuild the wheel of an installed (non-editable) distribution from the files its RECORD lists."""
    dist = metadata.distribution(distribution_name)
    files = [f for f in dist.files or [] if "__pycache__" not in f.parts and not str(f).endswith(".pyc")]
    info_dir = next((f.parts[0] for f in files if f.parts[0].endswith(".dist-info")), None)
    if info_dir is None or not any(f.parts[0] == "dms_tui" for f in files):
        raise StepError(
            "dms-tui's own wheel cannot be rebuilt from this installation.",
            "It is neither a source checkout nor a regular install (an editable install keeps no package files).",
            "Run the command from the source checkout, or from an install made with `pip install dms-tui-*.whl`.",
            exit_code=exit_codes.FAILED,
        )
    skip = {f"{info_dir}/{name}" for name in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")}
    name = f"dms_tui-{dist.version}-py3-none-any.whl"
    target = dest / name
    record_rows: list[tuple[str, str, str]] = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for entry in sorted(files, key=str):
            arcname = entry.as_posix()
            if arcname in skip or ".." in entry.parts:
                continue
            data = Path(str(entry.locate())).read_bytes()
            wheel.writestr(arcname, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record_rows.append((arcname, f"sha256={digest}", str(len(data))))
        record_rows.append((f"{info_dir}/RECORD", "", ""))
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(record_rows)
        wheel.writestr(f"{info_dir}/RECORD", buffer.getvalue())
    return target


# -- dependencies -------------------------------------------------------------------------------------------------------


def _download_dependencies(
    dest: Path, tool_wheel: Path, python_version: str, report: Callable[[WheelhouseProgress], None]
) -> None:
    local = dest / ".local-builds"
    for _ in range(_MAX_LOCAL_BUILDS + 1):
        completed = _pip(
            pip_download_command(dest, str(tool_wheel), python_version, local if local.exists() else None)[3:]
        )
        if completed.returncode == 0:
            break
        missing = _MISSING.search(completed.stderr or "")
        if missing is None:
            raise StepError(
                "The dependencies could not be downloaded for the bastion.",
                _tail(completed.stderr or completed.stdout),
                "Check that this machine reaches its package index (pip config list), then try again.",
                exit_code=exit_codes.FAILED,
            )
        requirement = missing.group(1)
        report(WheelhouseProgress(f"{requirement} has no wheel on the index: building it here"))
        _build_pure_wheel(requirement, local)
    else:
        raise StepError(
            "The dependencies could not be downloaded for the bastion.",
            f"More than {_MAX_LOCAL_BUILDS} of them have no wheel.",
            "Build them with `pip wheel` and put them in the wheelhouse directory.",
            exit_code=exit_codes.FAILED,
        )
    for wheel in local.glob("*.whl") if local.exists() else ():
        if not (dest / wheel.name).exists():
            (dest / wheel.name).write_bytes(wheel.read_bytes())
    if local.exists():
        for leftover in local.iterdir():
            leftover.unlink()
        local.rmdir()


def _build_pure_wheel(requirement: str, local: Path) -> None:
    local.mkdir(exist_ok=True)
    before = set(local.glob("*.whl"))
    completed = _pip(["wheel", "--no-deps", "--no-binary", ":all:", "--wheel-dir", str(local), requirement])
    built = set(local.glob("*.whl")) - before
    impure = [wheel.name for wheel in built if not wheel.name.endswith("-none-any.whl")]
    if completed.returncode != 0 or not built or impure:
        for wheel in built:
            wheel.unlink()
        raise StepError(
            f"{requirement} has no wheel for the bastion's platform.",
            "It is not published as a manylinux x86_64 wheel, and it is not pure Python, so a wheel built here would "
            "not run there." + (f" ({_tail(completed.stderr)})" if completed.returncode else ""),
            f"Build it on Amazon Linux 2023 x86_64 (`pip wheel {requirement}`) and add the wheel to the directory.",
            exit_code=exit_codes.FAILED,
        )


def _pip(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *arguments],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def iter_wheels(wheelhouse: Wheelhouse) -> Iterator[Path]:
    for name in wheelhouse.files:
        yield wheelhouse.directory / name
