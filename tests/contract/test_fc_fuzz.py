"""Hostile input never crashes the FC API: any signed request gets an FC answer < 500."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers

from localcloud.fc import auth
from localcloud.fc.api import build_app
from localcloud.fc.runtime import FcRuntime
from tests.fc_handlers import CODE_ROOT

sys.path.insert(0, str(Path(__file__).parent))
from fc_server import ServedApp  # noqa: E402

CREDENTIALS = {"access_key_id": "LTAIfcfuzz", "access_key_secret": "fuzz", "security_token": ""}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    runtime = FcRuntime(
        None, CREDENTIALS, data_dir=tmp_path_factory.mktemp("fc-fuzz"), code_root=CODE_ROOT
    )
    runtime.create_function({"name": "target", "handler": "basic.echo"})
    served = ServedApp(build_app(runtime))
    yield served
    served.stop()
    runtime.close()


def signed(served, method: str, path: str, query: str, body: bytes) -> requests.Response:
    headers = {
        "host": served.endpoint,
        "x-acs-date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "content-type": "application/json",
    }
    names = sorted(headers)
    signature = auth.expected_signature(
        method,
        path,
        query,
        Headers(headers),
        names,
        headers["x-acs-content-sha256"],
        CREDENTIALS["access_key_secret"],
    )
    headers["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={CREDENTIALS['access_key_id']},"
        f"SignedHeaders={';'.join(names)},Signature={signature}"
    )
    url = f"{served.url}{path}" + (f"?{query}" if query else "")
    return requests.request(method, url, data=body, headers=headers, timeout=20)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "functionName",
                    "handler",
                    "runtime",
                    "timeout",
                    "memorySize",
                    "environmentVariables",
                    "code",
                    "zipFile",
                    "instanceConcurrency",
                    "triggerName",
                    "triggerType",
                    "sourceArn",
                    "triggerConfig",
                    "reservedConcurrency",
                    "maxAsyncRetryAttempts",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=10,
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    path=st.sampled_from(
        [
            "/2023-03-30/functions",
            "/2023-03-30/functions/target",
            "/2023-03-30/functions/missing",
            "/2023-03-30/functions/target/triggers",
            "/2023-03-30/functions/target/triggers/t",
            "/2023-03-30/functions/target/concurrency",
            "/2023-03-30/functions/target/async-invoke-config",
            "/2023-03-30/elsewhere",
        ]
    ),
    query=st.sampled_from(["", "limit=0", "limit=abc", "limit=5&prefix=t", "nextToken=zz"]),
    body=st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=40)),
)
def test_any_signed_request_gets_an_fc_answer(served, method, path, query, body):
    response = signed(served, method, path, query, body)
    assert response.status_code < 500, response.content
    assert response.headers["x-fc-request-id"]
    if response.status_code >= 400:
        error = response.json()
        assert error["Code"] and error["Message"] and error["RequestId"]
