"""Encrypted packages on the unzip flow: the password comes from the unzip function's
environment (source env) or from a KMS secret read at run time (source kms), and appears
nowhere else (flow input, execution history, logs, notification, reports, page results;
with kms, not in the function's configuration either). A role without kms:GetSecretValue
fails the package with an error naming the secret and the grant."""

from __future__ import annotations

import json
import uuid

import pytest
from alibabacloud_kms20160120 import models as kms_models
from alibabacloud_kms20160120.client import Client as KmsClient
from alibabacloud_tea_openapi.models import Config
from jobkit import ACCOUNT, REGION, history, start_stack
from test_flow_unzip import unzip_input
from zipcorpus import zipcrypto

from tests import producers
from tests.contract.ramkit import allow

PASSWORD = f"pw-{uuid.uuid4().hex}"
FILES = [("secret/a.txt", b"alpha " * 300), ("secret/b.txt", b"bravo")]
SECRET = "ossbatch/unzip-password"
SECRET_ARN = f"acs:kms:{REGION}:{ACCOUNT}:secret/{SECRET}"


def kms_client(cloud) -> KmsClient:
    return KmsClient(
        Config(
            access_key_id=cloud.access_key_id,
            access_key_secret=cloud.access_key_secret,
            endpoint=cloud.kms_endpoint.removeprefix("http://"),
            protocol="http",
            region_id=cloud.region,
        )
    )


def kms_environment(cloud) -> dict:
    # as the deployment sets it for unzip.password {source: kms}: the name, never the value
    return {
        "OSSBATCH_UNZIP_PASSWORD_SECRET": SECRET,
        "OSSBATCH_KMS_ENDPOINT": cloud.kms_endpoint,
        "OSSBATCH_LOG_LEVEL": "DEBUG",
    }


def start_kms_stack(tmp, grants: tuple[dict, ...]):
    s = start_stack(tmp, env=kms_environment, worker_grants=grants)
    kms_client(s.oss).create_secret(
        kms_models.CreateSecretRequest(secret_name=SECRET, version_id="v1", secret_data=PASSWORD)
    )
    return s


@pytest.fixture(scope="module", params=["env", "kms"])
def stack(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"unzippw-{request.param}")
    if request.param == "env":
        # DEBUG: every log line the handler can write lands in the function's log
        env = {"OSSBATCH_UNZIP_PASSWORD": PASSWORD, "OSSBATCH_LOG_LEVEL": "DEBUG"}
        s = start_stack(tmp, env=env)
    else:
        s = start_kms_stack(tmp, (allow("kms:GetSecretValue", SECRET_ARN),))
    yield s
    s.close()


def run_flow(stack, payload: bytes) -> tuple[str, object, dict]:
    packages = stack.bucket("pkg")
    key = f"incoming/{uuid.uuid4().hex[:6]}.zip"
    etag = packages.put_object(key, payload).etag.strip('"').upper()
    doc = unzip_input(stack, key, etag, delete=False)
    stack.engine.start_execution("ossbatch-unzip", doc["job_id"], json.dumps(doc))
    record = stack.engine.wait("ossbatch-unzip", doc["job_id"], 120)
    messages = [m.body for m in stack.mns.receive("notify", 16)]
    mine = [json.loads(m) for m in messages if key in m]
    assert len(mine) == 1, messages
    return key, record, mine[0]


def assert_nowhere(stack, key: str, record, message: dict) -> None:
    places = {
        "flow input": record.input,
        "flow output": record.output or "",
        "execution history": json.dumps(
            [
                vars(e) if hasattr(e, "__dict__") else e
                for e in history(stack.engine, "ossbatch-unzip", record.name)
            ],
            default=str,
        ),
        "notification": json.dumps(message),
        "unzip function log": stack.fc.log_path("ossbatch-unzip").read_text(errors="replace"),
        "unzip function configuration": json.dumps(
            vars(stack.fc.get_function("ossbatch-unzip")), default=str
        ),
    }
    packages = stack.bucket("pkg")
    import oss2

    for obj in oss2.ObjectIterator(packages):
        if obj.key != key:  # the package: ciphertext, which holds no password either
            places[f"object {obj.key}"] = packages.get_object(obj.key).read().decode("latin-1")
    assert places["unzip function log"], "the handler logged nothing: the check would be empty"
    assert any(k.startswith("object ") and "report" in k for k in places), places.keys()
    leaks = [where for where, text in places.items() if PASSWORD in text]
    if "OSSBATCH_UNZIP_PASSWORD_SECRET" in places["unzip function configuration"]:
        assert leaks == []  # kms: the function's configuration holds only the secret's name
    else:  # env: the function's own variable is where the password lives
        assert leaks == ["unzip function configuration"]


def test_zipcrypto_package_extracts_and_the_password_is_nowhere_but_the_function(stack):
    key, record, message = run_flow(stack, zipcrypto(FILES, PASSWORD.encode()))
    assert record.status == "Succeeded" and message["status"] == "succeeded", message
    packages = stack.bucket("pkg")
    for name, body in FILES:
        assert packages.get_object(message["package_prefix"] + name).read() == body
    assert_nowhere(stack, key, record, message)


def test_seven_zip_aes256_package_extracts_with_the_environment_password(stack, tmp_path):
    payload = producers.seven_zip(tmp_path, "-mem=AES256", password=PASSWORD)
    key, record, message = run_flow(stack, payload)
    assert message["status"] == "succeeded" and message["failed_entries"] == 0, message
    packages = stack.bucket("pkg")
    for name, body in producers.TREE.items():
        assert packages.get_object(message["package_prefix"] + name).read() == body
    assert_nowhere(stack, key, record, message)


def test_a_role_without_the_kms_grant_fails_the_package_naming_the_secret_and_the_grant(
    tmp_path,
):
    stack = start_kms_stack(tmp_path, ())  # the worker role lacks kms:GetSecretValue
    try:
        key, record, message = run_flow(stack, zipcrypto(FILES, PASSWORD.encode()))
    finally:
        stack.close()
    assert record.status == "Failed" and message["status"] == "failed", message
    assert message["error"] == "FC.SecretAccessDenied", message  # FC prefixes the type
    detail = message["detail"]
    assert SECRET in detail and "grant kms:GetSecretValue" in detail and SECRET_ARN in detail
    assert "Traceback" not in detail and PASSWORD not in json.dumps(message)
