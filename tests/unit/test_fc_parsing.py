"""Property tests for what the FC side parses: trigger configs, ARNs, ACS3 signatures."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers

from localcloud.fc import auth
from localcloud.fc.errors import FcError, InvalidArgument
from localcloud.fc.spec import OssTriggerConfig, parse_oss_source_arn

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_any_json_trigger_config_parses_or_is_invalid_argument(value):
    try:
        config = OssTriggerConfig.parse(json.dumps(value))
    except InvalidArgument:
        return
    assert config.events and all(e.startswith("oss:") for e in config.events)


@given(st.text(max_size=60))
def test_any_text_trigger_config_parses_or_is_invalid_argument(text):
    try:
        OssTriggerConfig.parse(text)
    except InvalidArgument:
        pass


@given(st.text(max_size=60))
def test_source_arn_parses_or_is_invalid_argument(arn):
    try:
        region, account, bucket = parse_oss_source_arn(arn)
    except InvalidArgument:
        return
    assert arn == f"acs:oss:{region}:{account}:{bucket}"


@given(st.text(alphabet=st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=80))
def test_any_authorization_header_is_an_auth_error_not_a_crash(value):
    headers = Headers({"authorization": value, "x-acs-date": "2020-01-01T00:00:00Z"})
    with pytest.raises(FcError):
        auth.verify(
            "GET",
            "/2023-03-30/functions",
            "",
            headers,
            b"",
            {"access_key_id": "ak", "access_key_secret": "sk", "security_token": ""},
        )


def _signed_headers(body: bytes, secret: str, query: str = "", token: str | None = None):
    import time as _time

    headers = {
        "host": "127.0.0.1:1",
        "x-acs-date": _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime()),
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "x-acs-version": "2023-03-30",
    }
    if token:
        headers["x-acs-security-token"] = token
    signed = sorted(headers)
    signature = auth.expected_signature(
        "POST",
        "/2023-03-30/functions",
        query,
        Headers(headers),
        signed,
        headers["x-acs-content-sha256"],
        secret,
    )
    headers["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential=ak,SignedHeaders={';'.join(signed)},Signature={signature}"
    )
    return Headers(headers)


CRED = {"access_key_id": "ak", "access_key_secret": "sk", "security_token": "tok"}


@settings(max_examples=50)
@given(
    st.binary(max_size=200),
    st.dictionaries(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6),
        st.text(max_size=10),
        max_size=3,
    ),
)
def test_a_correct_signature_verifies_and_any_body_change_breaks_it(body, params):
    from urllib.parse import urlencode

    query = urlencode(params)
    headers = _signed_headers(body, "sk", query)
    auth.verify("POST", "/2023-03-30/functions", query, headers, body, CRED)
    with pytest.raises(auth.SignatureNotMatch):
        auth.verify("POST", "/2023-03-30/functions", query, headers, body + b"x", CRED)


def test_a_stale_date_or_wrong_token_is_refused():
    headers = _signed_headers(b"", "sk", token="other")
    with pytest.raises(auth.InvalidSecurityToken):
        auth.verify("POST", "/2023-03-30/functions", "", headers, b"", CRED)
    headers = _signed_headers(b"", "sk")
    with pytest.raises(auth.RequestTimeTooSkewed):
        auth.verify("POST", "/2023-03-30/functions", "", headers, b"", CRED, now=0)
