"""ListObjects v1 / v2 on the wire: parameters, continuation tokens, XML; paging in listing.py."""

from __future__ import annotations

import base64
import binascii

from . import errors
from .listing import list_objects
from .names import MAX_KEY_BYTES, is_uint
from .service import OssService
from .storage import ObjectRecord
from .wire import OssRequest, Response, xml_response
from .xmlwire import document, element, iso8601, key_text


def _max_keys(value: str | None) -> int:
    if value is None or value == "":
        return 100
    # one leading minus at most: "--0" is not a number (int() would raise, a 500)
    if not is_uint(value[1:] if value.startswith("-") else value):
        raise errors.InvalidArgument(
            f"max-keys {value!r} is not a number.", ArgumentName="max-keys"
        )
    n = int(value)
    if not 0 <= n <= 1000:
        raise errors.InvalidArgument(f"max-keys must be 0..1000, got {n}.", ArgumentName="max-keys")
    return n


def _contents(rec: ObjectRecord, url: bool, owner: str, svc: OssService) -> str:
    restore = svc.restore.header(rec) if rec.restore_ready is not None else None
    return (
        "<Contents>"
        + f"<Key>{key_text(rec.key, url)}</Key>"
        + element("LastModified", iso8601(rec.last_modified))
        + element("ETag", f'"{rec.etag}"')
        + element("Type", rec.object_type)
        + element("Size", rec.size)
        + element("StorageClass", rec.storage_class)
        + owner
        + (element("RestoreInfo", restore) if restore else "")
        + "</Contents>"
    )


def _check_list_params(q: dict) -> tuple[str, str, bool]:
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    for name, value in (
        ("prefix", prefix),
        ("delimiter", delimiter),
        ("marker", q.get("marker", "")),
        ("start-after", q.get("start-after", "")),
    ):
        if len(value.encode()) > MAX_KEY_BYTES:
            raise errors.InvalidArgument(
                f"{name} is longer than {MAX_KEY_BYTES} bytes.", ArgumentName=name
            )
    enc = q.get("encoding-type")
    if enc not in (None, "", "url"):
        raise errors.InvalidArgument(
            f"encoding-type must be url, got {enc!r}.", ArgumentName="encoding-type"
        )
    return prefix, delimiter, enc == "url"


async def list_objects_v1(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    q = req.query
    prefix, delimiter, url = _check_list_params(q)
    marker = q.get("marker", "")
    max_keys = _max_keys(q.get("max-keys"))
    page = list_objects(svc.storage, req.bucket, prefix, delimiter, marker, max_keys)
    owner = f"<Owner><ID>{svc.account_id}</ID><DisplayName>{svc.account_id}</DisplayName></Owner>"
    parts = [
        element("Name", req.bucket),
        f"<Prefix>{key_text(prefix, url)}</Prefix>",
        f"<Marker>{key_text(marker, url)}</Marker>",
        element("MaxKeys", max_keys),
        f"<Delimiter>{key_text(delimiter, url)}</Delimiter>",
        element("IsTruncated", "true" if page.truncated else "false"),
    ]
    if page.truncated:
        parts.append(f"<NextMarker>{key_text(page.next_marker, url)}</NextMarker>")
    if url:
        parts.append(element("EncodingType", "url"))
    parts.extend(_contents(r, url, owner, svc) for r in page.objects)
    parts.extend(
        f"<CommonPrefixes><Prefix>{key_text(p, url)}</Prefix></CommonPrefixes>"
        for p in page.prefixes
    )
    return xml_response(document("ListBucketResult", "".join(parts)))


def encode_token(marker: str) -> str:
    return base64.urlsafe_b64encode(marker.encode()).decode()


def decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise errors.InvalidArgument(
            f"continuation-token {token!r} is not a token this server issued.",
            ArgumentName="continuation-token",
        ) from None


async def list_objects_v2(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    q = req.query
    prefix, delimiter, url = _check_list_params(q)
    token = q.get("continuation-token")
    start_after = q.get("start-after", "")
    after = decode_token(token) if token else start_after
    max_keys = _max_keys(q.get("max-keys"))
    page = list_objects(svc.storage, req.bucket, prefix, delimiter, after, max_keys)
    fetch_owner = q.get("fetch-owner", "").lower() == "true"
    owner = (
        f"<Owner><ID>{svc.account_id}</ID><DisplayName>{svc.account_id}</DisplayName></Owner>"
        if fetch_owner
        else ""
    )
    parts = [element("Name", req.bucket), f"<Prefix>{key_text(prefix, url)}</Prefix>"]
    if start_after:
        parts.append(f"<StartAfter>{key_text(start_after, url)}</StartAfter>")
    if token:
        parts.append(element("ContinuationToken", token))
    parts += [
        element("MaxKeys", max_keys),
        f"<Delimiter>{key_text(delimiter, url)}</Delimiter>",
        element("IsTruncated", "true" if page.truncated else "false"),
    ]
    if page.truncated:
        parts.append(element("NextContinuationToken", encode_token(page.next_marker)))
    parts.append(element("KeyCount", len(page.objects) + len(page.prefixes)))
    if url:
        parts.append(element("EncodingType", "url"))
    parts.extend(_contents(r, url, owner, svc) for r in page.objects)
    parts.extend(
        f"<CommonPrefixes><Prefix>{key_text(p, url)}</Prefix></CommonPrefixes>"
        for p in page.prefixes
    )
    return xml_response(document("ListBucketResult", "".join(parts)))


HANDLERS = {"ListObjects": list_objects_v1, "ListObjectsV2": list_objects_v2}
