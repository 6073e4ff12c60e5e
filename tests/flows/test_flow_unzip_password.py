"""Encrypted packages on the unzip flow: the password comes from the unzip function's
environment and appears nowhere else (flow input, execution history, logs, notification,
reports, page results)."""

from __future__ import annotations

import json
import uuid

import pytest
from jobkit import history, start_stack
from test_flow_unzip import unzip_input
from zipcorpus import zipcrypto

from tests import producers

PASSWORD = f"pw-{uuid.uuid4().hex}"
FILES = [("secret/a.txt", b"alpha " * 300), ("secret/b.txt", b"bravo")]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # DEBUG: every log line the handler can write lands in the function's log
    env = {"OSSBATCH_UNZIP_PASSWORD": PASSWORD, "OSSBATCH_LOG_LEVEL": "DEBUG"}
    s = start_stack(tmp_path_factory.mktemp("unzippw"), env=env)
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
    }
    packages = stack.bucket("pkg")
    import oss2

    for obj in oss2.ObjectIterator(packages):
        if obj.key != key:  # the package: ciphertext, which holds no password either
            places[f"object {obj.key}"] = packages.get_object(obj.key).read().decode("latin-1")
    assert places["unzip function log"], "the handler logged nothing: the check would be empty"
    assert any(k.startswith("object ") and "report" in k for k in places), places.keys()
    leaks = [where for where, text in places.items() if PASSWORD in text]
    assert leaks == []


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
