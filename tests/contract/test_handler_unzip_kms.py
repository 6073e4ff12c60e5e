"""The unzip handler reads the password of encrypted packages from a KMS secret at run time
(unzip.password {source: kms}), through the real KMS SDK against localcloud's KMS; it caches
the value per process and names the secret when it cannot read it."""

from __future__ import annotations

import uuid

import pytest
from alibabacloud_kms20160120 import models as m

from handlers import passwords
from handlers import unzip as unzip_handler
from handlers.errors import PasswordUnavailable, SystemicError
from handlers.events import UnzipEvent, parse_event
from tests import zipcorpus
from tests.contract.test_kms_api import kms
from tests.handlerkit import fc_context, read_report

FILES = [("secret.txt", b"top secret"), ("two.txt", b"second")]


@pytest.fixture
def secret(unzip_env, localcloud, monkeypatch):
    """A fresh secret holding the password, and the unzip function's variables naming it."""
    name = f"ossbatch/unzip-{uuid.uuid4().hex[:8]}"
    kms(localcloud).create_secret(
        m.CreateSecretRequest(secret_name=name, version_id="v1", secret_data="kms-pw")
    )
    monkeypatch.delenv("OSSBATCH_UNZIP_PASSWORD", raising=False)
    monkeypatch.setenv("OSSBATCH_UNZIP_PASSWORD_SECRET", name)
    monkeypatch.setenv("OSSBATCH_KMS_ENDPOINT", localcloud.kms_endpoint)
    passwords.forget_cached()
    yield name
    passwords.forget_cached()


def run(bucket, data: bytes, cloud, key: str) -> dict:
    bucket.put_object(key, data)
    event = {"job_id": "u1", "package": {"bucket": bucket.bucket_name, "key": key}}
    return unzip_handler.run(parse_event(UnzipEvent, event), fc_context(cloud))


def outputs(bucket, prefix: str) -> dict[str, bytes]:
    import oss2

    return {
        o.key: bucket.get_object(o.key).read() for o in oss2.ObjectIterator(bucket, prefix=prefix)
    }


def test_an_encrypted_package_extracts_with_the_password_from_kms(secret, localcloud, bucket):
    data = zipcorpus.zipcrypto(FILES, b"kms-pw")
    result = run(bucket, data, localcloud, "in/pkg.zip")
    assert result["all_succeeded"], result
    assert outputs(bucket, "out/pkg/") == {f"out/pkg/{n}": b for n, b in FILES}


def test_the_value_is_read_once_per_process_and_a_new_process_reads_the_rotated_one(
    secret, localcloud, bucket
):
    data = zipcorpus.zipcrypto(FILES, b"kms-pw")
    assert run(bucket, data, localcloud, "in/one.zip")["all_succeeded"]
    kms(localcloud).put_secret_value(
        m.PutSecretValueRequest(secret_name=secret, version_id="v2", secret_data="rotated")
    )
    # this process (a warm FC instance) keeps the value it read
    assert run(bucket, data, localcloud, "in/two.zip")["all_succeeded"]
    passwords.forget_cached()  # what a fresh instance starts with
    wrong = run(bucket, data, localcloud, "in/three.zip")
    assert wrong["counters"]["failed"] == 2
    assert {r["code"] for r in read_report(bucket, wrong["report_key"])} == {"WrongPassword"}
    rotated = zipcorpus.zipcrypto(FILES, b"rotated")
    assert run(bucket, rotated, localcloud, "in/four.zip")["all_succeeded"]


def test_a_missing_secret_fails_the_page_naming_it_before_any_entry_is_written(
    unzip_env, localcloud, bucket, monkeypatch
):
    monkeypatch.setenv("OSSBATCH_UNZIP_PASSWORD_SECRET", "ossbatch/never-created")
    monkeypatch.setenv("OSSBATCH_KMS_ENDPOINT", localcloud.kms_endpoint)
    passwords.forget_cached()
    data = zipcorpus.zipcrypto(FILES, b"kms-pw")
    with pytest.raises(PasswordUnavailable, match=r"'ossbatch/never-created' does not exist"):
        run(bucket, data, localcloud, "in/missing.zip")
    assert outputs(bucket, "out/missing/") == {}


def test_a_secret_name_without_an_endpoint_is_a_deployment_error(
    unzip_env, localcloud, monkeypatch
):
    monkeypatch.setenv("OSSBATCH_UNZIP_PASSWORD_SECRET", "ossbatch/x")
    monkeypatch.delenv("OSSBATCH_KMS_ENDPOINT", raising=False)
    passwords.forget_cached()
    from handlers.settings import UnzipSettings

    with pytest.raises(SystemicError, match="OSSBATCH_KMS_ENDPOINT is unset"):
        passwords.package_password(UnzipSettings.from_environ(), fc_context(localcloud))


def test_a_binary_secret_is_the_password_as_raw_bytes(secret, localcloud, bucket, monkeypatch):
    import base64

    raw = bytes(range(200, 216))  # not UTF-8: only a binary secret can hold it
    name = f"{secret}-bin"
    kms(localcloud).create_secret(
        m.CreateSecretRequest(
            secret_name=name,
            version_id="v1",
            secret_data=base64.b64encode(raw).decode(),
            secret_data_type="binary",
        )
    )
    monkeypatch.setenv("OSSBATCH_UNZIP_PASSWORD_SECRET", name)
    result = run(bucket, zipcorpus.zipcrypto(FILES, raw), localcloud, "in/bin.zip")
    assert result["all_succeeded"], result
    assert outputs(bucket, "out/bin/") == {f"out/bin/{n}": b for n, b in FILES}


def kms_requests(cloud) -> dict[str, int]:
    """localcloud KMS's own request counters (admin /counters), by action."""
    return cloud.admin("GET", "/counters").get("kms", {})


def test_an_unencrypted_package_extracts_without_any_kms_request(secret, localcloud, bucket):
    plain = zipcorpus.build(FILES)
    before = kms_requests(localcloud)
    result = run(bucket, plain, localcloud, "in/plain.zip")
    assert result["all_succeeded"], result
    assert outputs(bucket, "out/plain/") == {f"out/plain/{n}": b for n, b in FILES}
    assert kms_requests(localcloud) == before  # not one request, of any action


def test_an_encrypted_package_after_plain_ones_reads_the_secret_once_and_extracts(
    secret, localcloud, bucket
):
    before = kms_requests(localcloud).get("GetSecretValue", 0)
    assert run(bucket, zipcorpus.build(FILES), localcloud, "in/p1.zip")["all_succeeded"]
    assert kms_requests(localcloud).get("GetSecretValue", 0) == before
    encrypted = zipcorpus.zipcrypto(FILES, b"kms-pw")
    assert run(bucket, encrypted, localcloud, "in/e1.zip")["all_succeeded"]
    assert run(bucket, encrypted, localcloud, "in/e2.zip")["all_succeeded"]
    assert outputs(bucket, "out/e2/") == {f"out/e2/{n}": b for n, b in FILES}
    # the first encrypted entry read it; the process cache served the second package
    assert kms_requests(localcloud).get("GetSecretValue", 0) == before + 1


def test_a_page_past_the_last_encrypted_entry_and_the_package_delete_read_no_secret(
    secret, localcloud, bucket
):
    mixed = zipcorpus.zipcrypto(
        [("locked.txt", b"locked"), ("open.txt", b"open")], b"kms-pw", plain=("open.txt",)
    )
    bucket.put_object("in/mixed.zip", mixed)
    package = {"bucket": bucket.bucket_name, "key": "in/mixed.zip"}
    before = kms_requests(localcloud)
    # resumed at entry 1: only the unencrypted entry is left
    page = unzip_handler.run(
        parse_event(UnzipEvent, {"job_id": "u1", "package": package, "marker": 1}),
        fc_context(localcloud),
    )
    assert page["done"] and page["counters"]["extracted"] == 1, page
    assert bucket.get_object("out/mixed/open.txt").read() == b"open"
    assert kms_requests(localcloud) == before
    # the whole package: the encrypted entry needs the secret (one read, then cached)
    first = unzip_handler.run(
        parse_event(UnzipEvent, {"job_id": "u1", "package": package}), fc_context(localcloud)
    )
    assert first["all_succeeded"], first
    assert bucket.get_object("out/mixed/locked.txt").read() == b"locked"
    assert kms_requests(localcloud).get("GetSecretValue", 0) == before.get("GetSecretValue", 0) + 1
    passwords.forget_cached()  # a fresh instance: deleting plans the package but reads nothing
    after = kms_requests(localcloud)
    deleted = unzip_handler.run(
        parse_event(UnzipEvent, {"job_id": "u1", "action": "delete_package", "package": package}),
        fc_context(localcloud),
    )
    assert deleted["deleted"] and not bucket.object_exists("in/mixed.zip"), deleted
    assert kms_requests(localcloud) == after
