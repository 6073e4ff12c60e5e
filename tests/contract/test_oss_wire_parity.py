"""Wire details production clients meet: V2/V4 signatures, reported endpoints, gzip answers,
restore priority, control characters in DeleteMultipleObjects keys, SSE, unread bodies."""

from __future__ import annotations

import gzip
import time
import uuid

import alibabacloud_oss_v2 as ossv2
import oss2
import pytest
import requests

from tests.contract.oss_raw import error_code, signed_request


def _v2_bucket(localcloud, name=None) -> oss2.Bucket:
    auth = oss2.AuthV2(localcloud.access_key_id, localcloud.access_key_secret)
    b = oss2.Bucket(auth, localcloud.oss_endpoint, name or f"s2-{uuid.uuid4().hex[:16]}")
    b.create_bucket()
    return b


def test_auth_v2_signs_requests_and_urls_with_additional_headers(localcloud):
    b = _v2_bucket(localcloud)
    b.put_object("a b/中.txt", b"Hello OSS", headers={"x-oss-meta-k": "v"})
    assert b.get_object("a b/中.txt", byte_range=(1, 3)).read() == b"ell"
    headers = {"custom-header": "abc"}
    url = b.sign_url("PUT", "k", 60, headers=headers, additional_headers={"custom-header"})
    assert "x-oss-signature-version=OSS2" in url
    assert b.put_object_with_url(url, b"xyz", headers=headers).status == 200
    # the header named in x-oss-additional-headers is signed: another value is refused
    with pytest.raises(oss2.exceptions.SignatureDoesNotMatch):
        b.put_object_with_url(url, b"xyz", headers={"custom-header": "other"})
    assert b.get_object("k").read() == b"xyz"


def test_auth_v2_with_a_wrong_secret_or_an_old_x_oss_date_is_refused(localcloud):
    b = _v2_bucket(localcloud)
    wrong = oss2.Bucket(oss2.AuthV2(localcloud.access_key_id, "nope"), b.endpoint, b.bucket_name)
    with pytest.raises(oss2.exceptions.SignatureDoesNotMatch):
        wrong.put_object("k", b"x")
    day_old = oss2.utils.http_date(int(time.time()) - 86400)
    with pytest.raises(oss2.exceptions.ServerError) as exc:
        b.list_objects(headers={"x-oss-date": day_old})
    assert (exc.value.status, exc.value.code) == (403, "RequestTimeTooSkewed")


def test_v4_additional_headers_are_signed_and_a_missing_region_is_oss_s_error(localcloud):
    auth = oss2.AuthV4(localcloud.access_key_id, localcloud.access_key_secret)
    name = f"s4-{uuid.uuid4().hex[:16]}"
    b = oss2.Bucket(auth, localcloud.oss_endpoint, name, region=localcloud.region)
    b.create_bucket()
    headers = {"custom-header": "abc", "x-oss-forbid-overwrite": "true"}
    url = b.sign_url("PUT", "k", 60, headers=headers, additional_headers={"custom-header"})
    b.put_object_with_url(url, b"Hello OSS", headers=headers)
    b.put_object("h", b"x", headers={"custom-header": "abc"})  # header-signed V4 too
    with pytest.raises(oss2.exceptions.ClientError):
        oss2.Bucket(auth, localcloud.oss_endpoint, name).put_object("k2", b"x")
    wrong_region = oss2.Bucket(auth, localcloud.oss_endpoint, name, region="cn-nowhere")
    with pytest.raises(oss2.exceptions.ServerError) as exc:
        wrong_region.put_object("k2", b"x")
    assert exc.value.message == "The signing region in credential is invalid."


def test_a_get_sent_with_a_content_length_does_not_break_the_next_request(localcloud):
    b = _v2_bucket(localcloud)
    b.put_object("k", b"Hello OSS")
    url = b.sign_url("GET", "k", 60)
    headers = {"Content-Length": "9"}
    for _ in range(3):  # the same pooled connection would take the next request as the body
        assert b.get_object_with_url(url, byte_range=(1, 3), headers=headers).read() == b"ell"


def test_listed_bucket_endpoints_are_localcloud_itself(localcloud, bucket, v2client, v2bucket):
    host = localcloud.oss_endpoint.removeprefix("http://")
    service = oss2.Service(bucket.auth, localcloud.oss_endpoint)
    # the session's localcloud holds more buckets than one ListBuckets page
    listed = {b.name: b for b in oss2.BucketIterator(service, prefix=bucket.bucket_name)}
    assert listed[bucket.bucket_name].extranet_endpoint == host
    assert listed[bucket.bucket_name].intranet_endpoint == host
    info = bucket.get_bucket_info()
    assert (info.extranet_endpoint, info.intranet_endpoint) == (host, host)
    # a client that follows the listed endpoint stays here
    follower = oss2.Bucket(
        bucket.auth, listed[bucket.bucket_name].extranet_endpoint, bucket.bucket_name
    )
    follower.put_object("k", b"x")
    v2info = v2client.get_bucket_info(ossv2.GetBucketInfoRequest(bucket=v2bucket)).bucket_info
    assert v2info.extranet_endpoint == host


def test_accept_encoding_gzip_compresses_text_of_at_least_1_kb(localcloud, bucket):
    text = b"line of text\n" * 400
    bucket.put_object("page.txt", text)
    bucket.put_object("tiny.txt", b"x" * 1023)
    bucket.put_object("blob.bin", text)
    url = bucket.sign_url("GET", "page.txt", 60)
    raw = requests.get(url, headers={"Accept-Encoding": "gzip"}, stream=True)
    assert raw.headers["Content-Encoding"] == "gzip"
    assert raw.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in raw.headers and "ETag" not in raw.headers
    assert gzip.decompress(raw.raw.read()) == text
    got = bucket.get_object("page.txt", headers={"Accept-Encoding": "gzip"})
    assert got.read() == text and got.content_length is None
    for key in ("tiny.txt", "blob.bin"):
        plain = bucket.get_object(key, headers={"Accept-Encoding": "gzip"})
        assert "Content-Encoding" not in plain.headers
    ranged = bucket.get_object("page.txt", byte_range=(0, 9), headers={"Accept-Encoding": "gzip"})
    assert ranged.read() == text[:10] and "Content-Encoding" not in ranged.headers


def test_restore_answers_its_priority_and_validates_the_request(bucket):
    from oss2.models import RestoreConfiguration, RestoreJobParameters

    bucket.put_object("cold", b"x", headers={"x-oss-storage-class": "ColdArchive"})
    bucket.put_object("arch", b"x", headers={"x-oss-storage-class": "Archive"})
    bulk = RestoreConfiguration(days=2, job_parameters=RestoreJobParameters("Bulk"))
    result = bucket.restore_object("cold", input=bulk)
    assert result.resp.headers["x-oss-object-restore-priority"] == "Bulk"
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.restore_object("cold", input=RestoreConfiguration(2, RestoreJobParameters("Warp")))
    with pytest.raises(oss2.exceptions.MalformedXml):
        bucket.restore_object("arch", input=bulk)
    assert bucket.restore_object("arch", input=RestoreConfiguration(days=1)).status == 202


def test_delete_multiple_takes_keys_with_xml_invalid_characters(localcloud, bucket):
    key = "中文!@#$%^&*()-=文件\x0c-2.txt"
    bucket.put_object(key, b"x")
    assert bucket.batch_delete_objects([key]).deleted_keys == [key]  # oss2 sends it raw
    assert not bucket.object_exists(key)
    bucket.put_object("a\x0cb", b"x")
    body = b"<Delete><Quiet>false</Quiet><Object><Key>a&#12;b</Key></Object></Delete>"
    resp = signed_request(
        localcloud, "POST", bucket.bucket_name, params={"delete": "", "encoding-type": "url"},
        data=body, headers={"Content-Type": "application/xml"},
    )  # fmt: skip
    assert resp.status_code == 200, resp.text
    assert b"<Key>a%0Cb</Key>" in resp.content
    assert not bucket.object_exists("a\x0cb")


def test_sse_aes256_is_kept_and_kms_is_refused_as_not_emulated(localcloud, bucket):
    bucket.put_object("e", b"x", headers={"x-oss-server-side-encryption": "AES256"})
    assert bucket.head_object("e").headers["x-oss-server-side-encryption"] == "AES256"
    resp = signed_request(
        localcloud, "PUT", bucket.bucket_name, "k",
        headers={"x-oss-server-side-encryption": "KMS"}, data=b"x",
    )  # fmt: skip
    assert (resp.status_code, error_code(resp)) == (501, "NotImplemented")
