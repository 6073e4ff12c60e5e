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
