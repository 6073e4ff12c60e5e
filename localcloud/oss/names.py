"""Validation of bucket names, object keys and storage classes, with the OSS error for each."""

from __future__ import annotations

import re

from . import errors

STORAGE_CLASSES = ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive")
ARCHIVED_CLASSES = frozenset({"Archive", "ColdArchive", "DeepColdArchive"})
_CLASS_BY_LOWER = {c.lower(): c for c in STORAGE_CLASSES}
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
MAX_KEY_BYTES = 1023
ACLS = ("private", "public-read", "public-read-write")
OBJECT_ACLS = ACLS + ("default",)


def is_uint(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²', which int() refuses."""
    return text.isascii() and text.isdigit()


def check_bucket_name(name: str) -> str:
    if not _BUCKET_RE.match(name):
        raise errors.InvalidBucketName(
            f"Bucket name {name!r} is invalid: 3-63 characters of lower-case letters, digits and "
            "'-', starting and ending with a letter or digit.",
            BucketName=name,
        )
    return name


def check_object_key(key: str) -> str:
    if not key:
        raise errors.InvalidObjectName("The object key must not be empty.")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise errors.InvalidObjectName(
            f"The object key is longer than {MAX_KEY_BYTES} bytes (UTF-8).",
            ObjectName=key[:64] + "...",
        )
    if key[0] in "/\\":
        raise errors.InvalidObjectName(
            f"The object key {key!r} must not start with '/' or '\\'.", ObjectName=key
        )
    if "\x00" in key:
        raise errors.InvalidObjectName("The object key must not contain NUL.", ObjectName=key)
    return key


def storage_class(value: str | None, default: str) -> str:
    """Canonical spelling of a storage class header/XML value; unknown ones are 400."""
    if value is None or value == "":
        return default
    canonical = _CLASS_BY_LOWER.get(value.lower())
    if canonical is None:
        raise errors.InvalidArgument(
            f"Unsupported storage class {value!r}; use one of {', '.join(STORAGE_CLASSES)}.",
            ArgumentName="x-oss-storage-class",
            ArgumentValue=value,
        )
    return canonical
