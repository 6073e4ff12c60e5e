"""Less common object operations: object ACL and AppendObject."""

from __future__ import annotations

import os

from . import errors
from .checksums import BodyDigest
from .names import OBJECT_ACLS, check_object_key, is_uint, storage_class
from .objects import MAX_PUT_BYTES, object_meta_from_headers
from .service import OssService
from .wire import OssRequest, Response, xml_response
from .xmlwire import document, element

ACL_META = ":acl"  # meta entries starting with ':' are internal, never sent as headers


async def get_object_acl(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    rec = svc.objects.addressed(req.bucket, req.key, req.query)
    owner = f"<Owner><ID>{svc.account_id}</ID><DisplayName>{svc.account_id}</DisplayName></Owner>"
    acl = rec.meta.get(ACL_META, "default")
    return xml_response(
        document(
            "AccessControlPolicy",
            owner + "<AccessControlList>" + element("Grant", acl) + "</AccessControlList>",
        ),
        headers=svc.objects.version_headers(rec),
    )


async def put_object_acl(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    rec = svc.objects.addressed(req.bucket, req.key, req.query)
    acl = req.headers.get("x-oss-object-acl", "")
    if acl not in OBJECT_ACLS:
        raise errors.InvalidArgument(
            f"x-oss-object-acl must be one of {', '.join(OBJECT_ACLS)}, got {acl!r}.",
            ArgumentName="x-oss-object-acl",
            ArgumentValue=acl,
        )
    rec.meta[ACL_META] = acl
    svc.storage.update_meta(rec)
    return Response(200, svc.objects.version_headers(rec))


async def append_object(svc: OssService, req: OssRequest) -> Response:
    """Append at `position` (= current length); each append writes a new immutable file."""
    bucket = svc.buckets.get(req.bucket)
    key = check_object_key(req.key)
    position = req.query.get("position", "")
    if not is_uint(position):
        raise errors.InvalidArgument(
            f"position must be a non-negative integer, got {position!r}.",
            ArgumentName="position",
            ArgumentValue=position,
        )
    current = svc.storage.get_object(req.bucket, key)
    if current is not None and current.delete_marker:
        current = None  # behind a delete marker the key is free for a new appendable object
    if current is not None and current.object_type != "Appendable":
        raise errors.ObjectNotAppendable(
            f"The object {key!r} was not created by AppendObject.", Key=key
        )
    length = current.size if current else 0
    if int(position) != length:
        err = errors.PositionNotEqualToLength(
            f"position {position} but the object has {length} bytes."
        )
        err.headers["x-oss-next-append-position"] = str(length)
        raise err
    temp = svc.storage.new_temp_path()
    await req.body_to_file(temp, MAX_PUT_BYTES - length)  # appendable objects stay file-backed
    whole = BodyDigest()
    joined = svc.storage.new_temp_path()
    with open(joined, "wb") as out:
        for path in ([svc.storage.file_path(current.path)] if current else []) + [temp]:
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    whole.update(chunk)
                    out.write(chunk)
    os.unlink(temp)
    h = req.headers
    if current is None:
        ctype = h.get("content-type") or "application/octet-stream"
        meta = object_meta_from_headers(h)
        sclass = storage_class(h.get("x-oss-storage-class"), bucket.storage_class)
    else:
        ctype, meta, sclass = current.content_type, current.meta, current.storage_class
    rec = svc.objects.commit(
        req.bucket,
        key,
        joined,
        whole.size,
        whole.etag,
        whole.crc,
        ctype,
        meta,
        sclass,
        req.request_id,
        event="ObjectCreated:AppendObject",
        object_type="Appendable",
    )
    return Response(
        200,
        [
            (b"etag", f'"{rec.etag}"'.encode()),
            (b"x-oss-next-append-position", str(rec.size).encode()),
            (b"x-oss-hash-crc64ecma", str(rec.crc64).encode()),
            *svc.objects.version_headers(rec),
        ],
    )


HANDLERS = {
    "GetObjectAcl": get_object_acl,
    "PutObjectAcl": put_object_acl,
    "AppendObject": append_object,
}
