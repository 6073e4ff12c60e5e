"""Entry paths and limits: nothing is ever written outside the output prefix.

Rejects (or, with ``sanitize``, strips) parent references, absolute paths, drive
letters and NULs; backslashes are path separators. Limits stop zip bombs by entry
count, total size, per-entry size and compression ratio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_KEY_BYTES = 1023


class UnsafeEntry(ValueError):
    """An entry that must not be extracted; ``code`` goes into the report."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def safe_relative_path(name: str, *, mode: str = "reject") -> str:
    """The entry path to append to the output prefix, or UnsafeEntry.

    ``mode="reject"``: any dangerous form is an error. ``mode="sanitize"``: drive
    letters, leading slashes and ``.``/``..`` components are dropped instead.
    """
    if "\x00" in name:
        raise UnsafeEntry("UnsafePath", f"entry {name!r} contains a NUL byte")
    path = name.replace("\\", "/")
    is_dir = path.endswith("/")
    if _DRIVE.match(path):
        if mode == "reject":
            raise UnsafeEntry("UnsafePath", f"entry {name!r} has a drive letter")
        path = path[2:]
    if path.startswith("/"):
        if mode == "reject":
            raise UnsafeEntry("UnsafePath", f"entry {name!r} is an absolute path")
    parts = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if mode == "reject":
                raise UnsafeEntry("UnsafePath", f"entry {name!r} climbs out with '..' (zip slip)")
            continue
        parts.append(part)
    if not parts:
        raise UnsafeEntry("UnsafePath", f"entry {name!r} has no usable path")
    return "/".join(parts) + ("/" if is_dir else "")


def output_key(prefix: str, package_dir: str, relative: str) -> str:
    """prefix + package dir + entry path; the result is checked against OSS key rules."""
    head = "/".join(p.strip("/") for p in (prefix, package_dir) if p.strip("/"))
    key = f"{head}/{relative}" if head else relative
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise UnsafeEntry(
            "KeyTooLong", f"output key for {relative!r} exceeds {MAX_KEY_BYTES} bytes"
        )
    return key


def package_dir_name(
    package_key: str, *, watch_prefix: str = "", strip_suffix: str = ".zip"
) -> str:
    """Package path relative to the watched prefix, without the suffix (a suffix, not characters)."""
    name = package_key
    if watch_prefix and name.startswith(watch_prefix):
        name = name[len(watch_prefix) :]
    if strip_suffix and name.lower().endswith(strip_suffix.lower()):
        name = name[: -len(strip_suffix)]
    return name.strip("/")


@dataclass(frozen=True)
class Limits:
    max_entries: int
    max_total_bytes: int
    max_entry_bytes: int
    max_ratio: float


def check_entry_declared(name: str, compressed: int, uncompressed: int, limits: Limits) -> None:
    if uncompressed > limits.max_entry_bytes:
        raise UnsafeEntry(
            "EntryTooLarge",
            f"entry {name!r} declares {uncompressed} bytes; limit {limits.max_entry_bytes}",
        )
    if uncompressed > 1024 * 1024 and uncompressed > limits.max_ratio * max(compressed, 1):
        raise UnsafeEntry(
            "CompressionRatioExceeded",
            f"entry {name!r} expands {uncompressed}/{max(compressed, 1)} > ratio {limits.max_ratio:g} (zip bomb?)",
        )


class InflationGuard:
    """Counts bytes actually produced: declared sizes can lie."""

    def __init__(self, name: str, compressed: int, declared: int, limits: Limits):
        self.name = name
        self.cap = min(limits.max_entry_bytes, max(declared, 0))
        self.ratio_cap = max(limits.max_ratio * max(compressed, 1), 1024 * 1024)
        self.produced = 0

    def feed(self, n: int) -> None:
        self.produced += n
        if self.produced > self.cap:
            raise UnsafeEntry(
                "SizeMismatch", f"entry {self.name!r} inflates past its declared {self.cap} bytes"
            )
        if self.produced > self.ratio_cap:
            raise UnsafeEntry(
                "CompressionRatioExceeded", f"entry {self.name!r} exceeds the ratio limit"
            )
