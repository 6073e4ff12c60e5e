"""The extraction plan: for every central-directory entry, its output key or why it is skipped.

Pure and deterministic: every invocation on the same package version agrees on keys,
duplicates ("first entry wins") and refusals.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
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
    def index(self) -> int:
        return self.entry.index

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


class Plan(Sequence):
    """Every entry's ``PlannedEntry``, compact: the entries' table, the extractable entries'
    keys as one UTF-8 blob with end offsets, and the few entries that are skipped or whose
    name is not the key's tail kept whole. A ``PlannedEntry`` is built when asked for.

    100,000 ``PlannedEntry`` objects with their names and keys held ~28 MB for the run;
    this holds ~32 bytes an entry (docs/decisions/unzip-central-directory-runs.md).
    """

    __slots__ = ("entries", "_head", "_keys", "_ends", "_names", "_skips", "last_encrypted")

    def __init__(self, entries: Sequence[ZipEntry], head: str):
        self.entries = entries
        self._head = head  # output prefix + package dir: a key's part before the entry path
        self._keys = bytearray()  # the extractable entries' keys after _head, UTF-8
        self._ends = array("Q")  # where each entry's key ends in _keys (empty: skipped)
        self._names: dict[int, str] = {}  # names that are not the key after _head
        self._skips: dict[int, tuple] = {}  # PlannedEntry's fields after ``entry``
        # the last extractable encrypted entry (-1: none): a page from a marker after it
        # needs no password (handlers/unzip.py page_password)
        self.last_encrypted = -1

    def add(self, planned: PlannedEntry) -> None:
        i = len(self._ends)
        if planned.extractable:
            tail = planned.key[len(self._head) :]  # every key starts with the head
            self._keys += tail.encode("utf-8")
            if tail != planned.name:
                self._names[i] = planned.name
            if planned.entry.encrypted:
                self.last_encrypted = i
        else:
            p = planned
            self._skips[i] = (p.name, p.key, p.skip_code, p.skip_message, p.counts_as_failure)
        self._ends.append(len(self._keys))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._planned(j) for j in range(*i.indices(len(self._ends)))]
        if i < 0:
            i += len(self._ends)
        if not 0 <= i < len(self._ends):
            raise IndexError(f"entry {i} of {len(self._ends)}")
        return self._planned(i)

    def __iter__(self) -> Iterator[PlannedEntry]:
        return (self._planned(i) for i in range(len(self._ends)))

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def _planned(self, i: int) -> PlannedEntry:
        skipped = self._skips.get(i)
        if skipped is not None:
            return PlannedEntry(self.entries[i], *skipped)
        tail = self._keys[self._ends[i - 1] if i else 0 : self._ends[i]].decode("utf-8")
        name = self._names.get(i)
        return PlannedEntry(self.entries[i], tail if name is None else name, self._head + tail)


def plan_entries(entries: Sequence[ZipEntry], rules: PlanRules) -> Plan:
    """Decide, for every central-directory entry, its output key or why it is skipped."""
    limits = rules.limits
    total = sum(e.uncompressed_size for e in entries)
    if total > limits.max_total_bytes:
        raise PackageRejected(
            "TooLarge",
            f"entries declare {total} bytes in total; the limit is {limits.max_total_bytes}",
        )
    plan = Plan(entries, output_key(rules.output_prefix, rules.package_dir, ""))
    taken: dict[str, int] = {}
    for entry in entries:
        planned = _plan_one(entry, rules, taken)
        if planned.extractable:
            taken[planned.key] = entry.index
        plan.add(planned)
    return plan


def _plan_one(entry: ZipEntry, rules: PlanRules, taken: dict[str, int]) -> PlannedEntry:
    """One entry's key or why it is skipped, given the keys earlier entries took."""
    try:
        name = decode_name(entry, rules.name_encoding)
    except UndecodableName as exc:
        return PlannedEntry(entry, None, None, "UndecodableName", str(exc))
    try:
        relative = safe_relative_path(name, mode=rules.unsafe_paths)
        key = output_key(rules.output_prefix, rules.package_dir, relative)
    except UnsafeEntry as exc:
        return PlannedEntry(entry, name, None, exc.code, str(exc))
    if (entry.is_dir or key.endswith("/")) and rules.directories == "skip":
        return PlannedEntry(entry, name, key, "Directory", "directory entry skipped", False)
    if key in taken:
        return PlannedEntry(
            entry,
            name,
            key,
            "DuplicateName",
            f"entry {name!r} maps to {key!r} like entry {taken[key]}; first one wins",
        )
    skip = _entry_problem(entry, name, limits=rules.limits, has_password=rules.has_password)
    if skip:
        return PlannedEntry(entry, name, key, *skip)
    return PlannedEntry(entry, name, key)


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
