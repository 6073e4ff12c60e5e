"""Object operations on the wire: Put/Get/Head/Delete/Copy/DeleteMultiple/List/Restore."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from . import errors
from .checksums import decode_content_md5
from .compression import DROPPED_HEADERS, GzipBody, wants_gzip
from .names import check_object_key, is_uint, storage_class
from .objects import MAX_PUT_BYTES, check_conditions, object_meta_from_headers
from .ranges import parse_range
from .restore import DEFAULT_TIER
from .service import OssService
from .storage import INLINE_MAX, ObjectRecord
from .tagging import TAGS_META
from .versioning import check_version_id
from .wire import FileBody, OssRequest, Response, xml_response
from .xmlwire import (
    child_text,
    control_chars,
    document,
    element,
    http_date,
    iso8601,
    key_text,
    parse,
)

DEFAULT_CONTENT_TYPE = "application/octet-stream"
RESPONSE_OVERRIDES = {
    "response-content-type": b"content-type",
    "response-content-language": b"content-language",
    "response-expires": b"expires",
    "response-cache-control": b"cache-control",
    "response-content-disposition": b"content-disposition",
    "response-content-encoding": b"content-encoding",
}


def object_headers(
    svc: OssService, rec: ObjectRecord, link: ObjectRecord | None = None
) -> list[tuple[bytes, bytes]]:
    """GET/HEAD headers; through a symlink (link) the target's bytes, ETag and type, the
    link's own metadata, tags and version."""
    own = link if link is not None else rec
    h = [
        (b"content-type", rec.content_type.encode()),
        (b"etag", f'"{rec.etag}"'.encode()),
        (b"last-modified", http_date(rec.last_modified).encode()),
        (b"accept-ranges", b"bytes"),
        (b"x-oss-object-type", own.object_type.encode()),
        (b"x-oss-storage-class", rec.storage_class.encode()),
        (b"x-oss-hash-crc64ecma", str(rec.crc64).encode()),
    ]
    if rec.object_type == "Normal":
        h.append((b"content-md5", base64.b64encode(binascii.unhexlify(rec.etag))))
    for k, v in own.meta.items():
        if k[0] == ":":  # internal (e.g. object ACL)
            continue
        h.append((k.encode(), v.encode()))
    h.extend(svc.objects.version_headers(own))
    tag_count = len(own.meta.get(TAGS_META, ()))
    if tag_count:
        h.append((b"x-oss-tagging-count", str(tag_count).encode()))
    restore = svc.restore.header(rec)
    if restore:
        h.append((b"x-oss-restore", restore.encode()))
    return h


def _checked_key(req: OssRequest) -> str:
    return check_object_key(req.key)


async def put_object(svc: OssService, req: OssRequest) -> Response:
    bucket = svc.buckets.get(req.bucket)
    key = _checked_key(req)
    h = req.headers
    sclass = storage_class(h.get("x-oss-storage-class"), bucket.storage_class)
    md5_header = h.get("content-md5")
    want_md5 = None
    if md5_header is not None:
        want_md5 = decode_content_md5(md5_header)
        if want_md5 is None:
            raise errors.InvalidDigest(
                f"Content-MD5 {md5_header!r} is not the base64 of a 16-byte MD5."
            )
    if h.get("x-oss-forbid-overwrite", "").lower() == "true":
        present = svc.storage.get_object(req.bucket, key)
        if present is not None and not present.delete_marker:
            raise errors.FileAlreadyExists(Key=key)
    temp = svc.storage.new_temp_path()
    digest, data = await req.body_to_file(temp, MAX_PUT_BYTES, INLINE_MAX)
    if want_md5 is not None and digest.md5_digest != want_md5:
        temp.unlink(missing_ok=True)
        raise errors.InvalidDigest(
            "The Content-MD5 you specified did not match what we received.",
            CalculatedDigest=base64.b64encode(digest.md5_digest).decode(),
        )
    client_crc = h.get("x-oss-hash-crc64ecma")
    if client_crc is not None and client_crc != str(digest.crc):
        temp.unlink(missing_ok=True)
        raise errors.InvalidDigest(
            f"x-oss-hash-crc64ecma {client_crc} does not match the body ({digest.crc})."
        )
    rec = svc.objects.commit(
        req.bucket,
        key,
        temp,
        digest.size,
        digest.etag,
        digest.crc,
        h.get("content-type") or DEFAULT_CONTENT_TYPE,
        object_meta_from_headers(h),
        sclass,
        req.request_id,
        data=data,
    )
    return Response(
        200,
        [
            (b"etag", f'"{rec.etag}"'.encode()),
            (b"content-md5", base64.b64encode(digest.md5_digest)),
            (b"x-oss-hash-crc64ecma", str(rec.crc64).encode()),
            *svc.objects.version_headers(rec),
        ],
    )


def _version_param(req: OssRequest) -> str | None:
    return req.query["versionId"] if "versionId" in req.query else None


async def get_object(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    link = svc.objects.readable(req.bucket, req.key, _version_param(req))
    rec = svc.symlinks.follow(link, with_data=True)
    svc.restore.require_readable(rec)
    check_conditions(rec, req.headers)
    headers = object_headers(svc, rec, link)
    standard = req.headers.get("x-oss-range-behavior", "").lower() == "standard"
    byte_range = parse_range(req.headers.get("range"), rec.size, standard)
    status, start, length = 200, 0, rec.size
    if byte_range is not None:
        start, end = byte_range
        status, length = 206, end - start + 1
        headers.append((b"content-range", f"bytes {start}-{end}/{rec.size}".encode()))
    for param, header in RESPONSE_OVERRIDES.items():
        if param in req.query:
            headers = [(k, v) for k, v in headers if k != header]
            headers.append((header, req.query[param].encode()))
    if wants_gzip(req.headers, rec.content_type, rec.size, byte_range is not None):
        headers = [(k, v) for k, v in headers if k not in DROPPED_HEADERS]
        headers += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
        source = FileBody(svc.storage.file_path(rec.path), 0, rec.size) if rec.path else None
        data = b"" if rec.path else svc.storage.get_data(rec)
        return Response(status, headers, stream=GzipBody(source, data))
    if not rec.path:  # small object kept inline in the metadata row
        return Response(status, headers, svc.storage.get_data(rec)[start : start + length])
    body = FileBody(svc.storage.file_path(rec.path), start, length)
    return Response(status, headers, stream=body)


async def head_object(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    link = svc.objects.head(req.bucket, req.key, _version_param(req))
    rec = svc.symlinks.follow(link)
    check_conditions(rec, req.headers)
    r = Response(200, object_headers(svc, rec, link))
    r.length = rec.size
    return r


async def get_object_meta(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    link = svc.objects.head(req.bucket, req.key, _version_param(req))
    rec = svc.symlinks.follow(link)
    r = Response(
        200,
        [
            (b"etag", f'"{rec.etag}"'.encode()),
            (b"last-modified", http_date(rec.last_modified).encode()),
            (b"x-oss-hash-crc64ecma", str(rec.crc64).encode()),
            *svc.objects.version_headers(link),
        ],
    )
    r.length = rec.size
    return r


async def delete_object(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    version_id = _version_param(req)
    gone = svc.objects.delete(req.bucket, req.key, version_id)
    if gone is None:
        # nothing to report; a named version that is not there is still 204, as on OSS
        headers = [(b"x-oss-version-id", version_id.encode())] if version_id else []
        return Response(204, headers)
    return Response(204, svc.objects.version_headers(gone))


async def delete_multiple(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    body = await req.read_body(4 << 20)
    md5_header = req.headers.get("content-md5")
    if md5_header is not None:
        import hashlib

        if decode_content_md5(md5_header) != hashlib.md5(body).digest():
            raise errors.InvalidDigest("Content-MD5 does not match the Delete body.")
    root = parse(body, "Delete", control_chars=True)
    quiet = (child_text(root, "Quiet", "false") or "false").strip().lower() == "true"
    targets = [
        (control_chars(child_text(o, "Key", "")), child_text(o, "VersionId"))
        for o in root.findall("Object")
    ]
    if not targets or len(targets) > 1000:
        raise errors.MalformedXML("DeleteMultipleObjects takes 1 to 1000 <Object><Key> entries.")
    url = req.query.get("encoding-type") == "url"
    for key, version_id in targets:
        check_object_key(key)
        if version_id is not None:
            check_version_id(version_id)
    deleted = []
    for key, version_id in targets:
        gone = svc.objects.delete(req.bucket, key, version_id)
        if not quiet:
            deleted.append(_deleted_entry(key, version_id, gone, url))
    extra = element("EncodingType", "url") if url else ""
    return xml_response(document("DeleteResult", extra + "".join(deleted)))


def _deleted_entry(key: str, version_id: str | None, gone: ObjectRecord | None, url: bool) -> str:
    """One <Deleted>: the version removed, or the delete marker a versioned delete added."""
    parts = [f"<Key>{key_text(key, url)}</Key>"]
    if version_id is not None:
        parts.append(element("VersionId", version_id))
    if gone is not None and gone.delete_marker:
        parts.append(element("DeleteMarker", "true"))
        parts.append(element("DeleteMarkerVersionId", gone.version_id))
    return "<Deleted>" + "".join(parts) + "</Deleted>"


def parse_copy_source(value: str) -> tuple[str, str]:
    """`/bucket/url-encoded-key` (oss2 quotes the key) into (bucket, key)."""
    source = unquote(value.split("?versionId=", 1)[0])
    if source.startswith("/"):
        source = source[1:]
    bucket, sep, key = source.partition("/")
    if not sep or not bucket or not key:
        raise errors.InvalidArgument(
            f"x-oss-copy-source {value!r} must be /bucket/key.",
            ArgumentName="x-oss-copy-source",
            ArgumentValue=value,
        )
    return bucket, key


def copy_source_version(value: str) -> str | None:
    """The `?versionId=` a copy source names (None: the current version)."""
    _, sep, version_id = value.partition("?versionId=")
    return unquote(version_id) if sep else None


def copy_source(svc: OssService, req: OssRequest) -> ObjectRecord:
    header = req.headers["x-oss-copy-source"]
    src_bucket, src_key = parse_copy_source(header)
    svc.buckets.get(src_bucket)
    # one query: metadata and, for a small object, its bytes
    src = svc.objects.lookup(src_bucket, src_key, copy_source_version(header), with_data=True)
    check_conditions(src, req.headers, "x-oss-copy-source-")
    return src


def copy_version_headers(svc: OssService, src: ObjectRecord, rec: ObjectRecord) -> list:
    headers = svc.objects.version_headers(rec)
    if src.version_id:
        headers.append((b"x-oss-copy-source-version-id", src.version_id.encode()))
    return headers


async def copy_object(svc: OssService, req: OssRequest) -> Response:
    bucket = svc.buckets.get(req.bucket)
    src = copy_source(svc, req)
    rec = svc.objects.copy(
        src,
        req.bucket,
        _checked_key(req),
        req.headers.get("x-oss-metadata-directive", "COPY"),
        req.headers,
        bucket.storage_class,
        req.request_id,
    )
    body = element("LastModified", iso8601(rec.last_modified)) + element("ETag", f'"{rec.etag}"')
    return xml_response(
        document("CopyObjectResult", body),
        headers=[
            (b"etag", f'"{rec.etag}"'.encode()),
            (b"x-oss-hash-crc64ecma", str(rec.crc64).encode()),
            *copy_version_headers(svc, src, rec),
        ],
    )


async def restore_object(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    rec = svc.objects.head(req.bucket, req.key, _version_param(req))
    body = await req.read_body(64 << 10)
    days = tier = None
    if body.strip():
        root = parse(body, "RestoreRequest")
        days_text = child_text(root, "Days")
        if days_text is not None:
            if not is_uint(days_text.strip()):
                raise errors.MalformedXML(f"RestoreRequest Days {days_text!r} is not a number.")
            days = int(days_text)
        if root.find("JobParameters") is not None:
            if rec.storage_class == "Archive":
                # Archive has one restore speed: OSS refuses JobParameters as a malformed body
                raise errors.MalformedXML(
                    f"The object {rec.key!r} is Archive: RestoreRequest takes no JobParameters."
                )
            tier = child_text(root, "JobParameters/Tier", "")
    status = svc.restore.request(svc.storage, rec, days, tier)
    headers = svc.objects.version_headers(rec)
    if rec.storage_class != "Archive":
        priority = tier or DEFAULT_TIER[rec.storage_class]
        headers.append((b"x-oss-object-restore-priority", priority.encode()))
    return Response(status, headers)


HANDLERS = {
    "PutObject": put_object,
    "GetObject": get_object,
    "HeadObject": head_object,
    "GetObjectMeta": get_object_meta,
    "DeleteObject": delete_object,
    "DeleteMultipleObjects": delete_multiple,
    "CopyObject": copy_object,
    "RestoreObject": restore_object,
}
