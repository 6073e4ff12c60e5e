"""HTTP plumbing for the raw ASGI app: the parsed request, response objects, body streaming."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl, unquote_to_bytes

from . import errors
from .checksums import BodyDigest
from .names import is_uint

SMALL_BODY = 1 << 20  # bodies up to this size are buffered and written with one write()
READ_CHUNK = 1 << 20


class OssRequest:
    """One OSS request: path-style bucket/key, decoded query, lower-case headers, body receiver."""

    __slots__ = (
        "method",
        "bucket",
        "key",
        "query",
        "headers",
        "receive",
        "request_id",
        "client",
        "server",
        "op",
        "authenticated",
        "_body_read",
        "damaged",
    )

    def __init__(self, scope: dict, receive: Callable, request_id: str):
        self.method: str = scope["method"]
        self.request_id = request_id
        self.receive = receive
        self.client = (scope.get("client") or ("127.0.0.1", 0))[0]
        host, port = scope.get("server") or ("127.0.0.1", 0)
        self.server = f"{host}:{port}"  # this listener: the endpoint localcloud reports for buckets
        self.op = "Unknown"
        self.authenticated = False
        self._body_read = False
        self.damaged = False  # an injected fault: the body's first byte arrives flipped
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            k = name.decode("latin-1")
            try:
                v = value.decode("utf-8")
            except UnicodeDecodeError:  # http.client sends str header values as latin-1
                v = value.decode("latin-1")
            headers[k] = f"{headers[k]},{v}" if k in headers else v
        self.headers = headers
        raw_path = scope.get("raw_path") or scope["path"].encode()
        try:
            path = unquote_to_bytes(raw_path.split(b"?", 1)[0]).decode("utf-8")
            qs = scope.get("query_string", b"").decode("ascii")
            self.query = dict(parse_qsl(qs, keep_blank_values=True, errors="strict"))
        except (UnicodeDecodeError, ValueError):
            self.bucket, self.key, self.query = "", "", {}
            raise errors.InvalidObjectName(
                "The request path or query is not valid UTF-8."
            ) from None
        bucket, _, key = path[1:].partition("/")
        self.bucket = bucket
        self.key = key

    def left_body_unread(self) -> bool:
        """A declared body the operation never read (e.g. a GET sent with Content-Length: 9)."""
        if self._body_read:
            return False
        value = self.headers.get("content-length", "0")
        return value != "0" or "transfer-encoding" in self.headers

    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        if value is None:
            return None
        if not is_uint(value):
            raise errors.InvalidArgument(f"Content-Length {value!r} is not a number.")
        return int(value)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The request body as it arrives; a client that disconnects early gets IncompleteBody."""
        if self._body_read:
            return
        self._body_read = True
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise errors.IncompleteBody()
            body = message.get("body", b"")
            if body and self.damaged:
                body, self.damaged = bytes([body[0] ^ 0x01]) + body[1:], False
            if body:
                yield body
            if not message.get("more_body", False):
                return

    async def read_body(self, limit: int) -> bytes:
        """A small body (XML); larger than limit is 400 before it is all read."""
        parts, size = [], 0
        async for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                raise errors.InvalidArgument(f"The request body is larger than {limit} bytes.")
            parts.append(chunk)
        return b"".join(parts)

    async def body_to_file(
        self, temp: Path, max_bytes: int, inline_max: int = 0
    ) -> tuple[BodyDigest, bytes | None]:
        """Stream the body into temp while hashing; holds at most about 2 MB of it.

        Up to SMALL_BODY the body is buffered and hashed on the loop. Past it, MD5, CRC-64
        and the file writes run in an intake thread one batch behind the loop (hashlib and
        os.write release the GIL), so a large upload no longer stalls every other request.
        With inline_max > 0, a body of at most inline_max bytes is returned as bytes instead
        (temp is not created); with 0 the body always lands in temp, even when empty."""
        expected = self.content_length()
        if expected is not None and expected > max_bytes:
            raise errors.EntityTooLarge(MaxSizeAllowed=str(max_bytes), ProposedSize=str(expected))
        digest = BodyDigest()
        buffered: list[bytes] = []
        received = batch = 0  # bytes of the body so far, and of those in buffered
        spool = None
        try:
            async for chunk in self.chunks():
                received += len(chunk)
                if received > max_bytes:
                    raise errors.EntityTooLarge(MaxSizeAllowed=str(max_bytes))
                if spool is None and received <= SMALL_BODY:
                    digest.update(chunk)
                    buffered.append(chunk)
                    continue
                if spool is None:
                    spool = _Spool(temp, digest, b"".join(buffered))
                    buffered, batch = [], 0
                buffered.append(chunk)
                batch += len(chunk)
                if batch >= READ_CHUNK:
                    await spool.add(b"".join(buffered))
                    buffered, batch = [], 0
            if expected is not None and received != expected:
                raise errors.IncompleteBody(
                    f"Received {received} bytes but Content-Length said {expected}."
                )
            data = b"".join(buffered)
            if spool is not None:
                await spool.add(data)
                await spool.close()
                return digest, None
            if inline_max and digest.size <= inline_max:
                return digest, data
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
        except BaseException:
            if spool is not None:
                spool.abandon()
            temp.unlink(missing_ok=True)
            raise
        return digest, None


# hashing and writing large bodies: a few threads serve every concurrent upload
_INTAKE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="oss-intake")


class _Spool:
    """A large body's temp file, hashed and written batch by batch in an intake thread.

    One batch at a time is in the thread (the digest sees the bytes in order) while the
    loop receives the next; ``add`` waits for the previous batch first."""

    __slots__ = ("fd", "digest", "pending")

    def __init__(self, temp: Path, digest: BodyDigest, head: bytes):
        self.fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self.digest = digest  # already holds head's hashes: only its bytes are written
        self.pending: Future = _INTAKE.submit(_write_all, self.fd, head)

    def _take(self, batch: bytes) -> None:
        self.digest.update(batch)
        _write_all(self.fd, batch)

    async def add(self, batch: bytes) -> None:
        await asyncio.wrap_future(self.pending)
        self.pending = _INTAKE.submit(self._take, batch)

    async def close(self) -> None:
        try:
            await asyncio.wrap_future(self.pending)
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Close the file once the thread is done with it (a cancelled request, an error)."""
        if self.fd < 0:
            return
        try:
            self.pending.result()  # at most one batch: never close an fd a thread still writes
        except Exception:  # the request is failing already; only the fd matters here
            pass
        os.close(self.fd)
        self.fd = -1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Response:
    __slots__ = ("status", "headers", "body", "stream", "length")

    def __init__(
        self,
        status: int = 200,
        headers: list | None = None,
        body: bytes = b"",
        stream: FileBody | None = None,
    ):
        self.status = status
        self.headers = headers if headers is not None else []
        self.body = body
        self.stream = stream
        self.length = len(body) if stream is None else stream.length


def xml_response(body: bytes, status: int = 200, headers: list | None = None) -> Response:
    h = headers or []
    h.append((b"content-type", b"application/xml"))
    return Response(status, h, body)


class FileBody:
    """A byte range of a data file, opened now (a concurrent overwrite or delete cannot pull the
    file away) and read chunk by chunk while sending; close() is idempotent."""

    __slots__ = ("fd", "start", "length")

    def __init__(self, path: Path, start: int, length: int):
        self.fd = os.open(path, os.O_RDONLY)
        self.start = start
        self.length = length

    async def chunks(self) -> AsyncIterator[bytes]:
        pos, left = self.start, self.length
        while left > 0:
            chunk = os.pread(self.fd, min(READ_CHUNK, left), pos)
            if not chunk:
                raise errors.InternalError("The object's data file is shorter than its size.")
            pos += len(chunk)
            left -= len(chunk)
            yield chunk

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
