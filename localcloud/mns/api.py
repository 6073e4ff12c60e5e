"""The MNS data-plane HTTP API (2015-06-06, XML) over MnsService.

Routing and wire format only. Every answer carries `x-mns-request-id`; errors are MNS
XML. Long polls are awaited on the event loop, so one waiting client blocks nobody.
"""

from __future__ import annotations

import logging
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import auth, xmlwire
from .errors import (
    InternalError,
    InvalidArgument,
    InvalidQueryString,
    MessageNotExist,
    MissingReceiptHandle,
    MissingVisibilityTimeout,
    MnsError,
)
from .model import QueueAttributes, check_range
from .service import MnsService

log = logging.getLogger("localcloud.mns.api")
XML = "text/xml;charset=utf-8"


def _request_id() -> str:
    return uuid.uuid4().hex.upper()[:24]


class MnsApi:
    def __init__(
        self, service: MnsService, credentials: dict, verify_signatures: bool = True, ram=None
    ):
        self.service = service
        self.credentials = credentials
        self.verify_signatures = verify_signatures
        self.ram = ram  # localcloud's RamService: role (STS) credentials, authorized per request

    async def dispatch(self, request: Request, handler) -> Response:
        request_id = _request_id()
        host = request.headers.get("host", "127.0.0.1")
        try:
            body = await request.body()
            if self.verify_signatures:
                raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
                query = request.scope.get("query_string", b"").decode("latin-1")
                resource = f"{raw_path}?{query}" if query else raw_path
                session = self._role_session(request)
                credentials = session.credentials() if session else self.credentials
                auth.verify(request.method, resource, request.headers, body, credentials)
                if session is not None:
                    self._authorize(session, request, raw_path, body)
            response = await handler(request, body)
        except MnsError as exc:
            response = Response(
                xmlwire.error(exc.code, exc.message, request_id, f"http://{host}"),
                status_code=exc.status,
                media_type=XML,
            )
        except Exception:  # a bug answers 500 InternalError, never a dropped connection
            log.exception("MNS request %s %s failed", request.method, request.url.path)
            exc = InternalError("Internal error; see the localcloud log.")
            response = Response(
                xmlwire.error(exc.code, exc.message, request_id, f"http://{host}"),
                status_code=500,
                media_type=XML,
            )
        response.headers["x-mns-request-id"] = request_id
        response.headers["x-mns-version"] = "2015-06-06"
        return response

    def _role_session(self, request: Request):
        if self.ram is None:
            return None
        from localcloud.ram import mns_access

        return mns_access.session_of(self.ram.sessions, request.headers)

    def _authorize(self, session, request: Request, path: str, body: bytes) -> None:
        from localcloud.ram import mns_access

        service = self.service
        needs = mns_access.required(
            request.method,
            path,
            dict(request.query_params),
            body,
            service.region,
            service.account_id,
        )
        mns_access.authorize(self.ram.sessions, session, needs)

    def _queue_url(self, request: Request, name: str) -> str:
        return f"http://{request.headers.get('host', '127.0.0.1')}/queues/{name}"

    # queues -------------------------------------------------------------------
    async def put_queue(self, request: Request, body: bytes) -> Response:
        name = request.path_params["queue"]
        elements = xmlwire.parse_queue_attributes(body)
        if request.query_params.get("metaoverride") == "true":
            self.service.set_queue_attributes(name, elements)
            return Response(status_code=204)
        created = self.service.create_queue(name, QueueAttributes.from_elements(elements))
        headers = {"Location": self._queue_url(request, name)}
        return Response(status_code=201 if created else 204, headers=headers)

    async def get_queue(self, request: Request, body: bytes) -> Response:
        info = self.service.get_queue(request.path_params["queue"])
        return Response(xmlwire.queue_attributes(info), media_type=XML)

    async def delete_queue(self, request: Request, body: bytes) -> Response:
        self.service.delete_queue(request.path_params["queue"])
        return Response(status_code=204)

    async def list_queues(self, request: Request, body: bytes) -> Response:
        h = request.headers
        limit = h.get("x-mns-ret-number", "1000")
        names, marker = self.service.list_queues(
            h.get("x-mns-prefix", ""), h.get("x-mns-marker", ""), limit
        )
        with_meta = h.get("x-mns-with-meta", "").lower() == "true"
        items = [
            (self._queue_url(request, n), self.service.get_queue(n) if with_meta else None)
            for n in names
        ]
        return Response(xmlwire.queue_list(items, marker), media_type=XML)

    # messages -----------------------------------------------------------------
    async def send(self, request: Request, body: bytes) -> Response:
        queue = request.path_params["queue"]
        if (
            body.lstrip().startswith(b"<?xml")
            and b"<Messages" in body[:300]
            or body.lstrip().startswith(b"<Messages")
        ):
            results = self.service.send_messages(queue, xmlwire.parse_messages(body))
            return Response(
                xmlwire.sent_batch([(r.message_id, r.body_md5) for r in results]),
                status_code=201,
                media_type=XML,
            )
        text, delay, priority = xmlwire.parse_message(body)
        result = self.service.send_messages(queue, [(text, delay, priority)])[0]
        return Response(
            xmlwire.sent(result.message_id, result.body_md5), status_code=201, media_type=XML
        )

    async def receive(self, request: Request, body: bytes) -> Response:
        queue = request.path_params["queue"]
        q = request.query_params
        batch = "numOfMessages" in q
        count = check_range("numOfMessages", q.get("numOfMessages", "1"), 1, 16)
        if q.get("peekonly") == "true":
            messages = self.service.peek(queue, count)
            if not messages:
                raise MessageNotExist()
            if batch:
                return Response(xmlwire.received_batch(messages, False), media_type=XML)
            return Response(xmlwire.received(messages[0], False), media_type=XML)
        wait = q.get("waitseconds")
        wait_seconds = None if wait is None else check_range("waitseconds", wait, 0, 30)
        messages = await self.service.receive_async(queue, count, wait_seconds)
        if not messages:
            raise MessageNotExist()
        if batch:
            return Response(xmlwire.received_batch(messages), media_type=XML)
        return Response(xmlwire.received(messages[0]), media_type=XML)

    async def delete(self, request: Request, body: bytes) -> Response:
        queue = request.path_params["queue"]
        handle = request.query_params.get("ReceiptHandle")
        if handle is not None:
            if not handle:
                raise MissingReceiptHandle("ReceiptHandle is required.")
            self.service.delete_message(queue, handle)
            return Response(status_code=204)
        if not body.strip():
            raise MissingReceiptHandle("ReceiptHandle is required.")
        errors = self.service.delete_messages(queue, xmlwire.parse_receipt_handles(body))
        if not errors:
            return Response(status_code=204)
        rendered = [(h, e.code, e.message) for h, e in errors]
        return Response(xmlwire.batch_delete_errors(rendered), status_code=404, media_type=XML)

    async def change_visibility(self, request: Request, body: bytes) -> Response:
        q = request.query_params
        if not q.get("ReceiptHandle"):
            raise MissingReceiptHandle("ReceiptHandle is required.")
        if q.get("VisibilityTimeout") in (None, ""):
            raise MissingVisibilityTimeout("VisibilityTimeout is required.")
        handle, visible_at = self.service.change_visibility(
            request.path_params["queue"], q["ReceiptHandle"], q["VisibilityTimeout"]
        )
        return Response(xmlwire.visibility_changed(handle, visible_at), media_type=XML)

    async def unsupported(self, request: Request, body: bytes) -> Response:
        raise InvalidQueryString(
            f"Http request URL {request.method} {request.url.path} is not supported locally "
            "(queues only: no topics or account attributes)"
        )


def build_app(
    service: MnsService, credentials: dict, verify_signatures: bool = True, ram=None
) -> Starlette:
    api = MnsApi(service, credentials, verify_signatures, ram)

    def route(path: str, handler, methods: list[str]) -> Route:
        async def endpoint(request: Request) -> Response:
            return await api.dispatch(request, handler)

        return Route(path, endpoint, methods=methods)

    async def fallback(request: Request) -> Response:
        return await api.dispatch(request, api.unsupported)

    app = Starlette(
        routes=[
            route("/queues", api.list_queues, ["GET"]),
            route("/queues/{queue}", api.put_queue, ["PUT"]),
            route("/queues/{queue}", api.get_queue, ["GET"]),
            route("/queues/{queue}", api.delete_queue, ["DELETE"]),
            route("/queues/{queue}/messages", api.send, ["POST"]),
            route("/queues/{queue}/messages", api.receive, ["GET"]),
            route("/queues/{queue}/messages", api.delete, ["DELETE"]),
            route("/queues/{queue}/messages", api.change_visibility, ["PUT"]),
            Route("/{path:path}", fallback, methods=["GET", "POST", "PUT", "DELETE", "HEAD"]),
        ]
    )
    app.state.mns_api = api
    return app


__all__ = ["build_app", "MnsApi", "InvalidArgument"]
