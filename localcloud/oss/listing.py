"""ListObjects (v1 and v2) and ListMultipartUploads paging: prefix, delimiter, markers, max-keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from .storage import ObjectRecord, Storage

# greater than any character a key can continue with: skips a whole common prefix in one seek
_AFTER_ALL = "\U0010ffff"


@dataclass
class ListPage:
    objects: list[ObjectRecord] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    next_marker: str = ""  # last key or common prefix returned (v1 NextMarker / v2 token)


def list_objects(
    storage: Storage, bucket: str, prefix: str, delimiter: str, after: str, max_keys: int
) -> ListPage:
    """Keys > after starting with prefix, rolled up at delimiter, at most max_keys entries."""
    page = ListPage()
    cursor = after
    count = 0
    batch = min(max(max_keys + 1, 16), 1001)
    while True:
        rows = storage.scan_objects(bucket, cursor, prefix, batch)
        if not rows:
            return page
        for rec in rows:
            key = rec.key
            if delimiter:
                pos = key.find(delimiter, len(prefix))
                if pos >= 0:
                    common = key[: pos + len(delimiter)]
                    if common == after:  # v1 marker / start-after named this prefix itself
                        cursor = common + _AFTER_ALL
                        break
                    if count == max_keys:
                        page.truncated = True
                        return page
                    page.prefixes.append(common)
                    page.next_marker = common
                    count += 1
                    cursor = common + _AFTER_ALL
                    break  # re-seek past everything under this common prefix
            if count == max_keys:
                page.truncated = True
                return page
            page.objects.append(rec)
            page.next_marker = key
            count += 1
            cursor = key
        else:
            if len(rows) < batch:
                return page


@dataclass
class VersionPage:
    entries: list[tuple[ObjectRecord, bool]] = field(default_factory=list)  # (version, latest)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    next_key: str = ""
    next_version_id: str = ""


def list_versions(
    storage: Storage,
    bucket: str,
    prefix: str,
    delimiter: str,
    key_marker: str,
    after_seq: int | None,
    max_keys: int,
) -> VersionPage:
    """ListObjectVersions: every version by key, newest first, rolled up at delimiter; starts
    after (key_marker, after_seq), or after all of key_marker's versions when after_seq is None."""
    page = VersionPage()
    cursor_key, cursor_seq = key_marker, after_seq
    count = 0
    batch = min(max(max_keys + 1, 16), 1001)
    while True:
        rows = storage.scan_versions(bucket, prefix, cursor_key, cursor_seq, batch)
        if not rows:
            return page
        for rec, latest in rows:
            if count == max_keys:
                page.truncated = True
                return page
            pos = rec.key.find(delimiter, len(prefix)) if delimiter else -1
            if pos >= 0:
                common = rec.key[: pos + len(delimiter)]
                cursor_key, cursor_seq = common + _AFTER_ALL, None
                if common == key_marker:  # the previous page ended on this common prefix
                    break
                page.prefixes.append(common)
                page.next_key, page.next_version_id = common, ""
                count += 1
                break  # re-seek past every version under this common prefix
            page.entries.append((rec, latest))
            page.next_key, page.next_version_id = rec.key, rec.version_id or "null"
            count += 1
            cursor_key, cursor_seq = rec.key, rec.seq
        else:
            if len(rows) < batch:
                return page
