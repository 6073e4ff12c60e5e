"""Bucket versioning on the wire: Put/GetBucketVersioning and ListObjectVersions (semantics in
versioning.py, paging in listing.py)."""

from __future__ import annotations

from . import errors
from .api_listing import _check_list_params, _max_keys
from .listing import list_versions
from .service import OssService
from .storage import ObjectRecord
from .versioning import check_version_id
from .wire import OssRequest, Response, xml_response
from .xmlwire import child_text, document, element, iso8601, key_text, parse


async def put_bucket_versioning(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    root = parse(await req.read_body(64 << 10), "VersioningConfiguration")
    svc.buckets.set_versioning(req.bucket, (child_text(root, "Status", "") or "").strip())
    return Response(200)


async def get_bucket_versioning(svc: OssService, req: OssRequest) -> Response:
    status = svc.buckets.get(req.bucket).versioning
    return xml_response(
        document("VersioningConfiguration", element("Status", status) if status else "")
    )


def _owner(svc: OssService) -> str:
    return f"<Owner><ID>{svc.account_id}</ID><DisplayName>{svc.account_id}</DisplayName></Owner>"


def _entry(svc: OssService, rec: ObjectRecord, latest: bool, url: bool) -> str:
    common = (
        f"<Key>{key_text(rec.key, url)}</Key>"
        + element("VersionId", rec.version_id or "null")
        + element("IsLatest", "true" if latest else "false")
        + element("LastModified", iso8601(rec.last_modified))
    )
    if rec.delete_marker:
        return f"<DeleteMarker>{common}{_owner(svc)}</DeleteMarker>"
    restore = svc.restore.header(rec) if rec.restore_ready is not None else None
    return (
        "<Version>"
        + common
        + element("ETag", f'"{rec.etag}"')
        + element("Type", rec.object_type)
        + element("Size", rec.size)
        + element("StorageClass", rec.storage_class)
        + _owner(svc)
        + (element("RestoreInfo", restore) if restore else "")
        + "</Version>"
    )


def _marker_seq(svc: OssService, bucket: str, key_marker: str, version_marker: str) -> int | None:
    if not version_marker:
        return None
    if not key_marker:
        raise errors.InvalidArgument(
            "version-id-marker needs key-marker.", ArgumentName="version-id-marker"
        )
    rec = svc.storage.get_version(bucket, key_marker, check_version_id(version_marker))
    if rec is None:
        raise errors.InvalidArgument(
            f"version-id-marker {version_marker!r} is not a version of {key_marker!r}.",
            ArgumentName="version-id-marker",
        )
    return rec.seq


async def list_object_versions(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    q = req.query
    prefix, delimiter, url = _check_list_params(q)
    key_marker, version_marker = q.get("key-marker", ""), q.get("version-id-marker", "")
    max_keys = _max_keys(q.get("max-keys"))
    seq = _marker_seq(svc, req.bucket, key_marker, version_marker)
    page = list_versions(svc.storage, req.bucket, prefix, delimiter, key_marker, seq, max_keys)
    parts = [
        element("Name", req.bucket),
        f"<Prefix>{key_text(prefix, url)}</Prefix>",
        f"<KeyMarker>{key_text(key_marker, url)}</KeyMarker>",
        element("VersionIdMarker", version_marker),
        element("MaxKeys", max_keys),
        f"<Delimiter>{key_text(delimiter, url)}</Delimiter>",
        element("IsTruncated", "true" if page.truncated else "false"),
    ]
    if page.truncated:
        parts.append(f"<NextKeyMarker>{key_text(page.next_key, url)}</NextKeyMarker>")
        parts.append(element("NextVersionIdMarker", page.next_version_id))
    if url:
        parts.append(element("EncodingType", "url"))
    parts.extend(_entry(svc, rec, latest, url) for rec, latest in page.entries)
    parts.extend(
        f"<CommonPrefixes><Prefix>{key_text(p, url)}</Prefix></CommonPrefixes>"
        for p in page.prefixes
    )
    return xml_response(document("ListVersionsResult", "".join(parts)))


HANDLERS = {
    "PutBucketVersioning": put_bucket_versioning,
    "GetBucketVersioning": get_bucket_versioning,
    "ListObjectVersions": list_object_versions,
}
