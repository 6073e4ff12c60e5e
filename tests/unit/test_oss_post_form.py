"""PostObject form parsing (no HTTP): well-formed forms parse, anything else is an OSS error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localcloud.oss import errors
from localcloud.oss.api_post import _boundary, _parse_form

B = b"----b0undary"


def _form(fields: dict[str, bytes], file_body: bytes | None, filename="f.txt") -> bytes:
    out = b""
    for name, value in fields.items():
        out += (
            b"--"
            + B
            + b'\r\nContent-Disposition: form-data; name="'
            + name.encode()
            + b'"\r\n\r\n'
            + value
            + b"\r\n"
        )
    if file_body is not None:
        out += (
            b"--"
            + B
            + b'\r\nContent-Disposition: form-data; name="file"; filename="'
            + filename.encode()
            + b'"\r\nContent-Type: text/plain\r\n\r\n'
            + file_body
            + b"\r\n"
        )
    return out + b"--" + B + b"--\r\n"


@given(
    fields=st.dictionaries(
        st.sampled_from(["key", "policy", "x-oss-meta-a", "Signature", "OSSAccessKeyId"]),
        st.text(alphabet="abc/${}-_=+", max_size=20).map(str.encode),
        max_size=5,
    ),
    body=st.binary(max_size=200),
)
def test_well_formed_forms_give_fields_and_the_exact_file_bytes(fields, body):
    form = _form(fields, body)
    parsed, file_part = _parse_form(form, B)
    start, end, filename, ctype = file_part
    assert form[start:end] == body
    assert filename == "f.txt" and ctype == "text/plain"
    assert {k.lower(): v.decode() for k, v in fields.items()} == {
        k.lower(): v for k, v in parsed.items()
    }


@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_never_escape_as_anything_but_an_oss_error(data):
    try:
        _parse_form(data, B)
    except errors.OssError as exc:
        assert exc.status == 400


@given(cut=st.integers(0, 200))
def test_truncated_forms_are_malformed(cut):
    form = _form({"key": b"k"}, b"x" * 100)
    truncated = form[: min(cut, len(form) - len(B) - 8)]
    with pytest.raises(errors.OssError):
        _parse_form(truncated, B)


@pytest.mark.parametrize(
    "ctype", ["text/plain", "multipart/form-data", "multipart/form-data; charset=x"]
)
def test_content_type_without_boundary_is_malformed_post(ctype):
    with pytest.raises(errors.MalformedPOSTRequest):
        _boundary(ctype)


def test_boundary_is_read_quoted_or_not():
    assert _boundary('multipart/form-data; boundary="abc"') == b"abc"
    assert _boundary("multipart/form-data; boundary=abc") == b"abc"


def test_field_that_is_not_utf8_is_malformed_post():
    with pytest.raises(errors.MalformedPOSTRequest):
        _parse_form(_form({"key": b"\xff\xfe"}, b"x"), B)


@given(
    doc=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(["expiration", "conditions", "x"]), children, max_size=3
            )
        ),
        max_leaves=12,
    )
)
def test_any_signed_policy_document_is_accepted_or_an_oss_error(doc):
    import base64
    import hashlib
    import hmac
    import json
    from types import SimpleNamespace

    from localcloud.oss.api_post import _check_policy
    from localcloud.oss.auth import Credentials

    svc = SimpleNamespace(auth=SimpleNamespace(creds=Credentials("AK", "SK")))
    policy = base64.b64encode(json.dumps(doc).encode()).decode()
    signature = base64.b64encode(hmac.new(b"SK", policy.encode(), hashlib.sha1).digest()).decode()
    fields = {"policy": policy, "ossaccesskeyid": "AK", "signature": signature}
    try:
        assert _check_policy(svc, "b", fields, "k", 1) is True
    except errors.OssError as exc:
        assert exc.status in (400, 403)
