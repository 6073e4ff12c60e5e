"""Object tags: parsed from `x-oss-tagging` or a Tagging XML body, checked against OSS's limits,
kept in the version's metadata under an internal key.

https://www.alibabacloud.com/help/en/oss/developer-reference/putobjecttagging: at most 10 tags
per object, unique keys of 1-128 characters, values of 0-256 characters; letters, digits,
space and + - = . _ : / only (letters include CJK: OSS accepts '中文' keys). Changing tags
leaves Last-Modified alone.
"""

from __future__ import annotations

from urllib.parse import quote, unquote_to_bytes

from . import errors
from .xmlwire import child_text, element, parse

TAGS_META = ":tags"  # internal meta entry: [[key, value], ...] in the order given
TAGGING_HEADER = "x-oss-tagging"
MAX_TAGS = 10
MAX_KEY = 128
MAX_VALUE = 256
_PUNCTUATION = frozenset(" +-=._:/")

Tags = list[tuple[str, str]]


def _allowed(text: str) -> bool:
    return all(c.isalnum() or c in _PUNCTUATION for c in text)


def check(tags: Tags) -> Tags:
    if len(tags) > MAX_TAGS:
        raise errors.InvalidTag(f"An object takes at most {MAX_TAGS} tags, got {len(tags)}.")
    seen = set()
    for key, value in tags:
        if not key or len(key) > MAX_KEY or not _allowed(key):
            raise errors.InvalidTag(
                f"Tag key {key[:40]!r} must be 1-{MAX_KEY} letters, digits, spaces or + - = . _ : /.",
                TagKey=key[:MAX_KEY],
            )
        if len(value) > MAX_VALUE or not _allowed(value):
            raise errors.InvalidTag(
                f"Tag value {value[:40]!r} of {key!r} must be 0-{MAX_VALUE} letters, digits, "
                "spaces or + - = . _ : /.",
                TagKey=key,
            )
        if key in seen:
            raise errors.InvalidTag(f"Tag key {key!r} appears twice.", TagKey=key)
        seen.add(key)
    return tags


def _unquote(text: str) -> str:
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        raise errors.InvalidTag(f"x-oss-tagging {text!r} is not URL-encoded UTF-8.") from None


def from_header(value: str) -> Tags:
    """`k1=v1&k2` (URL-encoded; a bare key has an empty value); `a=b=c` is InvalidTag."""
    tags = []
    for item in value.split("&"):
        if not item:
            continue
        key, sep, rest = item.partition("=")
        if "=" in rest:
            raise errors.InvalidTag(f"x-oss-tagging item {item!r} is not key or key=value.")
        tags.append((_unquote(key), _unquote(rest)))
    return check(tags)


def from_xml(body: bytes) -> Tags:
    root = parse(body, "Tagging")
    tag_set = root.find("TagSet")
    if tag_set is None:
        raise errors.MalformedXML("Tagging needs a TagSet element.")
    tags = [(child_text(t, "Key", "") or "", child_text(t, "Value", "") or "") for t in tag_set]
    return check(tags)


def of(meta: dict) -> Tags:
    return [tuple(pair) for pair in meta.get(TAGS_META, [])]


def store(meta: dict, tags: Tags) -> dict:
    """meta with tags set (none: the entry is removed)."""
    meta = {k: v for k, v in meta.items() if k != TAGS_META}
    if tags:
        meta[TAGS_META] = [list(pair) for pair in tags]
    return meta


def to_xml_body(tags: Tags) -> str:
    return (
        "<TagSet>"
        + "".join(f"<Tag>{element('Key', k)}{element('Value', v)}</Tag>" for k, v in tags)
        + "</TagSet>"
    )


def to_header(tags: Tags) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in tags)
