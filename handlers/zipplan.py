"""The extraction plan: for every central-directory entry, its output key or why it is skipped.

Pure and deterministic: every invocation on the same package version agrees on keys,
duplicates ("first entry wins") and refusals.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import PackageRejected
from .zipdir import ZipEntry
from .zipnames import UndecodableName, decode_name
from .zipsafety import Limits, UnsafeEntry, check_entry_declared, output_key, safe_relative_path

STORED = 0
DEFLATE64 = 9
SUPPORTED_METHODS = {0: "stored", 8: "deflate", 9: "deflate64", 12: "bzip2"}
AES_METHOD = 99


@dataclass(frozen=True, slots=True)
class PlannedEntry:
    entry: ZipEntry
    name: str | None
    key: str | None
    skip_code: str | None = None  # set when the entry is not streamed
    skip_message: str | None = None
    counts_as_failure: bool = True

    @property
    def extractable(self) -> bool:
        return self.skip_code is None


@dataclass(frozen=True)
class PlanRules:
    """How entries become keys: where they go, how names decode, what is refused."""

    output_prefix: str
    package_dir: str
    limits: Limits
    name_encoding: str | None = None
    unsafe_paths: str = "reject"
    directories: str = "skip"
    has_password: bool = False


def plan_entries(entries: list[ZipEntry], rules: PlanRules) -> list[PlannedEntry]:
    """Decide, for every central-directory entry, its output key or why it is skipped."""
    limits = rules.limits
    total = sum(e.uncompressed_size for e in entries)
    if total > limits.max_total_bytes:
        raise PackageRejected(
            "TooLarge",
            f"entries declare {total} bytes in total; the limit is {limits.max_total_bytes}",
        )
    plan: list[PlannedEntry] = []
    taken: dict[str, int] = {}
    for entry in entries:
        try:
            name = decode_name(entry, rules.name_encoding)
        except UndecodableName as exc:
            plan.append(PlannedEntry(entry, None, None, "UndecodableName", str(exc)))
            continue
        try:
            relative = safe_relative_path(name, mode=rules.unsafe_paths)
            key = output_key(rules.output_prefix, rules.package_dir, relative)
        except UnsafeEntry as exc:
            plan.append(PlannedEntry(entry, name, None, exc.code, str(exc)))
            continue
        if entry.is_dir or key.endswith("/"):
            if rules.directories == "skip":
                plan.append(
                    PlannedEntry(entry, name, key, "Directory", "directory entry skipped", False)
                )
                continue
        if key in taken:
            plan.append(
                PlannedEntry(
                    entry,
                    name,
                    key,
                    "DuplicateName",
                    f"entry {name!r} maps to {key!r} like entry {taken[key]}; first one wins",
                )
            )
            continue
        skip = _entry_problem(entry, name, limits, rules.has_password)
        if skip:
            plan.append(PlannedEntry(entry, name, key, *skip))
            continue
        taken[key] = entry.index
        plan.append(PlannedEntry(entry, name, key))
    return plan


def _entry_problem(entry: ZipEntry, name: str, limits: Limits, has_password: bool):
    if entry.encrypted and not has_password:
        return (
            "EncryptedEntry",
            f"entry {name!r} is encrypted: set unzip.password in the environment to extract it",
        )
    method = entry.method
    if method == AES_METHOD and not entry.encrypted:
        method = -1
    if method not in SUPPORTED_METHODS and method != AES_METHOD:
        return (
            "UnsupportedMethod",
            f"entry {name!r} uses compression method {entry.method}; supported: stored, deflate, "
            "deflate64, bzip2",
        )
    try:
        check_entry_declared(name, entry.compressed_size, entry.uncompressed_size, limits)
    except UnsafeEntry as exc:
        return (exc.code, str(exc))
    return None
