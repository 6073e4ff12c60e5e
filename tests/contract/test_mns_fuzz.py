"""Hostile input never crashes the MNS listener: any signed request gets an MNS answer < 500."""

from __future__ import annotations

import base64
import hashlib
import sys
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localcloud.mns import auth
from localcloud.mns.api import build_app
from localcloud.mns.service import MnsService

sys.path.insert(0, str(Path(__file__).parent))
from fc_server import ServedApp  # noqa: E402

CREDENTIALS = {"access_key_id": "LTAIfuzz", "access_key_secret": "fuzz", "security_token": ""}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    service = MnsService(tmp_path_factory.mktemp("mns-fuzz"))
    service.create_queue("fuzz")
    served = ServedApp(build_app(service, CREDENTIALS))
    yield served
    served.stop()
    service.close()


def signed_request(url: str, method: str, resource: str, body: bytes) -> requests.Response:
    headers = {"date": formatdate(usegmt=True), "x-mns-version": "2015-06-06"}
    if body:
        headers["content-md5"] = base64.b64encode(hashlib.md5(body).hexdigest().encode()).decode()
        headers["content-type"] = "text/xml;charset=UTF-8"
    signature = auth.sign(
        CREDENTIALS["access_key_secret"], auth.string_to_sign(method, headers, resource)
    )
    headers["authorization"] = f"MNS {CREDENTIALS['access_key_id']}:{signature}"
    return requests.request(method, url + resource, data=body, headers=headers, timeout=10)


segment = st.text(alphabet="abcXYZ019-_.%~", min_size=0, max_size=12)
query_value = st.text(alphabet="abc019-=&+ ", max_size=10)
xml_fragments = st.sampled_from(
    [
        b"<Message><MessageBody>x</MessageBody></Message>",
        b"<Messages><Message><MessageBody>y</MessageBody></Message></Messages>",
        b"<ReceiptHandles><ReceiptHandle>1-0000000000000000</ReceiptHandle></ReceiptHandles>",
        b"<Queue><VisibilityTimeout>abc</VisibilityTimeout></Queue>",
        b"<Queue><PollingWaitSeconds>99</PollingWaitSeconds></Queue>",
        b"<Messages>" + b"<Message><MessageBody>z</MessageBody></Message>" * 17 + b"</Messages>",
        b"",
    ]
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE"]),
    path=st.sampled_from(
        [
            "/queues",
            "/queues/fuzz",
            "/queues/fuzz/messages",
            "/queues/{s}",
            "/queues/{s}/messages",
            "/{s}",
            "/topics/{s}",
        ]
    ),
    name=segment,
    params=st.dictionaries(
        st.sampled_from(
            [
                "waitseconds",
                "numOfMessages",
                "ReceiptHandle",
                "VisibilityTimeout",
                "peekonly",
                "metaoverride",
            ]
        ),
        query_value,
        max_size=3,
    ),
    body=st.one_of(xml_fragments, st.binary(max_size=64)),
)
def test_any_signed_request_gets_an_mns_answer(server, method, path, name, params, body):
    resource = path.replace("{s}", quote(name, safe="") or "x")
    if params:
        resource += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    if "waitseconds" in params:  # keep the run short: no real long polls
        resource = resource.replace(
            f"waitseconds={quote(params['waitseconds'], safe='')}", "waitseconds=0"
        )
    response = signed_request(server.url, method, resource, body)
    assert response.status_code < 500, response.content
    assert response.headers["x-mns-request-id"]
    if response.status_code >= 400 and b"<Errors" in response.content:
        # a batch whose entries failed answers per receipt handle, as MNS does
        assert method == "DELETE" and resource.split("?")[0].endswith("/messages")
        assert b"<ErrorCode>" in response.content and b"<ReceiptHandle>" in response.content
    elif response.status_code >= 400:
        assert b"<Error" in response.content and b"<Code>" in response.content
