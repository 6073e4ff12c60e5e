"""Signatures and access: v1, v4, STS token, wrong secret, unknown key, anonymous on private."""

from __future__ import annotations

import oss2
import pytest
import requests


def test_v4_signature_verifies_for_put_get_and_list(localcloud, bucket):
    auth = oss2.AuthV4(localcloud.access_key_id, localcloud.access_key_secret)
    b4 = oss2.Bucket(auth, localcloud.oss_endpoint, bucket.bucket_name, region=localcloud.region)
    b4.put_object("v4/key with space+中", b"v4 body", headers={"x-oss-meta-a": "b"})
    assert b4.get_object("v4/key with space+中").read() == b"v4 body"
    assert [o.key for o in oss2.ObjectIteratorV2(b4, prefix="v4/")] == ["v4/key with space+中"]


def test_v4_with_another_region_is_refused(localcloud, bucket):
    auth = oss2.AuthV4(localcloud.access_key_id, localcloud.access_key_secret)
    b4 = oss2.Bucket(auth, localcloud.oss_endpoint, bucket.bucket_name, region="us-west-1")
    with pytest.raises(oss2.exceptions.OssError) as err:
        b4.put_object("k", b"x")
    assert err.value.status == 400


def test_wrong_secret_is_signature_does_not_match(localcloud, bucket):
    bad = oss2.Bucket(
        oss2.Auth(localcloud.access_key_id, "not-the-secret"),
        localcloud.oss_endpoint,
        bucket.bucket_name,
    )
    with pytest.raises(oss2.exceptions.OssError) as err:
        bad.put_object("k", b"x")
    assert (err.value.status, err.value.code) == (403, "SignatureDoesNotMatch")


def test_unknown_access_key_is_invalid_access_key_id(localcloud, bucket):
    bad = oss2.Bucket(
        oss2.Auth("NOSUCHKEY", localcloud.access_key_secret),
        localcloud.oss_endpoint,
        bucket.bucket_name,
    )
    with pytest.raises(oss2.exceptions.OssError) as err:
        bad.get_object("k")
    assert (err.value.status, err.value.code) == (403, "InvalidAccessKeyId")


def test_anonymous_on_private_bucket_is_access_denied(localcloud, bucket):
    bucket.put_object("private", b"x")
    anon = oss2.Bucket(oss2.AnonymousAuth(), localcloud.oss_endpoint, bucket.bucket_name)
    with pytest.raises(oss2.exceptions.AccessDenied):
        anon.get_object("private")
    raw = requests.get(f"{localcloud.oss_endpoint}/{bucket.bucket_name}/private", timeout=10)
    assert raw.status_code == 403 and b"<Code>AccessDenied</Code>" in raw.content
    assert raw.headers["x-oss-request-id"]


def test_anonymous_read_on_public_read_bucket_is_allowed(localcloud, bucket):
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    bucket.put_object("pub", b"open")
    anon = oss2.Bucket(oss2.AnonymousAuth(), localcloud.oss_endpoint, bucket.bucket_name)
    assert anon.get_object("pub").read() == b"open"
    with pytest.raises(oss2.exceptions.AccessDenied):
        anon.put_object("pub", b"overwrite")


def test_sts_token_is_accepted_when_it_matches(localcloud, bucket):
    auth = oss2.StsAuth(
        localcloud.access_key_id, localcloud.access_key_secret, localcloud.security_token
    )
    sts = oss2.Bucket(auth, localcloud.oss_endpoint, bucket.bucket_name)
    sts.put_object("sts", b"x")
    assert sts.get_object("sts").read() == b"x"


def test_wrong_sts_token_is_refused(localcloud, bucket):
    auth = oss2.StsAuth(localcloud.access_key_id, localcloud.access_key_secret, "forged-token")
    sts = oss2.Bucket(auth, localcloud.oss_endpoint, bucket.bucket_name)
    with pytest.raises(oss2.exceptions.OssError) as err:
        sts.put_object("sts", b"x")
    assert err.value.status == 403
