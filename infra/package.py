"""The FC code package: index.py (the `<file>.<method>` entry points) and handlers/ at the
root, plus pinned dependencies, as a deterministic zip.

Same source + same lock file -> same bytes: entries are sorted, timestamps and
permissions fixed, wheels come from a cache under build/ (filled once by pip for
the FC runtime's platform). The file is named by its content hash and uploaded
to the artifacts bucket under that name, so Terraform sees a change only when
the code changes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import crcmod

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LOCK_FILE = Path(__file__).with_name("package-lock.txt")
BUILD_DIR = PROJECT_ROOT / "build" / "package"
CACHE_DIR = PROJECT_ROOT / "build" / "package-cache"
MANIFEST_NAME = "manifest.json"
FC_PLATFORM = "manylinux2014_x86_64"
FC_PYTHON_VERSION = "3.10"  # runtime python3.10: see docs/decisions/fc-python-runtime.md
FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # earliest date a zip entry can carry
OBJECT_PREFIX = "code/"

# CRC-64/ECMA-182 as OSS and FC compute it (same parameters as oss2.utils.Crc64)
_crc64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)


class PackageError(RuntimeError):
    """The code package cannot be built (missing handlers/, download failure, clash)."""


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    sdist_only: bool  # no wheel published: built locally as pure Python

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def wheel_prefix(self) -> str:
        # wheel file names use the normalized name with '_' (PEP 427)
        return f"{re.sub(r'[-_.]+', '_', self.name).lower()}-{self.version}-"


@dataclass(frozen=True)
class CodePackage:
    """A built zip and what infra needs to reference it."""

    path: str
    sha256: str
    md5_base64: str
    crc64: str  # decimal, the `checksum` FC 3.0 expects
    size: int
    python_version: str
    with_dependencies: bool

    @property
    def file_name(self) -> str:
        return Path(self.path).name

    @property
    def object_key(self) -> str:
        return OBJECT_PREFIX + self.file_name


def read_lock(lock_file: Path = LOCK_FILE) -> list[Pin]:
    pins = []
    for number, raw in enumerate(lock_file.read_text(encoding="utf-8").splitlines(), 1):
        line, _, comment = raw.partition("#")
        line = line.strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not name or not version:
            raise PackageError(f"{lock_file}:{number}: expected 'name==version', got {raw!r}")
        pins.append(Pin(name.strip(), version.strip(), "sdist" in comment))
    return pins


def _pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise PackageError(f"{' '.join(cmd)} failed:\n{done.stderr.strip()[-2000:]}")


def fetch_wheels(pins: list[Pin], cache_dir: Path, python_version: str) -> list[Path]:
    """One wheel per pin, from the cache or downloaded once (pip, the ordinary client)."""
    tag = "cp" + python_version.replace(".", "")
    binary_dir, pure_dir = cache_dir / tag, cache_dir / "pure"
    wheels = []
    for pin in pins:
        folder = pure_dir if pin.sdist_only else binary_dir
        found = sorted(folder.glob(pin.wheel_prefix + "*.whl")) if folder.is_dir() else []
        if not found:
            folder.mkdir(parents=True, exist_ok=True)
            if pin.sdist_only:
                _pip("wheel", "-q", "--no-deps", "-w", str(folder), pin.requirement)
            else:
                _pip(
                    "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--platform", FC_PLATFORM, "--python-version", python_version,
                    "--implementation", "cp", "-d", str(folder), pin.requirement,
                )  # fmt: skip
            found = sorted(folder.glob(pin.wheel_prefix + "*.whl"))
        if not found:
            raise PackageError(f"no wheel for {pin.requirement} in {folder} after download")
        wheels.append(found[0])
    return wheels


ENTRY_MODULE = "index.py"  # FC handler strings are index.<job> (docs/internals.md)


def _source_entries(handlers_dir: Path) -> dict[str, bytes]:
    if not (handlers_dir / "__init__.py").is_file():
        raise PackageError(f"{handlers_dir}: no handlers package (handlers/__init__.py) to package")
    entry = handlers_dir.parent / ENTRY_MODULE
    if not entry.is_file():
        raise PackageError(f"{entry}: no entry module; FC loads the handlers as index.<job>")
    entries = {ENTRY_MODULE: entry.read_bytes()}
    for path in sorted(handlers_dir.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
            continue
        entries["handlers/" + path.relative_to(handlers_dir).as_posix()] = path.read_bytes()
    return entries


def _wheel_entries(wheel: Path, drop_native: bool) -> dict[str, bytes]:
    entries = {}
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or "__pycache__" in name or name.endswith(".pyc"):
                continue
            if drop_native and name.endswith((".so", ".pyd")):
                continue  # built for the host interpreter, not FC; the package falls back to Python
            entries[name] = archive.read(info)
    return entries


def deterministic_zip(entries: dict[str, bytes]) -> bytes:
    """Sorted entries, fixed dates, fixed modes, fixed compression: same input, same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode bits below are honoured
            mode = 0o755 if name.endswith((".so", ".sh")) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, entries[name], compresslevel=6)
    return buffer.getvalue()


def build(
    project_root: Path = PROJECT_ROOT,
    out_dir: Path | None = None,
    cache_dir: Path | None = None,
    *,
    python_version: str = FC_PYTHON_VERSION,
    with_dependencies: bool = True,
    lock_file: Path = LOCK_FILE,
) -> CodePackage:
    out_dir = out_dir or project_root / "build" / "package"
    cache_dir = cache_dir or project_root / "build" / "package-cache"
    entries = _source_entries(project_root / "handlers")
    if with_dependencies:
        pins = read_lock(lock_file)
        for pin, wheel in zip(pins, fetch_wheels(pins, cache_dir, python_version), strict=True):
            for name, data in _wheel_entries(wheel, drop_native=pin.sdist_only).items():
                if name in entries and entries[name] != data:
                    raise PackageError(f"{wheel.name}: {name} clashes with another entry")
                entries[name] = data
    data = deterministic_zip(entries)
    sha256 = hashlib.sha256(data).hexdigest()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"ossbatch-code-{sha256[:16]}.zip"
    if not path.is_file() or path.read_bytes() != data:
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    package = CodePackage(
        path=str(path),
        sha256=sha256,
        md5_base64=base64.b64encode(hashlib.md5(data).digest()).decode(),
        crc64=str(_crc64(data)),
        size=len(data),
        python_version=python_version,
        with_dependencies=with_dependencies,
    )
    (out_dir / MANIFEST_NAME).write_text(json.dumps(asdict(package), indent=2) + "\n")
    return package


def current(project_root: Path = PROJECT_ROOT) -> CodePackage | None:
    """The last package `make package` built, or None when there is none yet."""
    manifest = project_root / "build" / "package" / MANIFEST_NAME
    if not manifest.is_file():
        return None
    package = CodePackage(**json.loads(manifest.read_text()))
    return package if Path(package.path).is_file() else None
