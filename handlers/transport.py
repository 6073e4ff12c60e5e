"""A leaner HTTP transport for oss2: the same urllib3 calls requests makes, without requests.

oss2 builds, signs and parses every request itself and hands the wire work to
``Session.do_request``. Through requests that hand-off costs ~0.6 ms of CPU per
request (header merging, hooks, cookie jars, URL re-parsing) — more than half of
what a small CopyObject or PutObject costs the handler. This session makes the
call requests' HTTPAdapter would make (same pool sizes, no urllib3 retries or
redirects, streamed bodies, same Content-Length rules) and raises the same
exceptions, so oss2 and our retry policy see no difference.
Unlike requests (and urllib3's PoolManager), it sends the path as oss2 built it: the
keys ``.`` and ``..`` address themselves instead of the bucket.
See docs/decisions/lean-oss-transport.md.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

import oss2
import requests
import urllib3
from requests.utils import super_len
from urllib3.exceptions import DecodeError, HTTPError, ProtocolError, ReadTimeoutError

_CHUNK_SIZE = 8 * 1024  # oss2.http's read size
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


def encode_params(params) -> str:
    """requests' query encoding: None values dropped, lists repeated, ``quote_plus`` escaping."""
    if not params:
        return ""
    if isinstance(params, str | bytes):
        return params.decode() if isinstance(params, bytes) else params
    pairs = []
    for key, values in params.items() if hasattr(params, "items") else params:
        if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
            values = [values]
        for value in values:
            if value is not None:
                pairs.append(
                    (
                        key.encode("utf-8") if isinstance(key, str) else key,
                        value.encode("utf-8") if isinstance(value, str) else value,
                    )
                )
    return urlencode(pairs, doseq=True)


def request_url(url: str, params) -> str:
    query = encode_params(params)
    if not query:
        return url
    return f"{url}&{query}" if "?" in url else f"{url}?{query}"


@contextmanager
def _requests_errors():
    """requests' iter_content: urllib3 errors surface as the same requests exceptions."""
    try:
        yield
    except ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from exc


class LeanResponse(oss2.http.Response):
    """oss2's Response over a urllib3 response (oss2 only reads status, headers and the body)."""

    def __init__(self, raw: urllib3.HTTPResponse):
        # no super().__init__: it formats every header into a debug string per response
        self.response = raw
        self.status = raw.status
        self.headers = raw.headers  # case-insensitive already; a requests copy costs ~5% CPU
        self.request_id = self.headers.get("x-oss-request-id", "")
        self._all_read = False

    def _chunks(self, size: int):
        with _requests_errors():
            yield from self.response.stream(size, decode_content=True)

    def read(self, amt=None):
        if self._all_read:
            return b""
        if amt is None:
            self._all_read = True
            # one read call: the chunk generator costs ~4% of a small request's CPU
            with _requests_errors():
                return self.response.read(decode_content=True)
        chunk = next(self._chunks(amt), b"")
        if not chunk:
            self._all_read = True
        return chunk

    def __iter__(self):
        return self._chunks(_CHUNK_SIZE)


class LeanSession(oss2.Session):
    """An ``oss2.Session`` whose requests go straight to urllib3; proxied requests keep requests."""

    def __init__(self, pool_size: int = 10):
        super().__init__(pool_size=pool_size)
        self.pool_size = pool_size
        # one connection pool per scheme://host (a bucket's endpoint), kept for the session:
        # a PoolManager would re-parse every URL and look its pool up (~8% of a small request)
        self._pools: dict[str, urllib3.HTTPConnectionPool] = {}
        self._pools_lock = threading.Lock()
        # a proxy from the environment is requests' business (NO_PROXY, auth, netrc)
        self.direct = not any(os.environ.get(v) for v in PROXY_VARIABLES)
        if self.direct:
            # requests would re-read proxy variables and ~/.netrc per call for nothing
            self.session.trust_env = False

    def do_request(self, req, timeout):
        if req.proxies or not self.direct:
            if has_dot_segments(req.url):
                # requests would resolve them: the request would address the bucket, not the object
                raise oss2.exceptions.ClientError(
                    f"{req.url}: a key with '.' or '..' path segments cannot go through a "
                    "proxy (requests would rewrite the path); unset the proxy variables"
                )
            return super().do_request(req, timeout)
        # lower_items(): the generic items() view costs a lookup per header
        headers = {k: v for k, v in req.headers.lower_items() if v is not None}
        body = req.data
        chunked = False
        if body is None:
            if req.method not in ("GET", "HEAD"):
                headers["content-length"] = "0"
        elif "content-length" not in headers:
            length = super_len(body)
            if length or isinstance(body, bytes | bytearray | memoryview | str):
                headers["content-length"] = str(length)
            else:
                chunked = True
        if isinstance(timeout, tuple):
            connect, read = timeout
        else:
            connect = read = timeout
        origin, target = split_url(request_url(req.url, req.params))
        try:
            raw = self._pool_for(origin).urlopen(
                req.method,
                target,
                body=body,
                headers=headers,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
                retries=False,
                timeout=urllib3.Timeout(connect=connect, read=read),
                chunked=chunked,
            )
        except (HTTPError, OSError) as exc:
            raise oss2.exceptions.RequestError(requests.exceptions.ConnectionError(exc)) from exc
        return LeanResponse(raw)

    def _pool_for(self, origin: str) -> urllib3.HTTPConnectionPool:
        pool = self._pools.get(origin)
        if pool is None:
            with self._pools_lock:
                pool = self._pools.get(origin)
                if pool is None:
                    pool = urllib3.connection_from_url(
                        origin, maxsize=self.pool_size, block=False, retries=False
                    )
                    self._pools[origin] = pool
        return pool

    def connections_opened(self) -> int:
        """TCP connections these pools have opened so far (reuse shows as a small number)."""
        with self._pools_lock:
            return sum(pool.num_connections for pool in self._pools.values())


def has_dot_segments(url: str) -> bool:
    path = urlsplit(url).path
    return any(segment in (".", "..") for segment in path.split("/"))


def split_url(url: str) -> tuple[str, str]:
    """``scheme://host[:port]`` and the request target (path and query) of an absolute URL."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise oss2.exceptions.ClientError(f"not an absolute URL: {url!r}")
    target = url[len(parts.scheme) + 3 + len(parts.netloc) :].split("#", 1)[0]
    if not target.startswith("/"):
        target = "/" + target
    return f"{parts.scheme}://{parts.netloc}", target
