"""Which OSS operation a request is: method + (service | bucket | object) + sub-resource."""

from __future__ import annotations

# operations an anonymous caller may run on a public-read / public-read-write bucket
PUBLIC_READ_OPS = frozenset(
    {
        "GetObject",
        "HeadObject",
        "GetObjectMeta",
        "ListObjects",
        "ListObjectsV2",
        "GetSymlink",
        "GetObjectTagging",
    }
)
PUBLIC_WRITE_OPS = frozenset(
    {
        "PutObject",
        "CopyObject",
        "DeleteObject",
        "DeleteMultipleObjects",
        "InitiateMultipartUpload",
        "UploadPart",
        "UploadPartCopy",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
        "ListParts",
        "ListMultipartUploads",
        "AppendObject",
        "PostObject",
        "RestoreObject",
        "PutSymlink",
        "PutObjectTagging",
        "DeleteObjectTagging",
    }
)


def operation(method: str, bucket: str, key: str, query: dict, headers: dict) -> str:
    if not bucket:
        return "ListBuckets" if method == "GET" else "Unknown"
    if not key:
        return _bucket_op(method, query)
    return _object_op(method, query, headers)


_INVENTORY_OPS = {"PUT": "PutBucketInventory", "DELETE": "DeleteBucketInventory"}


def _bucket_op(method: str, q: dict) -> str:
    if "inventory" in q:
        if method == "GET":
            return "GetBucketInventory" if "inventoryId" in q else "ListBucketInventory"
        return _INVENTORY_OPS.get(method, "Unknown")
    if method == "GET":
        if "acl" in q:
            return "GetBucketAcl"
        if "versioning" in q:
            return "GetBucketVersioning"
        if "versions" in q:
            return "ListObjectVersions"
        if "location" in q:
            return "GetBucketLocation"
        if "bucketInfo" in q:
            return "GetBucketInfo"
        if "stat" in q:
            return "GetBucketStat"
        if "uploads" in q:
            return "ListMultipartUploads"
        if q.get("list-type") == "2":
            return "ListObjectsV2"
        return "ListObjects"
    if method == "PUT":
        if "versioning" in q:
            return "PutBucketVersioning"
        return "PutBucketAcl" if "acl" in q else "PutBucket"
    if method == "DELETE":
        return "DeleteBucket"
    if method == "POST":
        return "DeleteMultipleObjects" if "delete" in q else "PostObject"
    if method == "HEAD":
        return "HeadBucket"
    return "Unknown"


def _object_op(method: str, q: dict, h: dict) -> str:
    if method == "GET":
        if "uploadId" in q:
            return "ListParts"
        if "acl" in q:
            return "GetObjectAcl"
        if "tagging" in q:
            return "GetObjectTagging"
        if "symlink" in q:
            return "GetSymlink"
        if "objectMeta" in q:
            return "GetObjectMeta"
        return "GetObject"
    if method == "HEAD":
        return "GetObjectMeta" if "objectMeta" in q else "HeadObject"
    if method == "PUT":
        if "uploadId" in q and "partNumber" in q:
            return "UploadPartCopy" if "x-oss-copy-source" in h else "UploadPart"
        if "acl" in q:
            return "PutObjectAcl"
        if "tagging" in q:
            return "PutObjectTagging"
        if "symlink" in q:
            return "PutSymlink"
        if "x-oss-copy-source" in h:
            return "CopyObject"
        return "PutObject"
    if method == "DELETE":
        if "tagging" in q:
            return "DeleteObjectTagging"
        return "AbortMultipartUpload" if "uploadId" in q else "DeleteObject"
    if method == "POST":
        if "uploads" in q:
            return "InitiateMultipartUpload"
        if "uploadId" in q:
            return "CompleteMultipartUpload"
        if "restore" in q:
            return "RestoreObject"
        if "append" in q:
            return "AppendObject"
        return "Unknown"
    return "Unknown"
