"""Multipart operations on the wire; semantics in multipart.py."""

from __future__ import annotations

from . import errors
from .api_objects import DEFAULT_CONTENT_TYPE, copy_source
from .multipart import MAX_PART_BYTES
from .names import check_object_key, is_uint, storage_class
from .objects import object_meta_from_headers
from .service import OssService
from .wire import OssRequest, Response, xml_response
from .xmlwire import child_text, document, element, iso8601, key_text, parse


async def initiate(svc: OssService, req: OssRequest) -> Response:
    bucket = svc.buckets.get(req.bucket)
    key = check_object_key(req.key)
    h = req.headers
    upload = svc.multipart.initiate(
        req.bucket,
        key,
        h.get("content-type") or DEFAULT_CONTENT_TYPE,
        object_meta_from_headers(h),
        storage_class(h.get("x-oss-storage-class"), bucket.storage_class),
    )
    url = req.query.get("encoding-type") == "url"
    body = (
        element("Bucket", req.bucket)
        + f"<Key>{key_text(key, url)}</Key>"
        + element("UploadId", upload.upload_id)
    )
    if url:
        body += element("EncodingType", "url")
    return xml_response(document("InitiateMultipartUploadResult", body))


async def upload_part(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    upload = svc.multipart.upload(req.bucket, req.key, req.query["uploadId"])
    number = svc.multipart.part_number(req.query.get("partNumber"))
    temp = svc.storage.new_temp_path()
    digest, _ = await req.body_to_file(temp, MAX_PART_BYTES)
    md5_header = req.headers.get("content-md5")
    if md5_header is not None:
        import base64

        if base64.b64encode(digest.md5_digest).decode() != md5_header.strip():
            temp.unlink(missing_ok=True)
            raise errors.InvalidDigest(
                "The Content-MD5 you specified did not match what we received."
            )
    part = svc.multipart.add_part(upload, number, temp, digest)
    return Response(
        200,
        [(b"etag", f'"{part.etag}"'.encode()), (b"x-oss-hash-crc64ecma", str(part.crc64).encode())],
    )


def _copy_range(value: str | None, size: int) -> tuple[int, int]:
    """x-oss-copy-source-range `bytes=first-last` (inclusive) as (start, length)."""
    if not value:
        return 0, size
    spec = value.strip()
    if spec.startswith("bytes="):
        first, sep, last = spec[6:].partition("-")
        if sep and is_uint(first) and (is_uint(last) or last == ""):
            start = int(first)
            end = int(last) if last else size - 1
            if start <= end < size:
                return start, end - start + 1
    raise errors.InvalidArgument(
        f"x-oss-copy-source-range {value!r} is not a valid range of an object of {size} bytes.",
        ArgumentName="x-oss-copy-source-range",
        ArgumentValue=value,
    )


async def upload_part_copy(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    upload = svc.multipart.upload(req.bucket, req.key, req.query["uploadId"])
    number = svc.multipart.part_number(req.query.get("partNumber"))
    src = copy_source(svc, req)
    start, length = _copy_range(req.headers.get("x-oss-copy-source-range"), src.size)
    part = await svc.multipart.copy_part(upload, number, src, start, length)
    body = element("LastModified", iso8601(part.last_modified)) + element("ETag", f'"{part.etag}"')
    headers = [(b"etag", f'"{part.etag}"'.encode())]
    if src.version_id:
        headers.append((b"x-oss-copy-source-version-id", src.version_id.encode()))
    return xml_response(document("CopyPartResult", body), headers=headers)


async def complete(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    upload = svc.multipart.upload(req.bucket, req.key, req.query["uploadId"])
    body = await req.read_body(2 << 20)
    if req.headers.get("x-oss-complete-all", "").lower() == "yes":
        if body.strip():
            raise errors.InvalidArgument("With x-oss-complete-all: yes the body must be empty.")
        wanted = None
    else:
        root = parse(body, "CompleteMultipartUpload")
        wanted = []
        for node in root.findall("Part"):
            number, etag = child_text(node, "PartNumber"), child_text(node, "ETag")
            if number is None or etag is None or not is_uint(number.strip()):
                raise errors.MalformedXML("Each <Part> needs a numeric <PartNumber> and an <ETag>.")
            wanted.append((int(number), etag))
    rec = await svc.multipart.complete(upload, wanted, req.request_id)
    url = req.query.get("encoding-type") == "url"
    location = f"http://{req.headers.get('host', '127.0.0.1')}/{req.bucket}/{req.key}"
    xml = (
        (element("EncodingType", "url") if url else "")
        + element("Location", location)
        + element("Bucket", req.bucket)
        + f"<Key>{key_text(rec.key, url)}</Key>"
        + element("ETag", f'"{rec.etag}"')
    )
    return xml_response(
        document("CompleteMultipartUploadResult", xml),
        headers=[
            (b"etag", f'"{rec.etag}"'.encode()),
            (b"x-oss-hash-crc64ecma", str(rec.crc64).encode()),
            *svc.objects.version_headers(rec),
        ],
    )


async def abort(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    svc.multipart.abort(svc.multipart.upload(req.bucket, req.key, req.query["uploadId"]))
    return Response(204)


def _int_param(q: dict, name: str, default: int, low: int, high: int) -> int:
    value = q.get(name)
    if value is None or value == "":
        return default
    if not is_uint(value) or not low <= int(value) <= high:
        raise errors.InvalidArgument(
            f"{name} must be {low}..{high}, got {value!r}.", ArgumentName=name
        )
    return int(value)


async def list_parts(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    upload = svc.multipart.upload(req.bucket, req.key, req.query["uploadId"])
    q = req.query
    marker = _int_param(q, "part-number-marker", 0, 0, 10000)
    max_parts = _int_param(q, "max-parts", 1000, 1, 1000)
    parts = svc.storage.list_parts(upload.upload_id, marker, max_parts + 1)
    truncated = len(parts) > max_parts
    parts = parts[:max_parts]
    url = q.get("encoding-type") == "url"
    xml = [
        element("Bucket", req.bucket),
        f"<Key>{key_text(upload.key, url)}</Key>",
        element("UploadId", upload.upload_id),
        element("PartNumberMarker", marker),
        element("NextPartNumberMarker", parts[-1].part_number if parts else marker),
        element("MaxParts", max_parts),
        element("IsTruncated", "true" if truncated else "false"),
        element("StorageClass", upload.storage_class),
    ]
    if url:
        xml.append(element("EncodingType", "url"))
    for p in parts:
        xml.append(
            "<Part>"
            + element("PartNumber", p.part_number)
            + element("LastModified", iso8601(p.last_modified))
            + element("ETag", f'"{p.etag}"')
            + element("HashCrc64ecma", p.crc64)
            + element("Size", p.size)
            + "</Part>"
        )
    return xml_response(document("ListPartsResult", "".join(xml)))


async def list_uploads(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    q = req.query
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    key_marker, upload_marker = q.get("key-marker", ""), q.get("upload-id-marker", "")
    max_uploads = _int_param(q, "max-uploads", 1000, 1, 1000)
    url = q.get("encoding-type") == "url"
    uploads, prefixes, truncated = [], [], False
    cursor_key, cursor_id = key_marker, upload_marker if key_marker else ""
    next_key, next_id = "", ""
    while not truncated:
        rows = svc.storage.list_uploads(req.bucket, prefix, cursor_key, cursor_id, 1001)
        if not rows:
            break
        for u in rows:
            cursor_key, cursor_id = u.key, u.upload_id
            common = None
            if delimiter:
                pos = u.key.find(delimiter, len(prefix))
                if pos >= 0:
                    common = u.key[: pos + len(delimiter)]
            if common is not None and prefixes and prefixes[-1] == common:
                continue
            if len(uploads) + len(prefixes) == max_uploads:
                truncated = True
                break
            if common is not None:
                prefixes.append(common)
                next_key, next_id = u.key, u.upload_id
            else:
                uploads.append(u)
                next_key, next_id = u.key, u.upload_id
        else:
            if len(rows) < 1001:
                break
    xml = [
        element("Bucket", req.bucket),
        f"<KeyMarker>{key_text(key_marker, url)}</KeyMarker>",
        element("UploadIdMarker", upload_marker),
        f"<NextKeyMarker>{key_text(next_key if truncated else '', url)}</NextKeyMarker>",
        element("NextUploadIdMarker", next_id if truncated else ""),
        f"<Delimiter>{key_text(delimiter, url)}</Delimiter>",
        f"<Prefix>{key_text(prefix, url)}</Prefix>",
        element("MaxUploads", max_uploads),
        element("IsTruncated", "true" if truncated else "false"),
    ]
    if url:
        xml.append(element("EncodingType", "url"))
    for u in uploads:
        xml.append(
            "<Upload>"
            + f"<Key>{key_text(u.key, url)}</Key>"
            + element("UploadId", u.upload_id)
            + element("StorageClass", u.storage_class)
            + element("Initiated", iso8601(u.initiated))
            + "</Upload>"
        )
    xml.extend(
        f"<CommonPrefixes><Prefix>{key_text(p, url)}</Prefix></CommonPrefixes>" for p in prefixes
    )
    return xml_response(document("ListMultipartUploadsResult", "".join(xml)))


HANDLERS = {
    "InitiateMultipartUpload": initiate,
    "UploadPart": upload_part,
    "UploadPartCopy": upload_part_copy,
    "CompleteMultipartUpload": complete,
    "AbortMultipartUpload": abort,
    "ListParts": list_parts,
    "ListMultipartUploads": list_uploads,
}
