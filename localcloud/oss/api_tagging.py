"""Object tagging on the wire: Put/Get/DeleteObjectTagging (semantics in tagging.py)."""

from __future__ import annotations

from . import tagging
from .service import OssService
from .wire import OssRequest, Response, xml_response
from .xmlwire import document


async def put_object_tagging(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    rec = svc.objects.addressed(req.bucket, req.key, req.query)
    tags = tagging.from_xml(await req.read_body(64 << 10))
    rec.meta = tagging.store(rec.meta, tags)
    svc.storage.update_meta(rec)
    return Response(200, svc.objects.version_headers(rec))


async def get_object_tagging(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    rec = svc.objects.addressed(req.bucket, req.key, req.query)
    body = document("Tagging", tagging.to_xml_body(tagging.of(rec.meta)))
    return xml_response(body, headers=svc.objects.version_headers(rec))


async def delete_object_tagging(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    rec = svc.objects.addressed(req.bucket, req.key, req.query)
    rec.meta = tagging.store(rec.meta, [])
    svc.storage.update_meta(rec)
    return Response(204, svc.objects.version_headers(rec))


HANDLERS = {
    "PutObjectTagging": put_object_tagging,
    "GetObjectTagging": get_object_tagging,
    "DeleteObjectTagging": delete_object_tagging,
}
