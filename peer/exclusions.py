"""Peer cases that need a service localcloud does not emulate, each with its reason.

docs/localcloud.md lists the same cases (tests/test_peer_exclusions.py keeps the two in step).
Only these reasons count: KMS, image processing, live channels, callback servers, a real
host or a network timeout the test needs.
"""

from __future__ import annotations

# peer files, as the issue names them (oss2-<version>/tests/<file>)
PEER_FILES = (
    "test_object.py",
    "test_multipart.py",
    "test_iterator.py",
    "test_list_objects_v2.py",
    "test_chinese.py",
    "test_upload.py",
    "test_download.py",
    "test_sign.py",
    "test_put_object_chunked.py",
    "test_headers.py",
    "test_object_versioning.py",
    "test_bucket_inventory.py",
)

EXCLUDED: dict[str, str] = {
    "test_object.py::TestObject::test_timeout": (
        "network timeout: expects a 1 ms connect timeout to fail, which a 127.0.0.1 listener "
        "always beats"
    ),
    "test_object.py::TestObject::test_default_timeout": (
        "network timeout: same as test_timeout, through oss2.defaults.connect_timeout"
    ),
    "test_object.py::TestObject::test_process_object": (
        "image processing: x-oss-process=image/resize and image/info"
    ),
    "test_object.py::TestObject::test_async_process_object": (
        "image processing: x-oss-async-process (video/convert via IMM)"
    ),
    "test_object.py::TestObject::test_sign_url_with_callback": (
        "callback server: a signed upload with x-oss-callback posts to a public callback URL"
    ),
    "test_multipart.py::TestMultipart::test_multipart_sequential": (
        "real host: creates its bucket on the hard-coded endpoint oss-cn-shanghai.aliyuncs.com"
    ),
    "test_upload.py::TestUpload::test_upload_sequenial": (
        "real host: creates its bucket on the hard-coded endpoint oss-cn-shanghai.aliyuncs.com"
    ),
    "test_bucket_inventory.py::TestBucketInventory::test_list_few_bucket_inventory": (
        "KMS: its SSE-KMS KeyId is the key a KMS-encrypted PutObject reports, and localcloud's "
        "OSS has no KMS encryption (501), so the KeyId is empty"
    ),
    "test_iterator.py::TestIterator::test_live_channel_iterator": (
        "live channels: PutLiveChannel / ListLiveChannel (RTMP ingest)"
    ),
}

# test files whose cases pick a bucket at random among plain, RSA-crypto and KMS-crypto:
# the KMS one needs Alibaba's KMS service, so those runs use the RSA-crypto bucket instead
KMS_SUBSTITUTED_FILES = ("test_upload.py", "test_download.py")

# test_object.py reads tests/example.jpg, which the sdist does not ship; its cases check only
# that the upload is 1024 bytes, so the runner writes 1024 bytes of its own there
MISSING_FIXTURES = {"tests/example.jpg": 1024}
