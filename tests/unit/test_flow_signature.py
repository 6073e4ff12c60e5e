"""The fnf API's RPC signature check agrees with the SDK's own signer on any parameters."""

from __future__ import annotations

from alibabacloud_tea_openapi.utils import Utils
from hypothesis import given
from hypothesis import strategies as st

from localcloud.flow.signature import rpc_signature, verify

keys = st.from_regex(r"[A-Za-z][A-Za-z0-9.]{0,15}", fullmatch=True)
values = st.text(max_size=40)


@given(
    st.dictionaries(keys, values, max_size=8),
    st.sampled_from(["GET", "POST"]),
    st.text(min_size=1, max_size=30),
)
def test_signature_matches_the_sdk_signer(params, method, secret):
    assert rpc_signature(params, method, secret) == Utils.get_rpcsignature(params, method, secret)


@given(st.dictionaries(keys, values, min_size=1, max_size=6), st.text(min_size=1, max_size=20))
def test_a_signed_request_verifies_and_a_tampered_one_does_not(params, secret):
    params = {k: v for k, v in params.items() if k != "Signature"}
    signed = {**params, "Signature": Utils.get_rpcsignature(params, "POST", secret)}
    assert verify(signed, "POST", secret)
    assert not verify(signed, "POST", secret + "x")
    key = next(iter(params))
    tampered = {**signed, key: signed[key] + "!"}
    assert not verify(tampered, "POST", secret)
