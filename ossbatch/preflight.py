"""Checks a job request must pass before anything starts (exit code 2, one line each).

Values are checked first (no network), then what they name (buckets, the index object,
the notification queue) with read-only calls; nothing is written before every check passed.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from ossbatch.cloud import ConfigError, Connection
from ossbatch.jobdocs import MAX_SHARDS, OssUrl

STORAGE_CLASSES = ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive")
RESTORE_TIERS = ("Expedited", "Standard", "Bulk")
# https://help.aliyun.com/zh/oss/user-guide/bucket-naming-conventions: 3-63 chars of a-z 0-9 -,
# starting and ending with a letter or digit
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
# RestoreObject Days: Archive 1-7; ColdArchive and DeepColdArchive 1-365 (OSS RestoreObject docs)
RESTORE_DAYS = {"Archive": (1, 7), "ColdArchive": (1, 365), "DeepColdArchive": (1, 365)}


def _one_of(value: str, valid: tuple[str, ...], what: str) -> str:
    """The canonical spelling of value (case-insensitive), or a ConfigError naming the valid ones."""
    for name in valid:
        if value.lower() == name.lower():
            return name
    raise ConfigError(f"{what} {value!r} is not one of {', '.join(valid)}")


def storage_class(value: str, what: str = "--storage-class") -> str:
    return _one_of(value, STORAGE_CLASSES, what)


def tier(value: str) -> str:
    return _one_of(value, RESTORE_TIERS, "--tier")


def tags(value: str, directive: str | None) -> tuple[dict[str, str] | None, str]:
    """--tags k=v,k2=v2 and --tags-directive -> (tags or None, directive), OSS's limits checked."""
    from handlers.tags import check_tags

    chosen = _one_of(directive, ("Copy", "Replace"), "--tags-directive") if directive else None
    if not value:
        return None, chosen or "Copy"
    if chosen == "Copy":
        raise ConfigError("--tags replaces the source's tags: use --tags-directive Replace or none")
    pairs = {}
    for item in value.split(","):
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--tags item {item!r} is not key=value (several: k1=v1,k2=v2)")
        if key.strip() in pairs:
            raise ConfigError(f"--tags names {key.strip()!r} twice")
        pairs[key.strip()] = val.strip()
    try:
        return check_tags(pairs), "Replace"
    except ValueError as exc:
        raise ConfigError(f"--tags: {exc}") from None


def page_seconds(value: float, function_timeout_s: int, what: str = "--page-seconds") -> float:
    if not math.isfinite(value) or value < 1 or value >= function_timeout_s:
        raise ConfigError(
            f"{what} {value!r} must be a number of seconds from 1 to below the function "
            f"timeout ({function_timeout_s} s)"
        )
    return value


def concurrency(value: int, where: str) -> int:
    if not 1 <= value <= MAX_SHARDS:
        raise ConfigError(
            f"concurrency {value} ({where}) must be 1..{MAX_SHARDS}: CloudFlow's inline Map "
            f"runs at most {MAX_SHARDS} shards at once"
        )
    return value


def bucket_name(name: str, what: str) -> str:
    if not BUCKET_NAME.match(name):
        raise ConfigError(
            f"{what}: {name!r} is not a valid bucket name (3-63 characters: lowercase letters, "
            "digits and '-', starting and ending with a letter or digit)"
        )
    return name


def oss_url(text: str | None, what: str, *, object_key: bool = False) -> OssUrl | None:
    """Parse and check an oss:// URL; an --index must name an object, not a prefix."""
    if text is None:
        return None
    url = OssUrl.parse(text, what)
    bucket_name(url.bucket, what)
    if object_key and (not url.key or url.key.endswith("/")):
        raise ConfigError(
            f"{what} {text!r} names a prefix, not an index object; give oss://bucket/key of a "
            "CSV or JSONL file, or use --source for a prefix listing"
        )
    return url


def exactly_one_source(index: str | None, source: str | None, inventory: str | None = None) -> None:
    if inventory is not None:
        if index is not None:
            raise ConfigError(
                "--inventory and --index both name the objects: give one (--source may narrow "
                "an inventory to a prefix)"
            )
        return
    if (index is None) == (source is None):
        raise ConfigError(
            "give exactly one of --index oss://bucket/key or --source oss://bucket/prefix/"
        )


def in_place(dest: OssUrl, source: OssUrl | None) -> OssUrl:
    """--dest equal to --source (bucket and prefix) converts in place: destination keys are
    the source keys themselves, i.e. an empty destination prefix."""
    if source is not None and (dest.bucket, dest.key) == (source.bucket, source.key):
        return OssUrl(dest.bucket, "")
    return dest


def not_nested(
    dest: OssUrl, index: OssUrl | None, source: OssUrl | None, allow_nested: bool
) -> None:
    """A copy must never read its own output: refuse overlaps unless --allow-nested."""
    if allow_nested:
        return  # the copy handler leaves the destination prefix out of the listing itself
    # an empty --dest prefix converts in place (same keys): nothing new appears in the listing
    if source and source.bucket == dest.bucket and dest.key and dest.key.startswith(source.key):
        raise ConfigError(
            f"--dest oss://{dest.bucket}/{dest.key} lies inside --source "
            f"oss://{source.bucket}/{source.key}: the copy would list its own output; pick a "
            "destination outside the source, or pass --allow-nested to leave the destination "
            "prefix out of the listing"
        )
    if index and index.bucket == dest.bucket and index.key.startswith(dest.key):
        raise ConfigError(
            f"--index oss://{index.bucket}/{index.key} lies under --dest "
            f"oss://{dest.bucket}/{dest.key}: the copy could overwrite its own index; move the "
            "index or pass --allow-nested"
        )


def inventory_source(
    manifest_source_bucket: str, source: OssUrl | None, inventory: OssUrl
) -> OssUrl:
    """The job's source range: the manifest's sourceBucket, narrowed by --source's prefix."""
    if source is None:
        return OssUrl(manifest_source_bucket, "")
    if source.bucket != manifest_source_bucket:
        raise ConfigError(
            f"--inventory oss://{inventory.bucket}/{inventory.key} lists bucket "
            f"{manifest_source_bucket!r} but --source names bucket {source.bucket!r}; give "
            f"--source oss://{manifest_source_bucket}/<prefix> or leave it out"
        )
    return source


def inventory_readable(conn: Connection, inventory: OssUrl) -> None:
    """The pages read the inventory with the functions' role: only the job buckets it may read."""
    readable = sorted({conn.buckets.get(k) for k in ("sources", "archive")} - {None, ""})
    if readable and inventory.bucket not in readable:
        raise ConfigError(
            f"--inventory oss://{inventory.bucket}/{inventory.key}: the copy and restore "
            f"functions may read only {' and '.join(readable)}; have OSS deliver the inventory "
            "into one of them (the inventory's Destination bucket)"
        )


def inventory_not_nested(dest: OssUrl, inventory: OssUrl) -> None:
    """Copies must not land on the inventory's files. (Taking them as data cannot happen: a
    page leaves rows under the inventory's own directory out, docs/decisions/inventory-source.md.)"""
    from handlers.inventory import inventory_root

    root = inventory_root(inventory.key) or inventory.key
    # an empty --dest prefix: each page refuses the one object that would land on them
    inside = dest.key and (root.startswith(dest.key) or dest.key.startswith(root))
    if dest.bucket == inventory.bucket and inside:
        raise ConfigError(
            f"--inventory files under oss://{inventory.bucket}/{root} lie inside --dest "
            f"oss://{dest.bucket}/{dest.key}: the copy could overwrite its own inventory; pick "
            "a --dest outside them"
        )


def buckets_exist(conn: Connection, names: dict[str, str]) -> None:
    """names: what -> bucket; one GetBucketInfo each (read only)."""
    import oss2

    from ossbatch.retrying import call

    for what, name in names.items():
        try:
            call(conn.oss_bucket(name).get_bucket_info)
        except oss2.exceptions.NoSuchBucket:
            raise ConfigError(f"{what}: bucket {name!r} does not exist") from None
        except oss2.exceptions.AccessDenied:
            raise ConfigError(f"{what}: no access to bucket {name!r}") from None


def index_object(conn: Connection, index: OssUrl) -> None:
    import oss2

    from ossbatch.retrying import call

    try:
        call(conn.oss_bucket(index.bucket).head_object, index.key)
    except oss2.exceptions.NotFound:
        raise ConfigError(
            f"--index oss://{index.bucket}/{index.key} does not exist; upload the index first"
        ) from None


def queue_exists(conn: Connection, queue: str) -> None:
    """--notify-queue must name an existing MNS queue (one GetQueueAttributes, read only)."""
    if not queue:
        return
    from mns.mns_exception import MNSExceptionBase

    try:
        conn.mns().get_queue(queue).get_attributes()
    except MNSExceptionBase as exc:
        if getattr(exc, "type", "") in ("QueueNotExist", "QueueNotExistError"):
            raise ConfigError(
                f"--notify-queue {queue!r}: no such MNS queue; create it or name one of "
                f"{', '.join(sorted(conn.queues.values())) or 'the provisioned queues'}"
            ) from None
        if getattr(exc, "type", "") in ("InvalidQueueName", "InvalidArgument"):
            raise ConfigError(f"--notify-queue {queue!r}: {exc.message}") from None
        raise


def restore_days(days: int, sampled_class: str | None) -> None:
    """Days allowed for the class of the sampled object (unknown class: OSS's widest range)."""
    low, high = RESTORE_DAYS.get(sampled_class or "", (1, 365))
    if not low <= days <= high:
        which = f"{sampled_class} objects" if sampled_class in RESTORE_DAYS else "restores"
        raise ConfigError(f"--days {days}: {which} can stay restored {low}..{high} days")


def environment(name: str):
    """The environment file, or a one-line reason it cannot be read."""
    from ossbatch.config import environment_path, load_environment

    try:
        return load_environment(name)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"--env {environment_path(name)}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
            "save the environment file as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"--env {environment_path(name)}: {exc.strerror or exc}") from None


def data_dir(path) -> Path:
    """A usable localcloud data dir: a readable, writable directory (or one we can create)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--data-dir {path} is a file, not a directory; give a directory")
    probe = path if path.exists() else next((p for p in path.parents if p.exists()), Path("/"))
    if not probe.is_dir() or not os.access(probe, os.R_OK | os.W_OK | os.X_OK):
        raise ConfigError(
            f"--data-dir {path}: {probe} is not a readable and writable directory for this user"
        )
    return path


def output_file(path: Path) -> Path:
    """-o must name a file in an existing directory (checked before anything is downloaded)."""
    if path.is_dir():
        raise ConfigError(f"-o {path} is a directory; give a file name, e.g. {path}/report.jsonl")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ConfigError(f"-o {path}: directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"-o {path}: not writable by this user")
    return path
