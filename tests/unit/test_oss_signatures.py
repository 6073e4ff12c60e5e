"""Signature verification against oss2's own signers as the oracle (no HTTP)."""

from __future__ import annotations

import time

import oss2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localcloud.oss import errors
from localcloud.oss.auth import Authenticator, Credentials

AK, SK, TOKEN = "AKID", "SECRET", "TOKEN"
CREDS = Credentials(AK, SK, TOKEN, "cn-hangzhou")


def _signed(auth, method, bucket, key, params=None, headers=None, region="cn-hangzhou"):
    url = f"http://127.0.0.1/{bucket}/{key}"
    req = oss2.http.Request(
        method,
        url,
        params=dict(params or {}),
        headers=dict(headers or {}),
        region=region,
        product="oss",
    )
    auth._sign_request(req, bucket, key)
    hdrs = {k.lower(): v for k, v in req.headers.items() if v is not None}
    return req.params, hdrs


def _verify(method, bucket, key, params, headers, creds=CREDS):
    return Authenticator(creds).authenticate(method, bucket, key, params, headers)


_key = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30
)
_params = st.dictionaries(
    st.sampled_from(
        [
            "acl",
            "uploads",
            "uploadId",
            "partNumber",
            "prefix",
            "marker",
            "continuation-token",
            "x-oss-process",
            "restore",
        ]
    ),
    st.text(alphabet="abc /+%=&中", max_size=8),
    max_size=3,
)
_headers = st.dictionaries(
    st.sampled_from(
        ["x-oss-meta-a", "x-oss-storage-class", "content-type", "content-md5", "x-oss-copy-source"]
    ),
    st.text(alphabet="abcXYZ0123/+=", min_size=1, max_size=12),
    max_size=3,
)


@settings(max_examples=80, deadline=None)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]),
    key=_key,
    params=_params,
    headers=_headers,
)
def test_v1_requests_signed_by_oss2_verify(method, key, params, headers):
    params, hdrs = _signed(oss2.Auth(AK, SK), method, "bkt", key, params, headers)
    assert _verify(method, "bkt", key, params, hdrs) is True


@settings(max_examples=80, deadline=None)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]),
    key=_key,
    params=_params,
    headers=_headers,
)
def test_v4_requests_signed_by_oss2_verify(method, key, params, headers):
    params, hdrs = _signed(oss2.AuthV4(AK, SK), method, "bkt", key, params, headers)
    assert _verify(method, "bkt", key, params, hdrs) is True


def test_tampered_v1_and_v4_requests_are_signature_does_not_match():
    for auth in (oss2.Auth(AK, SK), oss2.AuthV4(AK, SK)):
        params, hdrs = _signed(auth, "PUT", "bkt", "key", headers={"x-oss-meta-a": "1"})
        hdrs["x-oss-meta-a"] = "2"
        with pytest.raises(errors.SignatureDoesNotMatch):
            _verify("PUT", "bkt", "key", params, hdrs)
        with pytest.raises(errors.SignatureDoesNotMatch):
            _verify("PUT", "bkt", "other-key", *_signed(auth, "PUT", "bkt", "key"))


def test_unknown_key_and_wrong_token():
    params, hdrs = _signed(oss2.Auth("OTHER", SK), "GET", "bkt", "k")
    with pytest.raises(errors.InvalidAccessKeyId):
        _verify("GET", "bkt", "k", params, hdrs)
    params, hdrs = _signed(oss2.StsAuth(AK, SK, "forged"), "GET", "bkt", "k")
    with pytest.raises(errors.InvalidSecurityToken):
        _verify("GET", "bkt", "k", params, hdrs)
    params, hdrs = _signed(oss2.StsAuth(AK, SK, TOKEN), "GET", "bkt", "k")
    assert _verify("GET", "bkt", "k", params, hdrs)


def test_stale_date_is_request_time_too_skewed():
    params, hdrs = _signed(oss2.Auth(AK, SK), "GET", "bkt", "k")
    auth = Authenticator(CREDS, clock=lambda: time.time() + 3600)
    with pytest.raises(errors.RequestTimeTooSkewed):
        auth.authenticate("GET", "bkt", "k", params, hdrs)


def test_presigned_v1_url_verifies_and_expires():
    bucket = oss2.Bucket(oss2.Auth(AK, SK), "http://127.0.0.1:1", "bkt")
    url = bucket.sign_url("GET", "dir/file 1.txt", 60)
    from urllib.parse import parse_qsl, urlparse

    query = dict(parse_qsl(urlparse(url).query, keep_blank_values=True))
    assert _verify("GET", "bkt", "dir/file 1.txt", query, {}) is True
    late = Authenticator(CREDS, clock=lambda: time.time() + 120)
    with pytest.raises(errors.AccessDenied):
        late.authenticate("GET", "bkt", "dir/file 1.txt", query, {})


def test_anonymous_request_is_not_authenticated():
    assert _verify("GET", "bkt", "k", {}, {}) is False
