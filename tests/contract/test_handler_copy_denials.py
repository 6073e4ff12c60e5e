"""A copy whose role may read the source but not write the destination fails the page with
AccessDenied naming the destination bucket and the refused action, not the source.

The handler runs in-process with real STS credentials of a localcloud RAM role (taken from a
probe function of that role), so every OSS request is authorized as in a deployment."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace

import oss2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers import copy as copy_handler
from handlers.clients import denied_bucket
from handlers.errors import AccessDenied
from handlers.events import CopyEvent, parse_event
from tests.contract.ramkit import allow, invoke, make_probe, make_role
from tests.handlerkit import fc_context


def _role_context(cloud, *statements):
    tag = uuid.uuid4().hex[:10]
    arn = make_role(cloud, f"copyden-{tag}", "fc.aliyuncs.com", *statements)
    make_probe(cloud, f"copyden-{tag}", arn, handler="credentials")
    creds = json.loads(invoke(cloud, f"copyden-{tag}", b"{}")[0])
    ctx = fc_context(cloud)
    ctx.credentials = SimpleNamespace(**creds)
    return ctx


def _objects(cloud, bucket) -> str:
    return f"acs:oss:*:{cloud.account_id}:{bucket}/*"


def test_a_refused_destination_write_names_the_destination_and_the_action(
    env, localcloud, bucket, dest
):
    bucket.put_object("src/a", b"a")
    ctx = _role_context(
        localcloud,
        allow(["oss:GetObject", "oss:ListObjects"], _objects(localcloud, bucket.bucket_name)),
        allow("oss:ListObjects", f"acs:oss:*:{localcloud.account_id}:{bucket.bucket_name}"),
        allow("oss:ListObjects", f"acs:oss:*:{localcloud.account_id}:{dest.bucket_name}"),
        allow("oss:GetObject", _objects(localcloud, dest.bucket_name)),
    )
    event = {
        "job_id": "job1",
        "listing": {"bucket": bucket.bucket_name, "prefix": "src/"},
        "dest": {"bucket": dest.bucket_name, "prefix": "copied/", "storage_class": "IA"},
    }
    with pytest.raises(AccessDenied) as raised:
        copy_handler.run(parse_event(CopyEvent, event), ctx)
    message = str(raised.value)
    assert f"{dest.bucket_name!r} (destination)" in message, message
    assert "oss:PutObject" in message, message
    with pytest.raises(oss2.exceptions.NoSuchKey):
        dest.head_object("copied/src/a")


@given(
    bucket=st.from_regex(r"[a-z0-9][a-z0-9-]{2,62}", fullmatch=True),
    key=st.text(min_size=0, max_size=40),
)
def test_the_denied_bucket_is_read_from_any_oss_auth_resource(bucket, key):
    resource = f"acs:oss:*:1234567890:{bucket}" + (f"/{key}" if key else "")
    exc = oss2.exceptions.AccessDenied(403, {}, b"", {"AuthResource": resource})
    assert denied_bucket(exc) == bucket


def test_a_denial_without_an_oss_resource_names_no_bucket():
    for details in ({}, {"AuthResource": "acs:mns:*:1:/queues/q"}, {"AuthResource": "x"}):
        assert denied_bucket(oss2.exceptions.AccessDenied(403, {}, b"", details)) is None
