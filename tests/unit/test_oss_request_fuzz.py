"""Fuzz the OSS ASGI app's request parsing directly (no sockets): never a crash, always an answer."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from localcloud.oss.app import OssApp
from localcloud.oss.auth import Credentials
from localcloud.oss.service import OssConfig, OssService

_service = OssService(
    OssConfig(Path(tempfile.mkdtemp(prefix="oss-fuzz-")), Credentials("AK", "SK"))
)
_service.buckets.create("fuzz", "public-read-write", None)
_app = OssApp(_service)


def _call(method: str, raw_path: bytes, query: bytes, headers: list, body: bytes) -> list[dict]:
    sent: list[dict] = []
    chunks = [body[i : i + 7] for i in range(0, len(body), 7)] or [b""]

    async def receive():
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": raw_path.decode("latin-1"),
        "raw_path": raw_path,
        "query_string": query,
        "headers": headers,
        "client": ("127.0.0.1", 1),
    }
    asyncio.run(_app(scope, receive, send))
    return sent


_path = st.one_of(
    st.binary(max_size=40).map(lambda b: b"/" + b),
    st.text(max_size=30).map(lambda t: ("/fuzz/" + t).encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [b"/", b"/fuzz", b"/fuzz/", b"//", b"/fuzz//x", b"/fuzz/%", b"/fuzz/%zz", b"/fuzz/%FF"]
    ),
)
_query = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [
            b"uploads",
            b"uploadId=x&partNumber=1",
            b"delete",
            b"restore",
            b"list-type=2&max-keys=-1",
            b"max-keys=99999",
            b"continuation-token=%%%",
            b"append&position=abc",
            b"acl",
            b"encoding-type=zip",
        ]
    ),
)
_header_names = st.sampled_from(
    [
        b"content-length",
        b"content-md5",
        b"range",
        b"x-oss-copy-source",
        b"x-oss-copy-source-range",
        b"x-oss-storage-class",
        b"authorization",
        b"content-type",
        b"x-oss-metadata-directive",
        b"if-match",
        b"x-oss-complete-all",
        b"x-oss-meta-a",
        b"date",
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS"]),
    raw_path=_path,
    query=_query,
    headers=st.lists(st.tuples(_header_names, st.binary(max_size=30)), max_size=4),
    body=st.binary(max_size=60),
)
def test_any_request_gets_a_well_formed_answer_never_a_crash(
    method, raw_path, query, headers, body
):
    sent = _call(method, raw_path, query, headers, body)
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] < 500, sent
    names = [k for k, _ in start["headers"]]
    assert b"x-oss-request-id" in names


def test_put_then_get_through_the_asgi_callable():
    sent = _call("PUT", b"/fuzz/direct", b"", [(b"content-length", b"5")], b"hello")
    assert sent[0]["status"] == 200
    sent = _call("GET", b"/fuzz/direct", b"", [], b"")
    assert sent[0]["status"] == 200
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"hello"


@settings(max_examples=200, deadline=None)
@given(
    digits=st.text(alphabet="0123²³¹٣߀໑-", min_size=1, max_size=4),
    target=st.sampled_from(
        [
            ("PUT", b"/fuzz/k", "uploadId=x&partNumber={}", []),
            ("GET", b"/fuzz", "max-keys={}", []),
            ("GET", b"/fuzz", "list-type=2&max-keys={}", []),
            ("POST", b"/fuzz/k", "append&position={}", []),
            ("GET", b"/fuzz/k", "", [(b"range", "bytes={}-{}")]),
            ("GET", b"/fuzz/k", "OSSAccessKeyId=AK&Signature=x&Expires={}", []),
        ]
    ),
)
def test_non_ascii_digits_in_numbers_are_client_errors(digits, target):
    method, path, query, headers = target
    query_bytes = query.format(digits).encode()
    hdrs = [(k, v.format(digits, digits).encode()) for k, v in headers]
    sent = _call(method, path, query_bytes, hdrs, b"")
    assert sent[0]["status"] < 500, sent


_weird = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "99999999999999999999",
            "1e3",
            "%",
            "%%",
            "/",
            "//",
            "\\",
            "a/b",
            "中",
            "²",
            "\t",
            "true",
            "yes",
            "null",
            "bytes=0-",
            "bytes=-5",
            "/fuzz/",
            "/fuzz/k",
        ]
    ),
    st.text(max_size=8),
)
_xml = st.one_of(
    st.sampled_from(
        [
            "<Delete><Object><Key>{}</Key></Object></Delete>",
            "<Delete><Quiet>{}</Quiet><Object><Key>k</Key></Object></Delete>",
            "<CompleteMultipartUpload><Part><PartNumber>{}</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
            "<RestoreRequest><Days>{}</Days><JobParameters><Tier>{}</Tier></JobParameters></RestoreRequest>",
            "<CreateBucketConfiguration><StorageClass>{}</StorageClass></CreateBucketConfiguration>",
        ]
    ),
    st.text(max_size=30),
)
_templates = st.sampled_from(
    [
        ("PUT", b"/fuzz/k", "uploadId={}&partNumber={}", b"x-oss-copy-source"),
        ("PUT", b"/fuzz/k2", "", b"x-oss-copy-source"),
        ("PUT", b"/fuzz/k3", "", b"x-oss-storage-class"),
        ("PUT", b"/fuzz/k4", "", b"x-oss-metadata-directive"),
        ("PUT", b"/fuzz/k5", "uploadId={}&partNumber=1", b"x-oss-copy-source-range"),
        ("POST", b"/fuzz", "delete", b"content-md5"),
        ("POST", b"/fuzz/k", "uploadId={}", b"x-oss-complete-all"),
        ("POST", b"/fuzz/k", "restore", b"content-type"),
        ("POST", b"/fuzz/k", "uploads", b"x-oss-storage-class"),
        ("GET", b"/fuzz", "list-type=2&continuation-token={}&start-after={}", b"x"),
        ("GET", b"/fuzz", "prefix={}&delimiter={}&marker={}&encoding-type={}", b"x"),
        ("GET", b"/fuzz", "uploads&key-marker={}&upload-id-marker={}&max-uploads={}", b"x"),
        ("GET", b"/fuzz/k", "uploadId={}&part-number-marker={}&max-parts={}", b"x"),
        ("GET", b"/fuzz/k", "response-content-type={}", b"range"),
        ("PUT", b"/fuzz/k", "acl", b"x-oss-object-acl"),
        ("PUT", b"/fuzz", "acl", b"x-oss-acl"),
    ]
)


def _sign(method: str, raw_path: bytes, query: bytes, headers: list) -> list:
    """Authorization + Date as oss2 would send them for this request (key AK/SK)."""
    from urllib.parse import parse_qsl, unquote

    import oss2

    try:
        params = dict(parse_qsl(query.decode("ascii"), keep_blank_values=True, errors="strict"))
        path = unquote(raw_path.decode("ascii"), errors="strict")
        plain = {k.decode(): v.decode() for k, v in headers}
    except (UnicodeDecodeError, ValueError):
        return headers
    bucket, _, key = path[1:].partition("/")
    req = oss2.http.Request(method, "http://127.0.0.1" + path, params=params, headers=plain)
    oss2.Auth("AK", "SK")._sign_request(req, bucket, key)
    signed = [
        (b"date", req.headers["date"].encode()),
        (b"authorization", req.headers["authorization"].encode()),
    ]
    return headers + signed


@settings(max_examples=400, deadline=None)
@given(
    template=_templates,
    values=st.lists(_weird, min_size=4, max_size=4),
    header_value=_weird,
    xml=_xml,
    xml_values=st.lists(_weird, min_size=2, max_size=2),
    signed=st.booleans(),
)
def test_structured_requests_with_weird_values_are_never_a_500(
    template, values, header_value, xml, xml_values, signed
):
    from urllib.parse import quote

    method, path, query, header = template
    _service.multipart.initiate("fuzz", "k", "t", {}, "Standard")  # some upload ids exist
    query_bytes = query.format(*(quote(v, safe="") for v in values)).encode()
    body = xml.format(*xml_values).encode() if "{}" in xml else xml.encode()
    headers = [(header, header_value.encode())]
    if signed:
        headers = _sign(method, path, query_bytes, headers)
    sent = _call(method, path, query_bytes, headers, body)
    assert sent[0]["status"] < 500, (sent, method, path, query_bytes, header, header_value, body)
