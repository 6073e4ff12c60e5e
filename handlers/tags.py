"""Object tags a copy job sets: OSS's limits checked before work starts, the header form.

https://www.alibabacloud.com/help/en/oss/developer-reference/putobjecttagging: at most 10 tags,
unique keys of 1-128 characters, values of 0-256, letters, digits, space and + - = . _ : /.
"""

from __future__ import annotations

from urllib.parse import quote

MAX_TAGS = 10
_PUNCTUATION = frozenset(" +-=._:/")


def _allowed(text: str) -> bool:
    return all(c.isalnum() or c in _PUNCTUATION for c in text)


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    """The tags unchanged, or ValueError naming the first tag OSS would refuse."""
    if len(tags) > MAX_TAGS:
        raise ValueError(f"OSS takes at most {MAX_TAGS} tags per object, got {len(tags)}")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or not _allowed(key):
            raise ValueError(
                f"tag key {key!r} must be 1-128 letters, digits, spaces or + - = . _ : /"
            )
        if len(value) > 256 or not _allowed(value):
            raise ValueError(
                f"tag value {value!r} of {key!r} must be 0-256 letters, digits, spaces or + - = . _ : /"
            )
    return tags


def tagging_header(tags: dict[str, str]) -> str:
    """x-oss-tagging: URL-encoded k=v pairs joined by &."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in tags.items())
