"""PostObject (browser form upload) with a v1-signed policy."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import requests


def _policy(conditions, seconds=600) -> str:
    expiry = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + seconds))
    return base64.b64encode(
        json.dumps({"expiration": expiry, "conditions": conditions}).encode()
    ).decode()


def _post(cloud, bucket, fields, content=b"form bytes", filename="up.txt", secret=None):
    policy = fields.pop("policy", None)
    form = dict(fields)
    if policy is not None:
        sig = hmac.new(
            (secret or cloud.access_key_secret).encode(), policy.encode(), hashlib.sha1
        ).digest()
        form.update(
            policy=policy,
            OSSAccessKeyId=cloud.access_key_id,
            Signature=base64.b64encode(sig).decode(),
        )
    return requests.post(
        f"{cloud.oss_endpoint}/{bucket.bucket_name}",
        data=form,
        files={"file": (filename, content, "text/plain")},
        timeout=10,
    )


def test_post_object_with_signed_policy_stores_the_file(localcloud, bucket):
    policy = _policy([["content-length-range", 0, 1024], ["starts-with", "$key", "uploads/"]])
    resp = _post(
        localcloud,
        bucket,
        {
            "key": "uploads/${filename}",
            "policy": policy,
            "x-oss-meta-from": "form",
            "success_action_status": "201",
        },
    )
    assert resp.status_code == 201, resp.text
    assert b"<Key>uploads/up.txt</Key>" in resp.content
    head = bucket.head_object("uploads/up.txt")
    assert head.headers["x-oss-meta-from"] == "form"
    assert bucket.get_object("uploads/up.txt").read() == b"form bytes"


def test_post_object_with_wrong_signature_or_broken_policy_is_refused(localcloud, bucket):
    policy = _policy([])
    resp = _post(localcloud, bucket, {"key": "k", "policy": policy}, secret="wrong")
    assert resp.status_code == 403 and b"SignatureDoesNotMatch" in resp.content
    resp = _post(
        localcloud, bucket, {"key": "k", "policy": _policy([["starts-with", "$key", "only/"]])}
    )
    assert resp.status_code == 403
    resp = _post(localcloud, bucket, {"key": "k", "policy": _policy([], seconds=-60)})
    assert resp.status_code == 403
    resp = _post(localcloud, bucket, {"key": "k"})  # unsigned on a private bucket
    assert resp.status_code == 403 and b"AccessDenied" in resp.content
    assert not bucket.object_exists("k")


def test_post_without_a_form_is_malformed(localcloud, bucket):
    resp = requests.post(
        f"{localcloud.oss_endpoint}/{bucket.bucket_name}",
        data=b"junk",
        timeout=10,
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert resp.status_code == 400 and b"MalformedPOSTRequest" in resp.content
