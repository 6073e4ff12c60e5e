"""Every listener's HTTP protocol: uvicorn's httptools protocol with two limits it lacks.

- A request line + header set larger than `max_header_bytes` gets 431 and the connection
  is closed: at most one read chunk beyond the limit is ever buffered (httptools itself
  would gather a 64 MiB header value in memory).
- Headers must arrive within `header_timeout_s` of a request's first byte (or of the
  connection opening): a slow-loris client that trickles them gets 408 and is closed.

Once the headers are in, bodies and long polls (MNS waitseconds, FC invocations) are
not limited here.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

DEFAULT_MAX_HEADER_BYTES = 64 * 1024  # OSS: user metadata <= 8 KB; nginx's default is 4 x 8 KB
DEFAULT_HEADER_TIMEOUT_S = 10.0


LINGER_S = 2.0  # after an error reply, unread request bytes are discarded this long


def _reply(transport: asyncio.Transport, status: bytes, text: str) -> None:
    body = text.encode()
    transport.write(
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
    )


def guarded_protocol(max_header_bytes: int, header_timeout_s: float) -> type:
    """An HttpToolsProtocol subclass with these limits (uvicorn takes it as `http=`)."""

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._header_bytes = 0
            self._in_headers = True
            self._header_timer = self.loop.call_later(header_timeout_s, self._headers_too_slow)

        def data_received(self, data: bytes) -> None:
            if self._in_headers is None:  # refused: drop what the client still sends
                return
            if self._in_headers:
                if self._header_timer is None:  # first byte of the next request
                    self._header_timer = self.loop.call_later(
                        header_timeout_s, self._headers_too_slow
                    )
                room = max_header_bytes - self._header_bytes
                if len(data) > room:
                    # feed only up to the cap: the body may follow in the same chunk
                    self._header_bytes = max_header_bytes
                    super().data_received(data[:room])
                    if self._in_headers and self._header_bytes >= max_header_bytes:
                        self._refuse(
                            b"431 Request Header Fields Too Large",
                            f"request line and headers exceed {max_header_bytes} bytes",
                        )
                    elif not self.transport.is_closing():
                        self.data_received(data[room:])
                    return
                self._header_bytes += len(data)
            super().data_received(data)

        def _refuse(self, status: bytes, text: str) -> None:
            """Reply, stop reading the request and close once the client stops sending (lingering
            close: closing with unread bytes would reset the connection and lose the reply)."""
            self._stop_header_timer()
            self._in_headers = None
            _reply(self.transport, status, text)
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)

        def on_headers_complete(self) -> None:
            self._in_headers = False
            self._stop_header_timer()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_headers, self._header_bytes = True, 0  # the next request's headers

        def connection_lost(self, exc) -> None:
            self._stop_header_timer()
            super().connection_lost(exc)

        def _stop_header_timer(self) -> None:
            timer, self._header_timer = getattr(self, "_header_timer", None), None
            if timer is not None:
                timer.cancel()

        def eof_received(self) -> bool | None:
            if self._in_headers is None:
                self.transport.close()  # the client stopped sending after our refusal
            return super().eof_received()

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing() and self._in_headers:
                if self._header_bytes:
                    self._refuse(
                        b"408 Request Timeout",
                        f"request headers not complete within {header_timeout_s:g} s",
                    )
                else:  # an idle connection: just close it, as a keep-alive timeout does
                    self.transport.close()

    return GuardedHttpToolsProtocol
