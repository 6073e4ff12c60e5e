"""PutSymlink / GetSymlink on the wire (semantics in symlinks.py)."""

from __future__ import annotations

from urllib.parse import quote

from . import errors
from .service import OssService
from .symlinks import TARGET_HEADER, Symlinks
from .wire import OssRequest, Response
from .xmlwire import http_date


async def put_symlink(svc: OssService, req: OssRequest) -> Response:
    bucket = svc.buckets.get(req.bucket)
    rec = svc.symlinks.create(
        req.bucket, req.key, req.headers, bucket.storage_class, req.request_id
    )
    return Response(200, [(b"etag", f'"{rec.etag}"'.encode()), *svc.objects.version_headers(rec)])


async def get_symlink(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    rec = svc.objects.addressed(req.bucket, req.key, req.query)
    if rec.object_type != "Symlink":
        raise errors.NotSymlink(f"The object {rec.key!r} is not a symlink.", Key=rec.key)
    headers = [
        (TARGET_HEADER.encode(), quote(Symlinks.target_of(rec), safe="").encode()),
        (b"etag", f'"{rec.etag}"'.encode()),
        (b"last-modified", http_date(rec.last_modified).encode()),
        *[(k.encode(), v.encode()) for k, v in rec.meta.items() if k.startswith("x-oss-meta-")],
        *svc.objects.version_headers(rec),
    ]
    return Response(200, headers)


HANDLERS = {"PutSymlink": put_symlink, "GetSymlink": get_symlink}
