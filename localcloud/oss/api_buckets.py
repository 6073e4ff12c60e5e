"""Bucket operations on the wire: request parsing and XML rendering; semantics in buckets.py."""

from __future__ import annotations

from . import errors
from .names import is_uint
from .service import OssService
from .wire import OssRequest, Response, xml_response
from .xmlwire import child_text, document, element, iso8601, parse


def _owner(svc: OssService) -> str:
    return f"<Owner><ID>{svc.account_id}</ID><DisplayName>{svc.account_id}</DisplayName></Owner>"


def _max(value: str | None, name: str, default: int, limit: int) -> int:
    if value is None or value == "":
        return default
    if not is_uint(value) or not 1 <= int(value) <= limit:
        raise errors.InvalidArgument(
            f"{name} must be an integer between 1 and {limit}, got {value!r}.",
            ArgumentName=name,
            ArgumentValue=value,
        )
    return int(value)


async def put_bucket(svc: OssService, req: OssRequest) -> Response:
    body = await req.read_body(64 << 10)
    sclass = None
    if body.strip():
        root = parse(body, "CreateBucketConfiguration")
        sclass = child_text(root, "StorageClass")
    svc.buckets.create(req.bucket, req.headers.get("x-oss-acl"), sclass)
    return Response(200, [(b"location", f"/{req.bucket}".encode())])


async def delete_bucket(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.delete(req.bucket)
    return Response(204)


async def head_bucket(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    return Response(200)


async def list_buckets(svc: OssService, req: OssRequest) -> Response:
    q = req.query
    prefix, marker = q.get("prefix", ""), q.get("marker", "")
    max_keys = _max(q.get("max-keys"), "max-keys", 1000, 1000)
    rows, truncated = svc.buckets.list(prefix, marker, max_keys)
    ep = req.server  # a client that follows the listed endpoint must stay on localcloud
    parts = [
        element("Prefix", prefix),
        element("Marker", marker),
        element("MaxKeys", max_keys),
        element("IsTruncated", "true" if truncated else "false"),
    ]
    if truncated:
        parts.append(element("NextMarker", rows[-1].name))
    parts.append(_owner(svc) + "<Buckets>")
    for b in rows:
        parts.append(
            "<Bucket>"
            + element("CreationDate", iso8601(b.created))
            + element("ExtranetEndpoint", ep)
            + element("IntranetEndpoint", ep)
            + element("Location", b.location)
            + element("Name", b.name)
            + element("Region", svc.region)
            + element("StorageClass", b.storage_class)
            + "</Bucket>"
        )
    parts.append("</Buckets>")
    return xml_response(document("ListAllMyBucketsResult", "".join(parts)))


async def get_bucket_info(svc: OssService, req: OssRequest) -> Response:
    b = svc.buckets.get(req.bucket)
    ep = req.server
    body = (
        "<Bucket>"
        + element("AccessMonitor", "Disabled")
        + element("CreationDate", iso8601(b.created))
        + element("CrossRegionReplication", "Disabled")
        + element("DataRedundancyType", "LRS")
        + element("ExtranetEndpoint", ep)
        + element("IntranetEndpoint", ep)
        + element("Location", b.location)
        + element("Name", b.name)
        + element("ResourceGroupId", "rg-default")
        + element("StorageClass", b.storage_class)
        + element("TransferAcceleration", "Disabled")
        + (element("Versioning", b.versioning) if b.versioning else "")
        + _owner(svc)
        + "<AccessControlList>"
        + element("Grant", b.acl)
        + "</AccessControlList>"
        + "<ServerSideEncryptionRule><SSEAlgorithm>None</SSEAlgorithm></ServerSideEncryptionRule>"
        + "<BucketPolicy><LogBucket></LogBucket><LogPrefix></LogPrefix></BucketPolicy>"
        + "</Bucket>"
    )
    return xml_response(document("BucketInfo", body))


async def get_bucket_location(svc: OssService, req: OssRequest) -> Response:
    b = svc.buckets.get(req.bucket)
    return xml_response(document("LocationConstraint", b.location))


async def get_bucket_stat(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    count, size = svc.storage.bucket_stat(req.bucket)
    body = (
        element("Storage", size)
        + element("ObjectCount", count)
        + element("MultipartUploadCount", 0)
    )
    return xml_response(document("BucketStat", body))


async def get_bucket_acl(svc: OssService, req: OssRequest) -> Response:
    b = svc.buckets.get(req.bucket)
    return xml_response(
        document(
            "AccessControlPolicy",
            _owner(svc) + "<AccessControlList>" + element("Grant", b.acl) + "</AccessControlList>",
        )
    )


async def put_bucket_acl(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.set_acl(req.bucket, req.headers.get("x-oss-acl", ""))
    return Response(200)


HANDLERS = {
    "PutBucket": put_bucket,
    "DeleteBucket": delete_bucket,
    "HeadBucket": head_bucket,
    "ListBuckets": list_buckets,
    "GetBucketInfo": get_bucket_info,
    "GetBucketLocation": get_bucket_location,
    "GetBucketStat": get_bucket_stat,
    "GetBucketAcl": get_bucket_acl,
    "PutBucketAcl": put_bucket_acl,
}
