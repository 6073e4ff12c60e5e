"""The OSS REST listener: a raw ASGI callable (no framework on the hot path).

Per request: parse, name the operation, count it, apply injected faults, authenticate and
authorize, run the handler, and send the answer (streamed for object bodies).
"""

from __future__ import annotations

import asyncio
import base64
import logging

from . import (
    api_buckets,
    api_extra,
    api_inventory,
    api_listing,
    api_multipart,
    api_objects,
    api_post,
    api_symlink,
    api_tagging,
    api_versioning,
    errors,
    routing,
)
from .service import OssService
from .wire import OssRequest, Response
from .xmlwire import render_error

log = logging.getLogger("localcloud.oss")

HANDLERS = {
    **api_buckets.HANDLERS,
    **api_objects.HANDLERS,
    **api_listing.HANDLERS,
    **api_multipart.HANDLERS,
    **api_post.HANDLERS,
    **api_extra.HANDLERS,
    **api_tagging.HANDLERS,
    **api_symlink.HANDLERS,
    **api_versioning.HANDLERS,
    **api_inventory.HANDLERS,
}
BUCKET_ADMIN_OPS = frozenset(
    {
        "PutBucket",
        "DeleteBucket",
        "PutBucketAcl",
        "GetBucketAcl",
        "GetBucketInfo",
        "GetBucketLocation",
        "GetBucketStat",
        "ListBuckets",
        "HeadBucket",
        "PutBucketVersioning",
        "GetBucketVersioning",
        "PutBucketInventory",
        "GetBucketInventory",
        "ListBucketInventory",
        "DeleteBucketInventory",
    }
)


class _QuietAbort(logging.Filter):
    # an injected connection reset ends the response early on purpose: not an application error
    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietAbort())


def _abort_connection(receive) -> bool:
    """Drop the TCP connection under this request (uvicorn's cycle holds the transport)."""
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is None:
        return False
    transport.abort()
    return True


class OssApp:
    def __init__(self, service: OssService):
        self.svc = service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                while (await receive())["type"] != "lifespan.shutdown":
                    await send({"type": "lifespan.startup.complete"})
                await send({"type": "lifespan.shutdown.complete"})
            return
        svc = self.svc
        request_id = svc.next_request_id()
        failure = None
        req = None
        try:
            req = OssRequest(scope, receive, request_id)
            op = req.op = routing.operation(req.method, req.bucket, req.key, req.query, req.headers)
            svc.counters[op] += 1
            decision = svc.faults.decide(op)
            if decision.delay_s:
                await asyncio.sleep(decision.delay_s)
            failure = decision.failure
            if failure == "slowdown":
                raise errors.SlowDown()
            req.damaged = failure == "damage"
            if failure == "internal":
                raise errors.InternalError("Injected fault (localcloud --fault-rate).")
            self._authorize(req, op)
            handler = HANDLERS.get(op)
            if handler is None and op == "Unknown":
                raise errors.MethodNotAllowed(
                    f"{scope['method']} is not allowed on this resource.", Method=scope["method"]
                )
            if handler is None:
                raise errors.NotImplementedOp(
                    f"Operation {op} ({scope['method']} {scope['path']}) is not supported by localcloud."
                )
            response = await handler(svc, req)
        except errors.OssError as exc:
            response = self._error(exc, request_id, scope["method"])
        except Exception:
            log.exception("OSS handler crashed on %s %s", scope["method"], scope.get("path"))
            response = self._error(errors.InternalError(), request_id, scope["method"])
        if req is not None and req.left_body_unread():
            # as OSS's front end does: the unread body would be taken for the next request
            response.headers.append((b"connection", b"close"))
        await self._send(
            send, receive, response, request_id, scope["method"] == "HEAD", failure == "reset"
        )

    def _authorize(self, req: OssRequest, op: str) -> None:
        svc = self.svc
        if op == "PostObject" and "authorization" not in req.headers:
            return  # a form upload carries its signature in the form (checked by api_post)
        signed = svc.auth.authenticate(req.method, req.bucket, req.key, req.query, req.headers)
        req.authenticated = bool(signed)
        if signed:
            if signed is not True:  # a role's STS credentials: RAM decides (localcloud/ram)
                svc.auth.authorize(req, op, signed)
            return
        if req.bucket and op not in BUCKET_ADMIN_OPS:
            bucket = svc.buckets.get(req.bucket)
            if bucket.acl == "public-read-write" and (
                op in routing.PUBLIC_READ_OPS or op in routing.PUBLIC_WRITE_OPS
            ):
                return
            if bucket.acl == "public-read" and op in routing.PUBLIC_READ_OPS:
                return
        raise errors.AccessDenied(
            "AccessDenied: anonymous access is not allowed on this bucket; sign the request."
        )

    def _error(self, exc: errors.OssError, request_id: str, method: str) -> Response:
        body = render_error(exc, request_id, self.svc.host_id)
        ec = getattr(exc, "ec", None) or "0000-00000000"
        headers = [(b"content-type", b"application/xml"), (b"x-oss-ec", ec.encode())]
        headers.extend((k.encode(), v.encode()) for k, v in exc.headers.items())
        if method == "HEAD":
            # HEAD has no body: OSS puts the error document in x-oss-err (oss2 decodes it)
            headers.append((b"x-oss-err", base64.b64encode(body)))
        return Response(exc.status, headers, body)

    async def _send(
        self, send, receive, response: Response, request_id: str, head: bool, reset: bool
    ) -> None:
        headers = response.headers
        headers.append((b"x-oss-request-id", request_id.encode()))
        headers.append((b"server", b"AliyunOSS"))
        if response.status != 304 and (response.length is not None or response.stream is None):
            # an injected reset must leave the client short of bytes, even for an empty answer
            length = response.length or (64 if reset else 0)
            headers.append((b"content-length", str(length).encode()))
        stream = response.stream
        try:
            if reset and (stream is None or head) and _abort_connection(receive):
                return  # injected reset before any answer byte: the client sees a dropped connection
            await send(
                {"type": "http.response.start", "status": response.status, "headers": headers}
            )
            if head or response.status == 304:
                await send({"type": "http.response.body", "body": b""})
                return
            if reset:
                # injected reset mid-body: half the first chunk, then the connection is dropped
                body = response.body
                if stream is not None:
                    async for chunk in stream.chunks():
                        body = chunk
                        break
                await send(
                    {
                        "type": "http.response.body",
                        "body": body[: len(body) // 2],
                        "more_body": True,
                    }
                )
                _abort_connection(receive)
                return
            if stream is None:
                await send({"type": "http.response.body", "body": response.body})
                return
            cycle = getattr(receive, "__self__", None)  # uvicorn's request cycle
            async for chunk in stream.chunks():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                if getattr(cycle, "disconnected", False):
                    return  # client went away: stop reading the file
            await send({"type": "http.response.body", "body": b""})
        finally:
            if stream is not None:
                stream.close()
