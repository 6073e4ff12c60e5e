"""GetObject with `Accept-Encoding: gzip`: OSS compresses common web text types of >= 1 KB.

https://www.alibabacloud.com/help/faq-detail/39645.html: the answer is chunked, carries
`Content-Encoding: gzip` and no ETag, Content-Length or Accept-Ranges.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

from .wire import FileBody

MIN_SIZE = 1024
COMPRESSIBLE_TYPES = frozenset(
    """text/cache-manifest text/xml text/css text/html text/plain application/javascript
    application/x-javascript application/rss+xml application/json text/json""".split()
)
DROPPED_HEADERS = frozenset({b"etag", b"content-length", b"accept-ranges", b"content-md5"})


def wants_gzip(headers: dict[str, str], content_type: str, size: int, ranged: bool) -> bool:
    """A whole-object GET OSS would compress (a ranged GET is answered as asked)."""
    accepted = {
        part.split(";", 1)[0].strip() for part in headers.get("accept-encoding", "").split(",")
    }
    base_type = content_type.split(";", 1)[0].strip().lower()
    return (
        "gzip" in accepted and not ranged and size >= MIN_SIZE and base_type in COMPRESSIBLE_TYPES
    )


class GzipBody:
    """The object's bytes gzip-compressed as they are sent; length None = chunked answer."""

    length = None

    def __init__(self, source: FileBody | None, data: bytes = b""):
        self.source = source
        self.data = data

    async def chunks(self) -> AsyncIterator[bytes]:
        packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip member
        if self.source is None:
            yield packer.compress(self.data) + packer.flush()
            return
        async for chunk in self.source.chunks():
            out = packer.compress(chunk)
            if out:
                yield out
        yield packer.flush()

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
