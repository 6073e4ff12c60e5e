"""handlers.transport: oss2 over urllib3 directly must behave exactly like oss2 over requests.

Every check here runs the same oss2 call through both sessions against localcloud (or
compares with what requests itself would put on the wire).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import socket
import uuid

import oss2
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from handlers.clients import put_verified
from handlers.retrying import RetryPolicy, is_transient
from handlers.transport import LeanSession, has_dot_segments, request_url, split_url

param_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
params = st.dictionaries(
    param_text.filter(bool), st.one_of(st.none(), param_text, st.integers(0, 10**6)), max_size=5
)


@settings(max_examples=300, deadline=None)
@given(key=param_text, params=params, slash_safe=st.booleans())
def test_query_string_is_the_one_requests_would_send(key, params, slash_safe):
    url = oss2.api._UrlMaker("http://127.0.0.1:9", False, True)("bkt", key, slash_safe=slash_safe)
    expected = requests.Request("GET", url, params=params).prepare().url
    # requests resolves dot segments; compare the query with that step applied to ours too
    assert parse_url(request_url(url, params)).url == expected


@settings(max_examples=300, deadline=None)
@given(
    key=param_text,
    params=params,
    host=st.sampled_from(["http://127.0.0.1:9", "https://bkt.oss-cn-hangzhou.aliyuncs.com"]),
)
def test_split_url_keeps_the_target_oss2_built(key, params, host):
    url = request_url(oss2.api._UrlMaker(host, False, True)("bkt", key), params)
    origin, target = split_url(url)
    assert origin == host.replace("https://", "https://bkt.") or origin == host
    # nothing resolved, dropped or added: the target is the rest of the URL as oss2 built it
    assert target.startswith("/") and origin + target == url


def test_keys_with_dot_segments_address_themselves(both):
    via_requests, lean = both
    for key in ("a/./b", "a/../b", ".", "x/.."):
        put_verified(lean, RetryPolicy(attempts=1), key, key.encode())
    assert sorted(o.key for o in oss2.ObjectIterator(lean)) == [".", "a/../b", "a/./b", "x/.."]
    assert lean.get_object("a/../b").read() == b"a/../b"
    with pytest.raises(oss2.exceptions.NoSuchKey):
        lean.get_object("b")  # the key was not resolved to another object


def test_a_proxy_refuses_keys_it_would_rewrite(monkeypatch, both):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    lean = oss2.Bucket(both[1].auth, both[1].endpoint, both[1].bucket_name, session=LeanSession(2))
    with pytest.raises(oss2.exceptions.ClientError, match=r"'\.\.' path segments"):
        lean.put_object("..", b"x")
    assert has_dot_segments("http://h/a/../b?x=..") and not has_dot_segments("http://h/a..b/.c")


@pytest.fixture
def both(localcloud, oss_auth):
    """The same fresh bucket seen through requests and through the lean session."""
    name = f"t-{uuid.uuid4().hex[:20]}"
    via_requests = oss2.Bucket(oss_auth, localcloud.oss_endpoint, name)
    via_requests.create_bucket()
    lean = oss2.Bucket(oss_auth, localcloud.oss_endpoint, name, session=LeanSession(4))
    return via_requests, lean


def test_objects_round_trip_identically(both):
    via_requests, lean = both
    headers = {"Content-Type": "text/x-demo", "x-oss-meta-owner": "platform"}
    lean.put_object("a/b c+d.txt", b"hello", headers=headers)
    via_requests.put_object("e.txt", b"hello", headers=headers)
    for key in ("a/b c+d.txt", "e.txt"):
        got = [b.get_object(key) for b in both]
        assert [g.read() for g in got] == [b"hello", b"hello"]
        assert {g.headers["content-type"] for g in got} == {"text/x-demo"}
        assert [g.headers["X-Oss-Meta-Owner"] for g in got] == ["platform", "platform"]
        assert all(g.request_id for g in got)
    assert lean.get_object("a/b c+d.txt", byte_range=(1, 3)).read() == b"ell"
    listed = [o.key for o in oss2.ObjectIterator(lean, prefix="a/")]
    assert listed == ["a/b c+d.txt"]


def test_stored_gzip_body_is_decoded_as_requests_does(both):
    via_requests, lean = both
    packed = gzip.compress(b"x" * 1000)
    lean.put_object("z.gz", packed, headers={"Content-Encoding": "gzip"})
    assert lean.get_object("z.gz").read() == via_requests.get_object("z.gz").read()


def test_file_bodies_multipart_and_copy(both, tmp_path):
    via_requests, lean = both
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789" * 1000)
    with open(path, "rb") as f:
        f.seek(5)  # oss2 sends from the current position: so must we
        lean.put_object("file", f)
    assert via_requests.get_object("file").read() == path.read_bytes()[5:]

    upload = lean.init_multipart_upload("mp").upload_id
    parts = [
        oss2.models.PartInfo(n, lean.upload_part("mp", upload, n, b"p" * 102_400).etag)
        for n in (1, 2)
    ]
    lean.complete_multipart_upload("mp", upload, parts)
    assert via_requests.head_object("mp").content_length == 204_800

    result = lean.copy_object(lean.bucket_name, "mp", "mp-copy")
    assert result.resp.read()  # CopyObject answers with an XML body
    assert via_requests.get_object("mp-copy").read() == b"p" * 204_800


def test_errors_are_the_same_oss2_exceptions(both):
    via_requests, lean = both
    for b in both:
        with pytest.raises(oss2.exceptions.NoSuchKey) as err:
            b.get_object("missing")
        assert err.value.request_id
        with pytest.raises(oss2.exceptions.NotFound):
            b.head_object("missing")


def test_content_md5_makes_oss_refuse_damaged_uploads(both):
    _, lean = both
    md5 = {"Content-MD5": base64.b64encode(hashlib.md5(b"data").digest()).decode()}
    lean.put_object("ok", b"data", headers=md5)
    with pytest.raises(oss2.exceptions.ServerError) as err:
        lean.put_object("bad", b"dat4", headers=md5)
    assert err.value.code == "InvalidDigest"
    with pytest.raises(oss2.exceptions.NoSuchKey):
        lean.get_object("bad")


def test_connection_refused_is_a_transient_request_error(oss_auth):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket closes
    lean = oss2.Bucket(oss_auth, f"http://127.0.0.1:{port}", "nobody", session=LeanSession(2))
    with pytest.raises(oss2.exceptions.RequestError) as err:
        lean.get_object("k")
    assert is_transient(err.value)


def test_proxy_in_environment_keeps_requests(monkeypatch, both):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    session = LeanSession(2)
    assert not session.direct
    assert session.session.trust_env  # requests applies the proxy and NO_PROXY rules
    monkeypatch.delenv("HTTPS_PROXY")
    assert LeanSession(2).direct


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# OSS refuses keys that start with "/" or a backslash; requests cannot address "." and ".."
@given(
    key=param_text.filter(lambda k: k not in ("", ".", "..") and not k.startswith(("/", "\\"))),
    body=st.binary(max_size=300),
)
def test_random_keys_and_bodies_store_the_same_object(both, key, body):
    via_requests, lean = both
    put_verified(lean, RetryPolicy(attempts=1), key, body)
    assert via_requests.get_object(key).read() == body
    assert lean.get_object(key).read() == body
    assert lean.head_object(key).content_length == len(body)
